"""Workers that hand the webhook inbox's updates to the dispatcher, then mark them done.

The door (bot.intake.IntakeRequestHandler) writes each update to the inbox before it answers
200, and wakes these workers. A row is marked done only after the dispatcher is through
with it, so a process killed in between leaves the row waiting: the next worker (after a
restart, or in another instance) hands it over again, and replay protection
(bot.middlewares.UnitOfWork) drops it if its handler had committed after all.

- PostgreSQL: `inbox_workers` loops, each holding its row's lock (SKIP LOCKED) in its own
  transaction while the handler runs in another; any number of instances share the inbox.
- SQLite: one process takes rows (a file lock beside the database), up to `inbox_workers`
  at a time, and remembers which ones are in its hands.

A handler that fails is logged and its row marked done with the error, as polling would
move past it. A failure that is the database being away leaves the row waiting instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import ErrorEvent, Update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.context import AppContext
from bot.state_backend import OUTAGE_ERRORS
from scheduler.lock import SingletonLock, lock_for
from storage.inbox import count_waiting, forget_done, mark_done, take_locked, waiting_updates
from storage.models import InboxUpdate

log = logging.getLogger(__name__)

POLL_S = 1.0
"""How often an idle worker looks for rows nobody woke it for (another instance's door, rows
left by a dead process, the SQLite lock freed by another process)."""
OUTAGE_PAUSE_S = 2.0
STOP_GRACE_S = 10.0
PRUNE_EVERY = 1000  # handled rows between two sweeps of old done rows


def is_outage(exc: BaseException) -> bool:
    """The database or Redis is away (or locked past its timeout): try the row again later."""
    # Not any OSError: a handler's missing file must not make its row come back for ever.
    if isinstance(exc, (OperationalError, InterfaceError, ConnectionError, *OUTAGE_ERRORS)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


async def _raise_again(event: ErrorEvent) -> None:
    raise event.exception


def let_outages_through(dp: Dispatcher) -> None:
    """An outage a handler meets goes back to the worker, which leaves its row waiting,
    instead of to the error handler (handlers/errors.py), which would apologise and have the
    row marked done: the update would be lost. The dispatcher's own error observers are
    asked before those of its routers."""
    dp.errors.register(_raise_again, lambda event: is_outage(event.exception))


class InboxWorker:
    def __init__(self, app: AppContext, dp: Dispatcher, bot: Bot, *, workers: int) -> None:
        self.app, self.dp, self.bot = app, dp, bot
        self.workers = max(1, workers)
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._in_hand: set[int] = set()  # SQLite: update ids being handled here
        self._lock: SingletonLock | None = None
        self._handled = 0

    def wake(self) -> None:
        """A row was written: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        async with self.app.db.reading() as session:
            waiting = await count_waiting(session)
        if waiting:
            log.info("%s updates wait in the inbox from before; handling them", waiting)
        if self.app.db.is_sqlite:
            self._lock = lock_for(self.app.db, "inbox")
            self._spawn(self._sqlite_loop())
        else:
            for _ in range(self.workers):
                self._spawn(self._locked_loop())

    async def stop(self) -> None:
        """Take no more rows; let the handlers under way finish (for a while)."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE_S)
            for task in late:  # its row stays waiting: the next start hands it over
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._lock is not None:
            await self._lock.release()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _idle(self, seconds: float = POLL_S) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _locked_loop(self) -> None:
        while not self._stopping:
            try:
                took = await self._take_one_locked()
            except Exception as exc:
                self._report(exc)
                await self._idle(OUTAGE_PAUSE_S)
                continue
            if not took:
                await self._idle()

    async def _take_one_locked(self) -> bool:
        async with self.app.db.session() as session:
            row = await take_locked(session, bot_id=self.bot.id)
            if row is None:
                return False
            error = await self._handle(row)
            await mark_done(
                session,
                bot_id=row.bot_id,
                update_id=row.update_id,
                now=self.app.clock.now(),
                error=error,
            )
        await self._after_one()
        return True

    async def _sqlite_loop(self) -> None:
        assert self._lock is not None
        while not self._stopping:
            try:
                if not await self._lock.acquire():  # another process takes the rows
                    await self._idle()
                    continue
                free = self.workers - len(self._in_hand)
                rows = []
                if free > 0:
                    async with self.app.db.reading() as session:
                        rows = list(
                            await waiting_updates(
                                session, bot_id=self.bot.id, skip=self._in_hand, limit=free
                            )
                        )
            except Exception as exc:
                self._report(exc)
                await self._idle(OUTAGE_PAUSE_S)
                continue
            for row in rows:
                self._in_hand.add(row.update_id)
                self._spawn(self._handle_in_hand(row))
            if not rows:
                await self._idle()  # a finished handler wakes this too: a free slot

    async def _handle_in_hand(self, row: InboxUpdate) -> None:
        try:
            error = await self._handle(row)
            async with self.app.db.session() as session:
                await mark_done(
                    session,
                    bot_id=row.bot_id,
                    update_id=row.update_id,
                    now=self.app.clock.now(),
                    error=error,
                )
            await self._after_one()
        except Exception as exc:
            self._report(exc)
            if is_outage(exc):  # the row is taken again next: not at once, not in a hot loop
                await asyncio.sleep(OUTAGE_PAUSE_S)
        finally:
            self._in_hand.discard(row.update_id)
            self._wake.set()

    async def _handle(self, row: InboxUpdate) -> str | None:
        """Feed one row to the dispatcher; the error to keep when its handler failed.

        An outage is raised instead: the row must stay waiting."""
        update = Update.model_validate(json.loads(row.raw), context={"bot": self.bot})
        try:
            result = await self.dp.feed_update(self.bot, update)
            if isinstance(result, TelegramMethod):
                await self.dp.silent_call_request(bot=self.bot, result=result)
        except Exception as exc:
            if is_outage(exc):
                raise
            log.exception("update %s failed", row.update_id)
            return f"{type(exc).__name__}: {exc}"
        return None

    async def _after_one(self) -> None:
        self._handled += 1
        if self._handled % PRUNE_EVERY == 0:
            async with self.app.db.session() as session:
                await forget_done(session, now=self.app.clock.now())

    def _report(self, exc: BaseException) -> None:
        if is_outage(exc):
            log.error("inbox: database or Redis unavailable (%s); updates wait in the inbox", exc)
        else:
            log.exception("inbox worker failed; going on")
