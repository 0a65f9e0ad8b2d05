"""Persist before acknowledge: a webhook instance killed with SIGKILL just after it answered
200 to a batch loses none of it, and its restart handles each update exactly once.

The bot runs as a real process (`python -m bot run --webhook`) against the emulator, which
runs here on a free port and POSTs each queued update to the bot's webhook, one at a time,
taking it off its queue on the 200 (as Telegram does). The kill lands deterministically:
the emulator answers the batch's replies at once except the last one, whose sendMessage it
holds without applying it (no message appears). When that call has arrived, every update of
the batch has had its 200 (the emulator's queue is empty), and the last one's handler is in
the middle of its work; once the others have committed, SIGKILL. What the test asserts:

- at the kill, the inbox holds every update of the batch, one of them still waiting, and
  the held update is not marked handled (replay protection has no row for it);
- after the restart every person has exactly one greeting in the emulator's record (those
  handled before the kill are not handled again, the held one is handled once);
- every inbox row ends done without an error; an update aiogram's types reject still goes to
  the quarantine, not the inbox.

On both passes: a SQLite file, or a PostgreSQL database (several workers, SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlmodel import col, select

from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from storage.db import Database
from storage.models import InboxUpdate, Person, ProcessedUpdate, QuarantinedUpdate
from tests.e2e.test_webhook import SECRET, free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7000000005:TEST-inbox"
BOT_ID = 7000000005
BEFORE = 4  # people whose /start is handled before the batch
BATCH = 8  # people in the batch; the last one's reply is held when the kill comes


class BotProcess:
    """`gridbot run --webhook` in its own process; its output goes to a file."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.proc: asyncio.subprocess.Process | None = None
        self.log = cwd / "bot.log"

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--webhook", cwd=self.cwd, env=self.env,
                stdout=out, stderr=out,
            )  # fmt: skip

    async def kill(self) -> int:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        code = await self.proc.wait()
        self.proc = None
        return code

    async def reap(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
            self.proc = None

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""


def _env(db_url: str, emu: Emulator, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "DATABASE_", "WEBHOOK_", "REDIS_", "INBOX_"))
    }
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        DATABASE_URL=db_url,
        TELEGRAM_API_BASE=emu.base_url,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        RUN_SCHEDULER="false",
        LOG_LEVEL="INFO",
    )
    return env


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(limits=FloodLimits.telegram()) as emulator:
        emulator.add_bot(TOKEN, "gridbot_inbox_bot")
        yield emulator


def _poison(tg_id: int) -> dict[str, object]:
    """A message aiogram's types reject (its audio has no file_unique_id): quarantined."""
    person = {"id": tg_id, "is_bot": False, "first_name": "x"}
    chat = {"id": tg_id, "type": "private", "first_name": "x"}
    audio = {"file_id": "x", "duration": 1}
    return {
        "message": {
            "message_id": 9,
            "date": 1773104400,
            "audio": audio,
            "chat": chat,
            "from": person,
        }
    }


async def _people(db: Database, n: int) -> list[tuple[int, str]]:
    """Roster people who are not admins: a /start gets them one greeting."""
    async with db.reading() as session:
        rows = (
            await session.exec(
                select(Person.tg_id, Person.name)
                .where(col(Person.tg_id).is_not(None), ~col(Person.is_admin))
                .order_by(col(Person.tg_id))
                .limit(n)
            )
        ).all()
    assert len(rows) == n
    return [(int(tg), name) for tg, name in rows if tg is not None]


async def _inbox(db: Database) -> list[InboxUpdate]:
    async with db.reading() as session:
        return list((await session.exec(select(InboxUpdate))).all())


def _sender(rows: list[InboxUpdate], update_id: int) -> int:
    raw = next(json.loads(r.raw) for r in rows if r.update_id == update_id)
    return int(raw["message"]["from"]["id"])


async def _until(emu: Emulator, check: Callable[[], object], what: str, bot: BotProcess) -> None:
    """Woken by the emulator's changes; also looks every 50 ms, as some (a webhook set, a
    call held) notify nobody."""
    for _ in range(1200):  # up to a minute on a loaded machine
        if await emu.changed.wait_for(check, timeout=0.05):
            return
    raise AssertionError(f"timed out waiting for {what}; bot log:\n{bot.output()[-4000:]}")


async def _handled(db: Database) -> set[int]:
    async with db.reading() as session:
        return set((await session.exec(select(ProcessedUpdate.update_id))).all())


