"""The notifier's `sending` mark: what a dead sender leaves behind is sent again on the next
start; a stop lets the call under way finish; a 429 or a 5xx puts the row back to `pending`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import update
from sqlmodel import col, select

from bot.notifier import PENDING, SENDING, SENT, Limits, OutboxNotifier, _Row
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from storage.db import Database
from storage.models import Delivery
from storage.outbox import enqueue

TOKEN = "7000000004:TEST-recovery"
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
USERS = [7_500_000_100 + i for i in range(3)]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(limits=FloodLimits.telegram()) as emulator:
        emulator.add_bot(TOKEN, "gridbot_recovery_bot")
        for uid in USERS:
            emulator.ensure_user(uid, started=True)
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, session=emu.bot_session())
    yield b
    await b.session.close()


async def queue(db: Database) -> None:
    async with db.session() as s:
        for uid in USERS:
            await enqueue(
                s, key=f"d:{uid}", kind="digest", chat_id=uid, text=f"日报 {uid}", now=NOW
            )


async def rows(db: Database) -> dict[str, Delivery]:
    async with db.session() as s:
        return {d.key: d for d in (await s.exec(select(Delivery))).all()}


def notifier(db: Database, bot: Bot, limits: Limits = Limits()) -> OutboxNotifier:
    return OutboxNotifier(db, bot, clock=ManualClock(NOW), limits=limits)


async def test_rows_left_sending_by_a_dead_sender_go_out_again(
    db: Database, emu: Emulator, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await queue(db)
    async with db.session() as s:  # as a process killed mid-call leaves them
        await s.exec(
            update(Delivery).where(col(Delivery.key) == f"d:{USERS[1]}").values(status=SENDING)
        )
        await s.exec(
            update(Delivery)
            .where(col(Delivery.key) == f"d:{USERS[2]}")
            .values(status=SENT, message_id=1)
        )
    n = notifier(db, bot)
    with caplog.at_level(logging.WARNING, logger="bot.notifier"):
        await n.start()
        try:
            await n.drain()
        finally:
            await n.stop()
    done = await rows(db)
    assert {d.status for d in done.values()} == {SENT}
    assert [m["text"] for m in emu.bot_messages(USERS[0])] == [f"日报 {USERS[0]}"]
    assert [m["text"] for m in emu.bot_messages(USERS[1])] == [f"日报 {USERS[1]}"]
    assert emu.bot_messages(USERS[2]) == []  # sent before: never again
    assert f"d:{USERS[1]}" in caplog.text and "in flight" in caplog.text


async def test_stop_lets_the_call_under_way_finish(db: Database, emu: Emulator, bot: Bot) -> None:
    async with db.session() as s:
        await enqueue(s, key="slow", kind="digest", chat_id=USERS[0], text="慢", now=NOW)
    emu.faults.delay(0.3, n=1, method="sendMessage", apply=True)
    n = notifier(db, bot)
    await n.start()
    n.wake()
    assert await emu.changed.wait_for(lambda: emu.bot_messages(USERS[0]), timeout=5)
    assert (await rows(db))["slow"].status == SENDING  # delivered, the answer not back yet
    await n.stop()
    slow = (await rows(db))["slow"]
    assert slow.status == SENT and slow.message_id is not None


async def test_429_and_5xx_put_the_row_back_to_pending(
    db: Database, emu: Emulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as s:
        await enqueue(s, key="x", kind="nag", chat_id=USERS[0], text="催办", now=NOW)
    emu.faults.too_many_requests(1, retry_after=1, method="sendMessage")
    emu.faults.server_error(1, status=502, method="sendMessage")
    seen: list[str] = []
    n = notifier(db, bot, Limits(base_backoff=0.05))
    original = n._retry_later

    async def spy(row: _Row, error: str) -> None:
        await original(row, error)
        seen.append((await rows(db))["x"].status)

    monkeypatch.setattr(n, "_retry_later", spy)
    await n.start()
    try:
        for _ in range(50):
            await n.drain()
            if (await rows(db))["x"].status == SENT:
                break
            await asyncio.sleep(0.05)
    finally:
        await n.stop()
    x = (await rows(db))["x"]
    assert seen == [PENDING]  # after the 502, before the retry
    assert x.status == SENT and x.attempts == 2  # the 502 counted; the 429 did not
    assert n.stats.retry_after == 1 and n.stats.server_errors == 1
    assert [m["text"] for m in emu.bot_messages(USERS[0])] == ["催办"]


async def test_a_wake_that_comes_while_the_notifier_loads_is_not_lost(
    db: Database, emu: Emulator, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An idle notifier sleeps until woken; a handler queues a row and wakes it. If that wake
    # lands while the notifier is still loading (and finds nothing yet), it must still count.
    n = notifier(db, bot, Limits(idle_poll_seconds=600.0))
    real_load = n._load
    woken_mid_load = False

    async def load_then_queue() -> list[Any]:
        nonlocal woken_mid_load
        loaded = await real_load()
        if not woken_mid_load:
            woken_mid_load = True
            async with db.session() as s:
                await enqueue(s, key="late", kind="notice", chat_id=USERS[0], text="迟到", now=NOW)
            n.wake()
        return loaded

    monkeypatch.setattr(n, "_load", load_then_queue)
    await n.start()
    try:
        arrived = await emu.changed.wait_for(
            lambda: [e for e in emu.log if e.kind == "sent" and e.chat_id == USERS[0]], 10.0
        )
    finally:
        await n.stop()
    assert woken_mid_load
    assert arrived and arrived[0].text == "迟到"
