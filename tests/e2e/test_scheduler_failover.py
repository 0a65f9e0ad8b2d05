"""The scheduler's holder killed with SIGKILL: another instance takes over, catches up, and
nothing reaches anyone twice.

Two real instances (`gridbot run --webhook`, two processes, the scheduler on) share one
database. The deployment's zone is picked so that it is midday there, and its digest time is
this very minute: the digest (and the 09:30 nag) were due earlier today, so whoever holds the
scheduler's lock catches them up (scheduler/runner.py). The emulator holds every sendMessage
without applying it, so the first holder (a) queues the day's digests and nags and its
notifier is stuck in the middle of sending them when the kill comes. Then:

- b, which logged that another process holds the lock, logs "this process holds the lock"
  within `TAKEOVER_S` of the kill (the README's figure: the retry interval, here 1 s, plus
  the database noticing the dead holder: at once for a killed process, its socket closes);
- b catches up the digest and the nag again: the outbox's unique keys let it queue nothing
  new (its log says 0 queued; the outbox holds the same rows as at the kill);
- b's notifier (it takes the notifier's lock too) sends the rows a left in flight and the
  rest: every outbox row ends sent, and the emulator's record holds exactly one message per
  row, per chat.

On both passes: PostgreSQL's advisory lock (dropped with the dead holder's connection), and
SQLite's flock (dropped by the kernel with the dead process).
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from storage.db import Database
from storage.models import Delivery, Deployment, Person
from tests.e2e.test_webhook import free_port
from tests.e2e.test_webhook_inbox import TOKEN, BotProcess, _env, _until, _until_db

TAKEOVER_S = 60.0  # the bound README "Running a city" states
RETRY_S = 1.0
HOLDS = "scheduler: this process holds the lock"
WAITS = "scheduler: another process holds the lock"
DIGEST = re.compile(r"digest: (\d+) leaders, (\d+) queued")
NAGS = re.compile(r"nags: (\d+) queued")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(limits=FloodLimits.telegram()) as emulator:
        emulator.add_bot(TOKEN, "gridbot_inbox_bot")
        yield emulator


async def _midday_with_the_digest_due(db: Database) -> None:
    """A zone where it is about 12:00 now; the digest at this minute, quiet hours far off."""
    now = datetime.now(UTC)
    offset = 12 - now.hour  # Etc/GMT-N is UTC+N: -11 .. +12 all exist
    zone = f"Etc/GMT{-offset:+d}" if offset else "UTC"
    local = now.astimezone(ZoneInfo(zone))
    async with db.session() as session:
        row = (await session.exec(select(Deployment))).one()
        row.timezone = zone
        row.digest_time = local.strftime("%H:%M")
        row.quiet_hours = "02:00-03:00"
        session.add(row)
    assert local.hour == 12  # the nag's 09:30 and the digest's minute: within the grace


async def _everyone(db: Database, emu: Emulator) -> None:
    """Everyone on the roster has opened the bot: a push to them arrives."""
    async with db.reading() as session:
        people = (await session.exec(select(Person.tg_id, Person.name))).all()
    for tg_id, name in people:
        if tg_id is not None:
            emu.ensure_user(int(tg_id), first_name=name, started=True)


async def _deliveries(db: Database) -> list[Delivery]:
    async with db.reading() as session:
        return list((await session.exec(select(Delivery))).all())


async def _until_log(bot: BotProcess, needle: str, what: str, limit: float = 60.0) -> float:
    """Seconds until `needle` shows in the process's output (it writes it; nothing tells us)."""
    started = time.monotonic()
    while needle not in bot.output():
        if time.monotonic() - started > limit:
            raise AssertionError(f"timed out waiting for {what}; log:\n{bot.output()[-4000:]}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_the_holder_killed_another_takes_over_and_sends_nothing_twice(
    tmp_path: Path, emu: Emulator, world_db_url: str
) -> None:
    db = Database(world_db_url)
    await _midday_with_the_digest_due(db)
    await _everyone(db, emu)
    bots = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        env = _env(world_db_url, emu, free_port())
        env.update(RUN_SCHEDULER="true", SCHEDULER_LOCK_RETRY_S=str(RETRY_S))
        bots.append(BotProcess(folder, env))
    a, b = bots
    hook = emu.bot
    emu.faults.delay(600.0, n=100_000, method="sendMessage", apply=False)  # held, not applied
    try:
        await a.start()
        await _until_log(a, HOLDS, "a to take the scheduler's lock")
        await _until_log(a, "nags:", "a's catch-up of the nag")
        await _until_log(a, "digest:", "a's catch-up of the digest")
        first = DIGEST.search(a.output())
        assert first is not None and int(first.group(2)) > 0, a.output()[-4000:]
        queued = await _deliveries(db)
        assert queued and all(d.status != "sent" for d in queued)
        await _until(emu, lambda: emu.stats.count("sendMessage") > 0, "a's first send", a)

        await b.start()
        await _until(emu, lambda: hook.webhook is not None, "a webhook", b)
        await _until_log(b, WAITS, "b to find the lock taken")
        assert HOLDS not in b.output()

        assert await a.kill() == -signal.SIGKILL
        emu.faults.clear()  # a's sends stay held, never applied; b's go through
        took = await _until_log(b, HOLDS, "b to take over", limit=TAKEOVER_S)
        assert took < TAKEOVER_S
        # a's notifier was killed in the middle of a send: b puts that row back and sends it.
        await _until_log(b, "were in flight when the last sender stopped", "b's notifier")
        await _until_log(b, "digest:", "b's catch-up of the digest")
        await _until_log(b, "nags:", "b's catch-up of the nag")
        again = DIGEST.search(b.output())
        assert again is not None and again.group(2) == "0", b.output()[-4000:]
        nags = NAGS.search(b.output())
        assert nags is not None and nags.group(1) == "0", b.output()[-4000:]

        async def all_sent() -> bool:
            return all(d.status == "sent" for d in await _deliveries(db))

        await _until_db(all_sent, "every outbox row sent by b", b)
    finally:
        for bot in bots:
            await bot.reap()

    try:
        rows = await _deliveries(db)
        assert sorted(d.key for d in rows) == sorted(d.key for d in queued)  # b queued none
        per_chat = Counter(d.chat_id for d in rows)
        for chat_id, n in per_chat.items():  # one message per row: none twice
            assert len(emu.bot_messages(chat_id)) == n, (chat_id, n)
        assert "Traceback" not in a.output() + b.output()
    finally:
        await db.dispose()
