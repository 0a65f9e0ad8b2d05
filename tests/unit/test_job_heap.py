"""The process freezes its start-up heap once (bot/startup_heap.py, called where updates are
served and where jobs fire): a full collection, then gc.freeze,
so later full collections no longer walk the ~370,000 objects of aiogram's models and
SQLAlchemy's mappers with the event loop stopped. Here the collector itself is replaced by a
recorder: freezing the test process's heap would keep its garbage for the rest of the run."""

from __future__ import annotations

import pytest

from bot import startup_heap


def test_the_start_up_heap_is_collected_then_frozen_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def collect(*_: object) -> int:
        calls.append("collect")
        return 0

    monkeypatch.setattr(startup_heap, "_frozen", False)
    monkeypatch.setattr(startup_heap.gc, "collect", collect)
    monkeypatch.setattr(startup_heap.gc, "freeze", lambda: calls.append("freeze"))

    startup_heap.freeze_startup_heap()
    startup_heap.freeze_startup_heap()  # a second start (a scheduler taking over) does nothing

    assert calls == ["collect", "freeze"]