async def _until_db(check: Callable[[], Awaitable[bool]], what: str, bot: BotProcess) -> None:
    """The bot process writes the rows: nothing here is told, so look every 50 ms."""
    for _ in range(1200):  # up to a minute on a loaded machine
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; bot log:\n{bot.output()[-4000:]}")


async def test_sigkill_after_the_200_loses_nothing_and_handles_once(
    tmp_path: Path, emu: Emulator, world_db_url: str
) -> None:
    db = Database(world_db_url)
    people = await _people(db, BEFORE + BATCH)
    for tg_id, name in people:
        emu.ensure_user(tg_id, first_name=name)
    early, batch = people[:BEFORE], people[BEFORE:]
    hook = emu.bot
    bot = BotProcess(tmp_path, _env(world_db_url, emu, free_port()))

    def greeted(group: list[tuple[int, str]]) -> bool:
        return all(emu.bot_messages(tg) for tg, _ in group)

    def sends() -> int:
        return emu.stats.count("sendMessage")

    try:
        await bot.start()
        await _until(emu, lambda: hook.webhook is not None, "the webhook to be set", bot)
        for tg_id, _ in early:
            await emu.user(tg_id).send("/start")
        await _until(emu, lambda: greeted(early), "the first greetings", bot)
        assert sends() == BEFORE

        # The batch: its replies answered at once but the last, which is held, not applied.
        emu.faults.delay(0.0, n=BATCH - 1, method="sendMessage")
        emu.faults.delay(600.0, n=1, method="sendMessage", apply=False)
        poisoned = emu.inject_raw_update(_poison(batch[0][0]))
        for tg_id, _ in batch:
            await emu.user(tg_id).send("/start")
        await _until(emu, lambda: sends() == BEFORE + BATCH, "the held reply", bot)
        await _until(emu, lambda: not hook.updates, "every 200", bot)

        async def all_but_the_held_committed() -> bool:
            return len(await _handled(db)) == BEFORE + BATCH - 1

        # A handler whose reply went out but whose commit had not landed would run again
        # after the restart (its send is not part of the transaction): the kill waits for
        # those commits, so the only handler in the middle of its work is the held one.
        await _until_db(all_but_the_held_committed, "the other handlers' commits", bot)
        assert await bot.kill() == -signal.SIGKILL

        at_kill = await _inbox(db)
        assert len(at_kill) == BEFORE + BATCH  # every acknowledged update was on disk
        waiting = {r.update_id for r in at_kill if r.done_at is None}
        handled = await _handled(db)
        # One person has no greeting: the one whose reply was held. Their update waits and
        # its handler had not committed (a row may also wait whose handler had committed,
        # killed before it was marked: replay protection drops that one after the restart).
        not_greeted = [tg for tg, _ in people if not emu.bot_messages(tg)]
        assert len(not_greeted) == 1, not_greeted
        held = [u for u in waiting if _sender(at_kill, u) == not_greeted[0]]
        assert len(held) == 1 and held[0] not in handled, (waiting, handled)

        emu.faults.clear()
        await bot.start()  # the same database, a new process
        await _until(emu, lambda: greeted(people), "every greeting after the restart", bot)

        async def settled() -> bool:
            return all(r.done_at is not None for r in await _inbox(db))

        await _until_db(settled, "every inbox row done", bot)
        assert "wait in the inbox from before" in bot.output()
        # Settled: nothing more is on its way (the emulator's queue is empty, rows are done).
        assert not hook.updates
    finally:
        await bot.reap()

    try:
        for tg_id, _ in people:  # exactly once, in the emulator's own record
            texts = [m.get("text", "") for m in emu.bot_messages(tg_id)]
            assert len(texts) == 1, (tg_id, texts)
        rows = await _inbox(db)
        assert len(rows) == BEFORE + BATCH
        assert all(r.bot_id == BOT_ID and r.error is None for r in rows)
        assert poisoned["update_id"] not in {r.update_id for r in rows}
        done = await _handled(db)
        assert done == {r.update_id for r in rows}, bot.output()[-6000:]
        async with db.reading() as session:
            kept = (await session.exec(select(QuarantinedUpdate))).all()
        assert [(k.update_id, json.loads(k.raw)) for k in kept] == [
            (poisoned["update_id"], poisoned)
        ]
        assert "Traceback" not in bot.output()
    finally:
        await db.dispose()
