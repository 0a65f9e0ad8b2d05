"""Two real instances (`gridbot run --webhook`, two processes) on one database share one inbox.

The emulator posts every update to one of them (the webhook last set); both take rows from
the inbox. Each reply is answered late by the emulator, so a backlog builds that the other
instance finds at its next look. What is asserted, from the emulator's record and the
database: every person is greeted exactly once, every update is handled once (replay
protection and the inbox agree), and which instances took rows:

- PostgreSQL: both (FOR UPDATE SKIP LOCKED: rows are shared, none is taken twice);
- SQLite: exactly one (the inbox's file lock: one process takes rows at a time).

aiogram logs `Update id=N is handled` for each update a process handled: the test counts
those lines in each process's output.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from storage.db import Database
from tests.conftest import ON_POSTGRES
from tests.e2e.test_webhook import free_port
from tests.e2e.test_webhook_inbox import (
    TOKEN,
    BotProcess,
    _env,
    _handled,
    _inbox,
    _people,
    _until,
    _until_db,
)

PEOPLE = 24
REPLY_DELAY_S = 0.25  # each greeting's sendMessage answered this late: a backlog builds
HANDLED = re.compile(r"Update id=(\d+) is handled")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(limits=FloodLimits.telegram()) as emulator:
        emulator.add_bot(TOKEN, "gridbot_inbox_bot")
        yield emulator


async def test_two_instances_share_the_inbox_and_handle_each_update_once(
    tmp_path: Path, emu: Emulator, world_db_url: str
) -> None:
    db = Database(world_db_url)
    people = await _people(db, PEOPLE)
    for tg_id, name in people:
        emu.ensure_user(tg_id, first_name=name)
    bots = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        bots.append(BotProcess(folder, _env(world_db_url, emu, free_port())))
    a, b = bots
    hook = emu.bot
    try:
        await a.start()
        await _until(emu, lambda: hook.webhook is not None, "instance a's webhook", a)
        first_url = hook.webhook.url if hook.webhook else ""
        await b.start()
        await _until(
            emu, lambda: hook.webhook is not None and hook.webhook.url != first_url, "b's", b
        )

        emu.faults.delay(REPLY_DELAY_S, n=PEOPLE, method="sendMessage")
        for tg_id, _ in people:
            await emu.user(tg_id).send("/start")
        await _until(emu, lambda: all(emu.bot_messages(tg) for tg, _ in people), "greetings", a)
        await _until(emu, lambda: not hook.updates, "every 200", b)

        async def settled() -> bool:
            return all(r.done_at is not None for r in await _inbox(db))

        await _until_db(settled, "every inbox row done", b)
    finally:
        for bot in bots:
            await bot.reap()

    try:
        for tg_id, _ in people:  # exactly once, in the emulator's own record
            assert len(emu.bot_messages(tg_id)) == 1, tg_id
        rows = await _inbox(db)
        assert len(rows) == PEOPLE and all(r.error is None for r in rows)
        assert await _handled(db) == {r.update_id for r in rows}
        by_a, by_b = ([int(u) for u in HANDLED.findall(bot.output())] for bot in bots)
        assert sorted(by_a + by_b) == sorted(r.update_id for r in rows)  # none twice
        if ON_POSTGRES:
            assert by_a and by_b, (len(by_a), len(by_b))
        else:
            assert (by_a == []) != (by_b == []), (len(by_a), len(by_b))
        assert "Traceback" not in a.output() + b.output()
    finally:
        await db.dispose()
