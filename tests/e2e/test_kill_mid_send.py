"""SIGKILL in the middle of sending the digests, then a restart: every digest arrives, and only
a message that was in flight at the kill can arrive twice.

The bot runs as a real process (`python -m bot run`) against the emulator, which runs here in
the test process on a free port with Telegram's strict flood limits. The database is prepared
here: migrated, fire-safety-5-level.yaml imported, and the day's digests queued by the digest
job itself (`scheduler.jobs.digest_now`, clock injected). The bot runs with
`RUN_SCHEDULER=false` (no timed job may queue anything) and half of Telegram's rate
(`NOTIFIER_RATE_SCALE=0.5`), so sending takes long enough to be cut.

The kill lands deterministically in the middle of a call: the emulator answers the first
`BEFORE` sendMessage calls at once, then takes the next one in (the digest is delivered, as
Telegram would) but holds its answer. The bot goes on with the others; once a few more have
arrived, it is killed with SIGKILL.

The window, stated exactly: Telegram has no idempotency key and the Bot API cannot read back
what a bot sent, so a message whose call was under way at the kill may or may not have
arrived, and nobody can tell. The notifier marks each row `sending` (committed) before the
call, so after the kill those rows are known. A new sender puts them back to `pending` and
sends them again: a digest twice rather than a digest lost. The test asserts:

- the rows `sending` at the kill are few (at most the notifier's `max_in_flight`) and include
  the one whose answer was held;
- every digest arrives; the ones delivered twice are exactly the `sending` rows whose message
  had arrived before the kill; every other digest arrives exactly once;
- every Delivery row ends `sent`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.app import create_app
from bot.notifier import SENDING, SENT, Limits
from bot.settings import load_settings
from domain.clock import ManualClock
from domain.scenario import parse_scenario
from sandbox.emulator import Emulator
from sandbox.flood import FloodLimits
from scheduler import jobs
from storage.db import Database
from storage.importer import apply_import
from storage.models import Delivery
from tests.conftest import scenario_path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7000000003:TEST-kill"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DIGEST_AT = datetime(2026, 3, 10, 18, 0, tzinfo=SHANGHAI)  # a past Tuesday, digest time
BEFORE = 5  # digests answered normally before the held one
MORE = 3  # digests that arrive after the held one, before the kill


async def _prepared_db(url: str) -> tuple[dict[str, Delivery], int]:
    """Import the scenario and queue the day's digests through the digest job."""
    db = Database(url)
    scenario = parse_scenario(
        scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"),
        source="fire-safety-5-level.yaml",
    )
    async with db.session() as s:
        await apply_import(s, scenario, now=DIGEST_AT)
    await db.dispose()
    app = create_app(
        load_settings(bot_token=TOKEN, database_url=url, run_scheduler=False),
        clock=ManualClock(DIGEST_AT),
    )
    run = await jobs.digest_now(app)
    rows = await _rows(app.db)
    await app.db.dispose()
    return rows, run.queued


async def _rows(db: Database) -> dict[str, Delivery]:
    async with db.session() as s:
        return {d.key: d for d in (await s.exec(select(Delivery))).all()}


def _env(url: str, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        DATABASE_URL=url,
        TELEGRAM_API_BASE=base_url,
        RUN_SCHEDULER="false",
        NOTIFIER_RATE_SCALE="0.5",
        LOG_LEVEL="INFO",
    )
    return env


class BotProcess:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.proc: asyncio.subprocess.Process | None = None
        self.log = cwd / "bot.log"

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=self.cwd, env=self.env,
                stdout=out, stderr=out,
            )  # fmt: skip

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)

    async def reap(self) -> int | None:
        if self.proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        code = await self.proc.wait()
        self.proc = None
        return code

    def output(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""


async def _until(check: Callable[[], object], emu: Emulator, what: str, bot: BotProcess) -> None:
    if not await emu.changed.wait_for(check, timeout=60):
        raise AssertionError(f"timed out waiting for {what}; bot log:\n{bot.output()[-4000:]}")


Check = Callable[[dict[str, Delivery]], bool]


async def _until_db(db: Database, check: Check, bot: BotProcess) -> dict[str, Delivery]:
    """The bot process writes the rows: nothing here is told, so look every 50 ms."""
    for _ in range(1200):  # up to a minute on a loaded machine
        rows = await _rows(db)
        if check(rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"the outbox never settled; bot log:\n{bot.output()[-4000:]}")


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(limits=FloodLimits.telegram()) as emulator:
        emulator.add_bot(TOKEN, "gridbot_kill_bot")
        yield emulator


async def test_sigkill_mid_digests_then_restart(tmp_path: Path, db_url: str, emu: Emulator) -> None:
    assert datetime.now(SHANGHAI) > DIGEST_AT  # queued rows are due at once
    url = db_url  # a migrated database of the pass: a SQLite file, or PostgreSQL
    queued, n = await _prepared_db(url)
    assert n == len(queued) >= BEFORE + MORE + 4, n  # enough left to send after the kill
    assert {d.kind for d in queued.values()} == {"digest"}
    by_chat = {d.chat_id: d for d in queued.values()}
    assert len(by_chat) == n  # one digest per leader, each in its own chat
    for chat_id in by_chat:
        emu.ensure_user(chat_id, started=True)

    def sent_calls() -> int:
        return emu.stats.count("sendMessage")

    emu.faults.delay(0.0, n=BEFORE, method="sendMessage")
    emu.faults.delay(60.0, n=1, method="sendMessage", apply=True)  # delivered, answer held
    db = Database(url)
    bot = BotProcess(tmp_path, _env(url, emu.base_url))
    try:
        await bot.start()
        await _until(lambda: sent_calls() >= BEFORE + 1 + MORE, emu, "digests before the kill", bot)
        bot.kill()
        assert await bot.reap() == -signal.SIGKILL
        delivered_at_kill = {c for c in by_chat if emu.bot_messages(c)}
        rows = await _rows(db)
        in_flight = {k for k, d in rows.items() if d.status == SENDING}
        assert 1 <= len(in_flight) <= Limits().max_in_flight  # at least the held call
        sent_before = {k for k, d in rows.items() if d.status == SENT}
        assert BEFORE <= len(sent_before) < n  # killed in the middle
        assert len(delivered_at_kill) < n

        emu.faults.clear()
        await bot.start()  # the same database, a new process
        settled = await _until_db(db, lambda r: all(d.status == SENT for d in r.values()), bot)
        assert "were in flight when the last sender stopped" in bot.output()
    finally:
        await bot.reap()
        await db.dispose()

    twice = {by_chat[c].key for c in delivered_at_kill} & in_flight
    assert twice  # the held call: delivered, never answered
    counts = Counter({d.key: len(emu.bot_messages(d.chat_id)) for d in queued.values()})
    assert {k for k, c in counts.items() if c == 2} == twice, counts
    assert all(c == 1 for k, c in counts.items() if k not in twice), counts
    for d in queued.values():  # each chat holds its digest's text only
        assert {m["text"] for m in emu.bot_messages(d.chat_id)} == {
            m["text"] for m in emu.bot_messages(d.chat_id)[:1]
        }
        assert settled[d.key].message_id is not None
    assert emu.stats.too_many_requests == 0
