"""Settings changed elsewhere: the process that runs the scheduler hears it at once.

`/schedule` and `gridbot import` save the deployment's settings and, in the same transaction,
send `NOTIFY gridbot_settings` (storage/settings_signal.py), delivered on commit. Here, in
the process that runs the scheduler, a dedicated asyncpg connection LISTENs on that channel
and each notification calls `Runner.reschedule()`, which reads the saved times and replaces
the jobs in place (a no-op when nothing the scheduler uses changed). So whichever instance
handled the command, or ran the import, the scheduler moves within a moment, not at its
next 5-minute `refresh`.

If the connection drops (a restart of the server, a failover, an idle timeout), the listener
connects again with a growing pause (up to `RETRY_MAX_SECONDS`) and then reschedules once
from the database: a change made while nobody listened is not lost. The `refresh` job stays
as the backstop.

On SQLite nothing listens: one machine, usually one process, whose own `/schedule` moves its
scheduler in place; another process there picks changes up from its `refresh` job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from storage.settings_signal import CHANNEL

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram import Bot

    from bot.context import AppContext

log = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0


def asyncpg_dsn(url: str) -> str:
    """The libpq-style address asyncpg takes, from the SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class SettingsListener:
    """LISTEN gridbot_settings on its own connection; reschedule this process's scheduler on
    every notification. `heard` counts the notifications applied and `connects` the
    connections made, each under `changed` (tests wait on them, never on time)."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self.dsn = asyncpg_dsn(app.db.url)
        self.heard = 0
        self.connects = 0
        self.backend_pid: int | None = None
        self.changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._one_at_a_time = asyncio.Lock()

    async def start(self) -> None:
        """Returns once the first LISTEN is in place (or its first attempt failed)."""
        first = asyncio.Event()
        self._task = asyncio.create_task(self._run(first), name="gridbot-settings-listener")
        await first.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        for task in list(self._pending):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def wait_for(self, predicate: Callable[[], bool], within: float) -> None:
        """Until `predicate()` holds, re-checked at each notification or connection."""
        async with asyncio.timeout(within), self.changed:
            await self.changed.wait_for(predicate)

    async def _run(self, first: asyncio.Event) -> None:
        pause = RETRY_FIRST_SECONDS
        again = False
        while True:
            try:
                await self._listen_once(first, again=again)
                pause = RETRY_FIRST_SECONDS  # it was up: the next drop starts over
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("settings listener: %s; connecting again in %.1f s", exc, pause)
            first.set()
            again = True
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MAX_SECONDS)

    async def _listen_once(self, first: asyncio.Event, *, again: bool) -> None:
        import asyncpg  # the `postgres` extra: only imported where PostgreSQL is used

        conn: Any = await asyncpg.connect(self.dsn)
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANNEL, self._notified)
            self.backend_pid = conn.get_server_pid()
            log.info("settings listener: listening on %s", CHANNEL)
            if again:  # a change may have been saved while nobody listened
                await self._apply()
            async with self.changed:
                self.connects += 1
                self.changed.notify_all()
            first.set()
            await lost.wait()
            log.warning("settings listener: connection lost")
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5)

    def _notified(self, _conn: Any, _pid: int, _channel: str, _payload: str) -> None:
        task = asyncio.create_task(self._applied())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _applied(self) -> None:
        try:
            await self._apply()
        except Exception:
            log.exception("settings listener: rescheduling failed (the refresh job will retry)")
            return
        async with self.changed:
            self.heard += 1
            self.changed.notify_all()

    async def _apply(self) -> None:
        async with self._one_at_a_time:
            runner = self.app.scheduler
            if runner is not None:
                await runner.reschedule()


async def start(app: AppContext, bot: Bot) -> Callable[[], Awaitable[None]] | None:
    """Background starter (bot/background.py), after the scheduler's: listen where a
    scheduler runs on PostgreSQL."""
    if app.scheduler is None or app.db.is_sqlite:
        return None
    listener = SettingsListener(app)
    await listener.start()
    return listener.stop
