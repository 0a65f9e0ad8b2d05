"""The database goes away while a webhook instance runs, then comes back: nothing is lost.

The bot serves its webhook against a PostgreSQL server of the test's own, which the test
stops (`pg_ctl stop -m fast`) and starts again on the same port and data. While it is down,
the door cannot write an update to the inbox, so it answers 503 and the emulator (as
Telegram does) keeps the update and sends it again later; the inbox workers log the outage
and go on polling. When the server is back, every update sent during the outage is handled,
each exactly once (the emulator's record and processed_update say so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlmodel import select

from sandbox.emulator import Emulator
from storage.db import Database
from storage.migrate import upgrade
from storage.models import InboxUpdate, ProcessedUpdate
from tests.e2e.conftest import _import_into
from tests.e2e.test_webhook import HEAD, webhook_bot
from tests.pg_server import PgServer, _bin

# Roster people of fire-safety-5-level.yaml (not admins): each /start gets one greeting.
BEFORE = HEAD
DURING = (810000001, 810000002, 810000003)

pytestmark = pytest.mark.sqlite_only(
    "starts, stops and restarts a PostgreSQL server of its own: once is enough"
)


class PausablePgServer(PgServer):
    """A throwaway server that can also be stopped and started again, keeping its data."""

    def pause(self) -> None:
        pg_ctl = _bin("pg_ctl")
        assert pg_ctl is not None
        self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        pg_ctl = _bin("pg_ctl")
        assert pg_ctl is not None
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -F"
        log = str(self.dir / "log")
        self._run(pg_ctl, "-D", str(self.data), "-l", log, "-w", "start", "-o", options)


@pytest.fixture
def server() -> Iterator[PausablePgServer]:
    if _bin("initdb") is None or _bin("pg_ctl") is None:
        pytest.skip("PostgreSQL's server programs are not on this machine (.ci/run installs them)")
    pg = PausablePgServer()
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()


async def _prepared(pg: PgServer) -> str:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{pg.port}/postgres"
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    await _import_into(url, "fire-safety-5-level.yaml")
    return url


async def _until(check: Callable[[], bool], what: str) -> None:
    """The emulator's webhook errors notify nobody: look every 20 ms, for a minute at most."""
    for _ in range(3000):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_database_down_then_back_loses_no_update(
    emulator: Emulator, server: PausablePgServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = await _prepared(server)
    async with webhook_bot(emulator, url):
        hook = emulator.bot.webhook
        assert hook is not None
        await emulator.user(BEFORE).send("/start")
        await emulator.user(BEFORE).expect_reply(timeout=30)

        await asyncio.to_thread(server.pause)
        for tg_id in DURING:
            await emulator.user(tg_id).send("/start")
        await _until(lambda: "503" in (hook.last_error_message or ""), "a 503 from the door")
        assert emulator.bot.updates  # Telegram keeps what was not acknowledged
        assert not any(emulator.bot_messages(tg) for tg in DURING)

        await asyncio.to_thread(server.resume)
        for tg_id in DURING:
            await emulator.user(tg_id).expect_reply(timeout=60)
        await _until(lambda: not emulator.bot.updates, "every update acknowledged")

        db = Database(url)
        try:
            for _ in range(3000):  # the last rows are marked done just after their reply
                async with db.reading() as session:
                    rows = (await session.exec(select(InboxUpdate))).all()
                if all(r.done_at is not None for r in rows):
                    break
                await asyncio.sleep(0.02)
            async with db.reading() as session:
                handled = set((await session.exec(select(ProcessedUpdate.update_id))).all())
        finally:
            await db.dispose()

    for tg_id in (BEFORE, *DURING):  # exactly once each, in the emulator's own record
        assert len(emulator.bot_messages(tg_id)) == 1, (tg_id, emulator.bot_messages(tg_id))
    assert len(rows) == 1 + len(DURING)
    assert all(r.done_at is not None and r.error is None for r in rows)
    assert handled == {r.update_id for r in rows}
    assert any("answered 503" in r.getMessage() for r in caplog.records)
