"""`OutboxNotifier`: the loop that reads the outbox and sends it (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.exceptions import ClientDecodeError, TelegramAPIError

from bot.notifier.calls import send_row
from bot.notifier.failures import Action, classify_failure
from bot.notifier.limits import Buckets, Limits, RealTimer, Timer
from bot.notifier.queue import EditTarget, _Row, next_row
from bot.notifier.stats import NotifierStats
from domain.clock import Clock, SystemClock
from storage import outbox
from storage.admin import move_chat_id
from storage.db import Database
from storage.outbox import FAILED, PENDING, SENDING, SENT, UNDELIVERABLE

log = logging.getLogger(__name__)


@dataclass
class OutboxNotifier:
    db: Database
    bot: Bot
    clock: Clock = field(default_factory=SystemClock)
    limits: Limits = field(default_factory=Limits)
    timer: Timer = field(default_factory=RealTimer)
    lock: Any = None  # a SingletonLock (scheduler/lock.py); None: always allowed to send
    on_migrate: Callable[[int, int], Awaitable[None]] | None = None
    # (person id, the failed row's key) for each person a 403 has just made unreachable
    on_unreachable: Callable[[int, str], Awaitable[None]] | None = None
    stats: NotifierStats = field(default_factory=NotifierStats)

    def __post_init__(self) -> None:
        self._buckets = Buckets(self.limits)
        self._gate = asyncio.Lock()  # one call at a time takes its turn under the rate limits
        self._paused_until = 0.0
        self._retry_at: dict[int, float] = {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._busy_chats: set[int] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._reload = False  # a row must be tried again: reload so each chat stays in order
        self._recovered = False  # rows a dead sender left `sending` were put back
        self._finished = 0  # sends that have ended (sent or not): rows may have left the queue
        # The batch read last: the messages its edits change, whether it holds every due row,
        # when it was read (timer time) and how many sends had finished by then.
        self._targets: dict[str, EditTarget | None] = {}
        self._complete = True
        self._read_at = 0.0
        self._finished_then = 0
        self._task: asyncio.Task[None] | None = None

    # -- the public face -------------------------------------------------------------------
    def wake(self) -> None:
        self._idle.clear()
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._main(), name="gridbot-notifier")

    async def stop(self) -> None:
        self._stopping = True  # no new call starts from here on
        self._wake.set()
        if self._in_flight:  # let the calls under way finish and be recorded: no window
            await asyncio.wait(list(self._in_flight.values()), timeout=self.limits.stop_grace)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        for task in list(self._in_flight.values()):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        if self.lock is not None:
            await self.lock.release()

    async def drain(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait (real time) until nothing due is left to send: for tests and shut-down."""
        self.wake()
        await asyncio.wait_for(self._wait_idle(), timeout)

    async def _wait_idle(self) -> None:
        await self._idle.wait()

    # -- the loop --------------------------------------------------------------------------
    async def _main(self) -> None:
        while not self._stopping:
            if self.lock is not None and not await self.lock.acquire():
                await self._sleep_real(self.limits.idle_poll_seconds)
                continue
            try:
                if not self._recovered:
                    await self._recover()
                    self._recovered = True
                progressed = await self._pump()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notifier: pump failed; retrying")
                await self._sleep_real(1.0)
                continue
            if not progressed and not self._in_flight:
                if not self._wake.is_set():  # woken mid-pump: rows may be due, not idle
                    self._idle.set()
                await self._sleep_real(self._idle_wait())

    def _idle_wait(self) -> float:
        now = self.timer.monotonic()
        waits = [self.limits.idle_poll_seconds]
        waits += [max(at - now, 0.0) for at in self._retry_at.values()]
        if self._paused_until > now:
            waits.append(self._paused_until - now)
        return max(min(waits), 0.0)

    async def _sleep_real(self, seconds: float) -> None:
        """Wait for `wake()` or `seconds` of real time, whichever first. A wake that came
        while the loop was busy ends the wait at once rather than being lost."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def _recover(self) -> None:
        """Rows a previous sender left `sending` died in flight: send them again."""
        async with self.db.session() as session:
            keys = await outbox.put_back_in_flight(session)
        if keys:
            log.warning(
                "notifier: %d message(s) were in flight when the last sender stopped; "
                "sending them again (each may arrive twice): %s",
                len(keys),
                ", ".join(keys[:20]),
            )

    async def _load(self) -> list[_Row]:
        """Read the next batch; the wake that asked for it is answered by this read."""
        self._wake.clear()
        self._reload = False
        self.stats.loads += 1
        async with self.db.reading() as session:
            due = await outbox.load_due(
                session,
                now=self.clock.now(),
                batch=self.limits.batch,
                per_chat=self.limits.chat_batch,
                exclude=list(self._in_flight),
            )
            rows = [_Row.of(d) for d in due.rows]
            wanted = {r.edit_of for r in rows if r.edit_of is not None}
            found = await outbox.by_keys(session, wanted)
        self._targets = {key: EditTarget.of(found[key]) if key in found else None for key in wanted}
        self._complete = due.complete
        self._read_at = self.timer.monotonic()
        self._finished_then = self._finished
        return rows

    def _stale(self, now: float, *, stuck: bool) -> bool:
        """Read the batch again? When a retry needs its chat back in order, and when rows may
        be due that it does not hold (it left some out, or more were queued since): at once
        if nothing in it may go now and something has changed since, else every
        `reload_seconds`."""
        if self._reload:
            return True
        if self._complete and not self._wake.is_set():
            return False
        if stuck:
            return self._wake.is_set() or self._finished != self._finished_then
        return now - self._read_at >= self.limits.reload_seconds

    async def _pump(self) -> bool:
        """Send what is due now. True when something was sent or is still in flight."""
        rows = await self._load()
        progressed = False
        while rows and not self._stopping:
            now = self.timer.monotonic()
            if self._paused_until > now:
                await self.timer.sleep(self._paused_until - now)
                continue
            if self._stale(now, stuck=False):
                rows = await self._load()
                continue
            chosen, soonest = next_row(
                rows,
                now,
                buckets=self._buckets,
                busy=self._busy_chats,
                retry_at=self._retry_at,
                targets=self._targets,
            )
            if chosen is None:
                if self._stale(now, stuck=True):
                    rows = await self._load()
                elif math.isinf(soonest) and not self._in_flight:
                    break  # only edits waiting for messages that are not being sent
                else:
                    await self._nap(soonest)
                continue
            rows.remove(chosen)
            # The chat's tokens are there now and stay there (the chat is busy until this
            # send ends); `_take_turn` takes them with the global one as the call leaves.
            while len(self._in_flight) >= self.limits.max_in_flight:
                await asyncio.wait(
                    list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED
                )
            target = self._targets.get(chosen.edit_of) if chosen.edit_of else None
            self._busy_chats.add(chosen.chat_id)
            task = asyncio.create_task(self._deliver(chosen, target))
            self._in_flight[chosen.id] = task
            progressed = True
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
            progressed = True
        return progressed

    async def _nap(self, seconds: float) -> None:
        """Wait until a send ends or `wake()` is called, or, with no send under way, until
        `seconds` of timer time have passed: each may let a row go sooner.

        While sends are under way the nap ends with the first of them (a request's time, far
        under any bucket's wait), so timer time moves on only while nothing is being written
        or sent: a virtual timer then never jumps over a send that has not arrived yet."""
        waker = asyncio.create_task(self._wake.wait())
        waits: list[asyncio.Future[Any]] = [waker, *self._in_flight.values()]
        sleeper = None
        if not self._in_flight and not math.isinf(seconds):
            sleeper = asyncio.create_task(self.timer.sleep(seconds))
            waits.append(sleeper)
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for helper in (waker, sleeper):
                if helper is not None and not helper.done():
                    helper.cancel()

    # -- one send --------------------------------------------------------------------------
    async def _deliver(self, row: _Row, target: EditTarget | None) -> None:
        try:
            await self._attempt(row, target)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notifier: delivery %s crashed", row.key)
            await self._retry_later(row, "internal error")
        finally:
            self._in_flight.pop(row.id, None)
            self._busy_chats.discard(row.chat_id)
            self._finished += 1

    async def _take_turn(self, chat_id: int, cost: int = 1) -> None:
        """Wait for a global token and take it with the chat's (and group's), just before the
        call. Taken when the row was picked instead, sends queued behind slow status writes
        would leave bunched together, and Telegram counts them as they arrive."""
        async with self._gate:
            while True:
                now = self.timer.monotonic()
                wait = max(self._paused_until - now, self._buckets.overall.wait(now, cost))
                if wait <= 0:
                    break
                await self.timer.sleep(wait)
            self._buckets.take(chat_id, now, cost)

    async def _attempt(self, row: _Row, target: EditTarget | None) -> None:
        await self._set_status(row, SENDING)
        while True:
            await self._take_turn(row.chat_id, row.cost)
            try:
                message_id = await send_row(self.bot, row, target)
            except (TelegramAPIError, ClientDecodeError, TimeoutError) as exc:
                decision = classify_failure(exc)
            else:
                await self._mark_sent(row, message_id)
                return
            if decision.action is not Action.NO_TOPIC or row.message_thread_id is None:
                break
            await self._to_general(row, decision.error)  # then once more, in General
        if decision.action is Action.PAUSE_ALL:
            self.stats.retry_after += 1
            until = self.timer.monotonic() + decision.retry_after
            self._paused_until = max(self._paused_until, until)
            self._retry_at[row.id] = self._paused_until
            await self._set_status(row, PENDING)
            self._reload = True  # after the write, before the chat is free: see `_retry_later`
            log.warning(
                "notifier: %s; pausing all sends for %ss", decision.error, decision.retry_after
            )
        elif decision.action is Action.MIGRATE:
            assert decision.new_chat_id is not None
            await self._set_status(row, PENDING)
            await self._migrate(row.chat_id, decision.new_chat_id)
            self._reload = True
        elif decision.action is Action.UNREACHABLE:
            await self._unreachable(row, decision.error)
        elif decision.action is Action.ALREADY_DONE:
            await self._mark_sent(row, target.message_id if target else None)
        elif decision.action is Action.RETRY:
            self.stats.server_errors += 1
            await self._retry_later(row, decision.error)
        else:
            await self._finish(row, FAILED, decision.error)

    # -- outcomes --------------------------------------------------------------------------
    def _settled(self, row: _Row, status: str, message_id: int | None = None) -> None:
        """An edit in the batch that waits for this row's message may go now (or fail)."""
        target = self._targets.get(row.key)
        if target is not None:
            target.status, target.message_id = status, message_id

    async def _set_status(self, row: _Row, status: str) -> None:
        async with self.db.session() as session:
            await outbox.set_status(session, row.id, status)

    async def _mark_sent(self, row: _Row, message_id: int | None) -> None:
        self._retry_at.pop(row.id, None)
        async with self.db.session() as session:
            await outbox.mark_sent(
                session,
                row.id,
                message_id=message_id,
                attempts=row.attempts + 1,
                at=self.clock.now(),
            )
        self._settled(row, SENT, message_id)
        self.stats.sent += 1

    async def _finish(self, row: _Row, status: str, error: str) -> None:
        self._retry_at.pop(row.id, None)
        async with self.db.session() as session:
            await outbox.mark_done(
                session, row.id, status=status, attempts=row.attempts + 1, error=error
            )
        self._settled(row, status)
        if status == FAILED:
            self.stats.failed += 1
        log.warning("notifier: %s %s: %s", row.key, status, error)

    async def _retry_later(self, row: _Row, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.limits.max_attempts:
            await self._finish(row, FAILED, error)
            return
        self._retry_at[row.id] = self.timer.monotonic() + self.limits.backoff(attempts)
        async with self.db.session() as session:
            await outbox.mark_done(session, row.id, status=PENDING, attempts=attempts, error=error)
        # Only now, with the row pending again and its chat still busy: a batch read while the
        # row was in flight lacks it, and must not let the chat's later rows go before it.
        self._reload = True

    async def _to_general(self, row: _Row, error: str) -> None:
        """The row's forum topic was deleted: it goes to the General topic instead, recorded
        first so that a retry or a restart does not try the topic again. A card lost for
        want of its topic would leave the group without the case."""
        self.stats.to_general += 1
        where = f"topic {row.message_thread_id} of chat {row.chat_id}"
        log.warning("notifier: %s: %s is gone (%s); sending to General", row.key, where, error)
        row.message_thread_id = None
        async with self.db.session() as session:
            await outbox.to_general(session, row.id, error=error)
        # Telegram counted the refused call: the send again waits its turn in the chat too.
        while (wait := self._buckets.chat_wait(row.chat_id, self.timer.monotonic(), row.cost)) > 0:
            await self.timer.sleep(wait)

    async def _unreachable(self, row: _Row, error: str) -> None:
        self.stats.undeliverable += 1
        async with self.db.session() as session:
            await outbox.mark_done(
                session, row.id, status=UNDELIVERABLE, attempts=row.attempts + 1, error=error
            )
            newly = await outbox.mark_unreachable(
                session, chat_id=row.chat_id, person_id=row.person_id
            )
        self._retry_at.pop(row.id, None)
        self._settled(row, UNDELIVERABLE)
        log.info("notifier: %s undeliverable (%s); person marked unreachable", row.key, error)
        if self.on_unreachable is not None:
            for person_id in newly:  # told once when they become unreachable, not per row
                await self.on_unreachable(person_id, row.key)

    async def _migrate(self, old: int, new: int) -> None:
        """A group became a supergroup: rebind it, move its pending rows, send again."""
        self.stats.migrated += 1
        async with self.db.session() as session:
            await move_chat_id(session, old=old, new=new)
            await outbox.move_pending(session, old=old, new=new)
        self._buckets.move(old, new)
        if self.on_migrate is not None:
            await self.on_migrate(old, new)
        log.info("notifier: chat %s migrated to %s; rebound and resending", old, new)
