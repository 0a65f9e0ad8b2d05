"""The outbound notifier: one queue for everything the bot pushes, sent within Telegram's limits.

Handlers and jobs never call Telegram to push: they write a `Delivery` row in their own unit
of work (`storage.outbox.enqueue`) and call `wake()` after the commit. `OutboxNotifier` reads
pending rows in id order and sends them:

- only once `not_before` has come (quiet hours hold nags that way);
- under three token buckets: ~30 messages a second overall, 1 a second per chat, 19 a minute
  per group (bursts of one, so it never relies on Telegram's burst allowance), taken as each
  call leaves (`_take_turn`); never two sends to the same chat at once;
- a 429 pauses *all* sending for `retry_after`; 5xx answers, timeouts and garbled answers are
  retried with exponential back-off (in memory; a restart retries at once) up to
  `max_attempts`, then the row is `failed`;
- 403 (blocked, deactivated, never started) marks the person unreachable (their leader's digest
  shows them) and the row `undeliverable`: it is not retried;
- 400 with `migrate_to_chat_id` rebinds the grid / department to the supergroup, moves the
  other pending rows for the old chat, and sends again; any other 400 marks the row `failed`
  with the error;
- photos (caption), albums (`album`: 2 to 10 photos, the caption on the first; an album of n
  counts as n messages, so the chat must have been quiet for n turns before it and stays
  quiet n turns after), documents (`document_name` + `document_body` text or `document_bytes`
  sent as a file), photos uploaded from `document_bytes` (no `document_name`) and edits
  (`edit_of`: the key of an earlier delivery; the edit waits until that one is sent).

Exactly once: a row is marked `sending` (committed) just before the call and `sent` (with
`message_id` and `sent_at`) right after Telegram answers. Only one notifier sends at a time (a
`SingletonLock`, see `scheduler/lock.py`), so a second process never sends the same row. A crash
leaves the unsent rows `pending` and they go out when the bot is back, once each.

The window left: a row still `sending` when the process died was in flight, and nobody can tell
whether Telegram got it (the Bot API has no idempotency key and no way to read back what the bot
sent). The next holder of the lock logs those rows and sends them again: a digest twice is
better than a digest lost. At most `max_in_flight` rows (a handful) can be in that window at
the instant of a crash; every other row is sent exactly once (tests/e2e/test_kill_mid_send.py
kills the bot with SIGKILL mid-way and checks exactly that).

Time: `clock` (wall time, the app's injected clock) decides `not_before`; `timer` (monotonic +
sleep) drives the rate limits, so tests can run the buckets on virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, InputMediaPhoto, Message
from sqlalchemy import update
from sqlmodel import col, select

from domain.clock import Clock, SystemClock
from scheduler.lock import lock_for
from services.groups import tell_unreachable
from storage.admin import move_chat_id
from storage.db import Database
from storage.models import Delivery, Person

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

PENDING = "pending"
SENDING = "sending"  # the call is (or was, when a process died) in flight
SENT = "sent"
FAILED = "failed"
UNDELIVERABLE = "undeliverable"


class Notifier(Protocol):
    def wake(self) -> None:
        """Something new may be in the outbox."""
        ...


class Timer(Protocol):
    """Monotonic time and sleeping: real in production, virtual in tests."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealTimer:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


@dataclass(frozen=True)
class Limits:
    """What the notifier allows itself. Rates sit just under Telegram's published limits."""

    # Under Telegram's figures with room for the time a request takes to arrive: Telegram
    # counts arrivals, the notifier can only count departures (sandbox/flood.py's model).
    global_per_second: float = 29.0
    chat_per_second: float = 1.0
    group_per_minute: float = 19.0
    max_in_flight: int = 8
    max_attempts: int = 8
    base_backoff: float = 1.0
    max_backoff: float = 300.0
    idle_poll_seconds: float = 5.0
    stop_grace: float = 5.0  # on stop, seconds the calls in flight get to finish
    batch: int = 500

    def scaled(self, factor: float) -> Limits:
        """All rates times `factor` (tests run the limits faster on both sides)."""
        return replace(
            self,
            global_per_second=self.global_per_second * factor,
            chat_per_second=self.chat_per_second * factor,
            group_per_minute=self.group_per_minute * factor,
        )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before attempt `attempts + 1` after a 5xx or a timeout."""
        return min(self.base_backoff * 2 ** max(attempts - 1, 0), self.max_backoff)


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `burst` stored. Starts full.

    A send that costs more than one (an album) waits until the bucket has been untouched for
    as long as its cost takes to earn, then leaves the bucket that much in debt: whatever
    burst Telegram grants has refilled before it, and the rate holds on average after it."""

    rate: float
    burst: float = 1.0
    tokens: float | None = None
    stamp: float = 0.0
    last_take: float = -math.inf

    def _refill(self, now: float) -> float:
        if self.tokens is None:
            self.tokens, self.stamp = self.burst, now
        elif now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return self.tokens

    def wait(self, now: float, cost: int = 1) -> float:
        """Seconds until a send of `cost` may go (0 when it may go now)."""
        missing = 1.0 - self._refill(now)
        wait = 0.0 if missing <= 1e-9 else missing / self.rate
        if cost > 1:
            wait = max(wait, self.last_take + cost / self.rate - now)
        return wait if wait > 1e-9 else 0.0

    def take(self, now: float, cost: int = 1) -> None:
        self.tokens = self._refill(now) - cost
        self.last_take = now


def is_group_chat(chat_id: int) -> bool:
    return chat_id < 0


class Action(StrEnum):
    PAUSE_ALL = "pause_all"  # 429 or 401: nothing goes out for `retry_after`, then this again
    MIGRATE = "migrate"  # the group is a supergroup now: rebind, send there
    UNREACHABLE = "unreachable"  # 403: blocked / deactivated / never started; never retried
    ALREADY_DONE = "already_done"  # an edit that changes nothing: the message is as wanted
    RETRY = "retry"  # 5xx, timeouts, garbled answers: again after a back-off
    FAIL = "fail"  # any other refusal (a 400): retrying cannot help


@dataclass(frozen=True)
class Decision:
    action: Action
    error: str = ""
    retry_after: float = 0.0
    new_chat_id: int | None = None


UNAUTHORIZED_PAUSE_S = 60.0


def classify_failure(exc: BaseException) -> Decision:
    """What a failed call means for its row (pure: the notifier then acts on it)."""
    if isinstance(exc, TelegramRetryAfter):
        return Decision(Action.PAUSE_ALL, exc.message, retry_after=float(exc.retry_after))
    if isinstance(exc, TelegramMigrateToChat):
        return Decision(Action.MIGRATE, exc.message, new_chat_id=exc.migrate_to_chat_id)
    if isinstance(exc, TelegramForbiddenError):
        return Decision(Action.UNREACHABLE, exc.message)
    if isinstance(exc, TelegramBadRequest):
        if "message is not modified" in exc.message:
            return Decision(Action.ALREADY_DONE, exc.message)
        return Decision(Action.FAIL, exc.message)
    if isinstance(exc, TelegramServerError | TelegramNetworkError | ClientDecodeError):
        return Decision(Action.RETRY, str(exc))
    if isinstance(exc, TimeoutError):
        return Decision(Action.RETRY, str(exc) or "timeout")
    if isinstance(exc, TelegramUnauthorizedError):
        # The token was revoked or mistyped: no message can go out, and none may be lost.
        # Hold everything and try again later; the log says why.
        return Decision(Action.PAUSE_ALL, exc.message, retry_after=UNAUTHORIZED_PAUSE_S)
    if isinstance(exc, TelegramAPIError):
        return Decision(Action.FAIL, exc.message)
    return Decision(Action.RETRY, repr(exc))


@dataclass
class NotifierStats:
    sent: int = 0
    retry_after: int = 0
    server_errors: int = 0
    undeliverable: int = 0
    failed: int = 0
    migrated: int = 0


@dataclass
class _Row:
    id: int
    key: str
    chat_id: int
    person_id: int | None
    text: str
    reply_markup: dict[str, Any] | None
    photo: str | None
    edit_of: str | None
    document_name: str | None
    document_body: str | None
    attempts: int
    album: list[str] | None = None
    document_bytes: bytes | None = None

    @classmethod
    def of(cls, d: Delivery) -> _Row:
        assert d.id is not None
        return cls(
            d.id, d.key, d.chat_id, d.person_id, d.text, d.reply_markup, d.photo, d.edit_of,
            d.document_name, d.document_body, d.attempts, d.album, d.document_bytes,
        )  # fmt: skip

    @property
    def cost(self) -> int:
        """How many messages Telegram counts for this send (an album: one per photo)."""
        return max(len(self.album or ()), 1)


@dataclass
class _EditTarget:
    chat_id: int
    message_id: int | None
    status: str
    photo: bool


Acquire = Callable[[], Awaitable[bool]]


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
        self._global = TokenBucket(self.limits.global_per_second)
        self._gate = asyncio.Lock()  # one call at a time takes its turn under the rate limits
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, TokenBucket] = {}
        self._paused_until = 0.0
        self._retry_at: dict[int, float] = {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._busy_chats: set[int] = set()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._stopping = False
        self._reload = False  # a row must be tried again: reload so each chat stays in order
        self._recovered = False  # rows a dead sender left `sending` were put back
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
            keys = (
                await session.exec(select(Delivery.key).where(Delivery.status == SENDING))
            ).all()
            if keys:
                await session.exec(
                    update(Delivery)
                    .where(col(Delivery.status) == SENDING)
                    .values(status=PENDING, last_error="in flight when the sender stopped")
                )
        if keys:
            log.warning(
                "notifier: %d message(s) were in flight when the last sender stopped; "
                "sending them again (each may arrive twice): %s",
                len(keys),
                ", ".join(keys[:20]),
            )

    async def _load(self) -> list[_Row]:
        now = self.clock.now()
        query = (
            select(Delivery)
            .where(Delivery.status == PENDING, col(Delivery.not_before) <= now)
            .order_by(col(Delivery.id))
            .limit(self.limits.batch)
        )
        if self._in_flight:
            query = query.where(col(Delivery.id).not_in(list(self._in_flight)))
        async with self.db.reading() as session:
            return [_Row.of(d) for d in (await session.exec(query)).all()]

    async def _pump(self) -> bool:
        """Send what is due now. True when something was sent or is still in flight."""
        self._wake.clear()
        rows = await self._load()
        progressed = False
        edit_targets: dict[str, _EditTarget | None] = {}
        self._reload = False
        while rows and not self._stopping and not self._reload:
            now = self.timer.monotonic()
            if self._paused_until > now:
                await self.timer.sleep(self._paused_until - now)
                continue
            chosen: _Row | None = None
            soonest = math.inf
            held: set[int] = set()  # chats whose earlier row waits: keep each chat in order
            for row in rows:
                if row.chat_id in self._busy_chats or row.chat_id in held:
                    continue
                retry = self._retry_at.get(row.id)
                if retry is not None and retry > now:
                    soonest = min(soonest, retry - now)
                    held.add(row.chat_id)
                    continue
                if row.edit_of is not None:
                    if row.edit_of not in edit_targets:
                        edit_targets[row.edit_of] = await self._edit_target(row.edit_of)
                    target = edit_targets[row.edit_of]
                    if target is not None and target.status in (PENDING, SENDING):
                        held.add(row.chat_id)
                        continue  # the message to edit is not sent yet: wait for it
                wait = self._chat_bucket(row.chat_id).wait(now, row.cost)
                if is_group_chat(row.chat_id):
                    wait = max(wait, self._group_bucket(row.chat_id).wait(now, row.cost))
                if wait <= 0:
                    chosen = row
                    break
                soonest = min(soonest, wait)
            if chosen is None:
                if math.isinf(soonest):
                    if not self._in_flight:
                        break  # only edits waiting for unsent messages are left
                    await asyncio.wait(
                        list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED
                    )
                    continue
                await self.timer.sleep(soonest)
                continue
            rows.remove(chosen)
            # The chat's tokens are there now and stay there (the chat is busy until this
            # send ends); `_take_turn` takes them with the global one as the call leaves.
            while len(self._in_flight) >= self.limits.max_in_flight:
                await asyncio.wait(
                    list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED
                )
            target = edit_targets.get(chosen.edit_of) if chosen.edit_of else None
            self._busy_chats.add(chosen.chat_id)
            task = asyncio.create_task(self._deliver(chosen, target))
            self._in_flight[chosen.id] = task
            progressed = True
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
            progressed = True
        return progressed

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = self._chats[chat_id] = TokenBucket(self.limits.chat_per_second)
        return bucket

    def _group_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._groups.get(chat_id)
        if bucket is None:
            bucket = self._groups[chat_id] = TokenBucket(self.limits.group_per_minute / 60.0)
        return bucket

    async def _edit_target(self, key: str) -> _EditTarget | None:
        async with self.db.reading() as session:
            d = (await session.exec(select(Delivery).where(Delivery.key == key))).first()
        if d is None:
            return None
        # Photos, albums and files carry a caption, not a text: the edit changes the caption.
        captioned = bool(d.photo or d.album or d.document_name or d.document_bytes)
        return _EditTarget(d.chat_id, d.message_id, d.status, captioned)

    # -- one send --------------------------------------------------------------------------
    async def _deliver(self, row: _Row, target: _EditTarget | None) -> None:
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

    async def _take_turn(self, chat_id: int, cost: int = 1) -> None:
        """Wait for a global token and take it with the chat's (and group's), just before the
        call. Taken when the row was picked instead, sends queued behind slow status writes
        would leave bunched together, and Telegram counts them as they arrive."""
        async with self._gate:
            while True:
                now = self.timer.monotonic()
                wait = max(self._paused_until - now, self._global.wait(now, cost))
                if wait <= 0:
                    break
                await self.timer.sleep(wait)
            self._global.take(now, cost)
            self._chat_bucket(chat_id).take(now, cost)
            if is_group_chat(chat_id):
                self._group_bucket(chat_id).take(now, cost)

    async def _attempt(self, row: _Row, target: _EditTarget | None) -> None:
        await self._set_status(row, SENDING)
        await self._take_turn(row.chat_id, row.cost)
        try:
            message_id = await self._send(row, target)
        except (TelegramAPIError, ClientDecodeError, TimeoutError) as exc:
            decision = classify_failure(exc)
        else:
            await self._mark_sent(row, message_id)
            return
        if decision.action is Action.PAUSE_ALL:
            self.stats.retry_after += 1
            until = self.timer.monotonic() + decision.retry_after
            self._paused_until = max(self._paused_until, until)
            self._retry_at[row.id] = self._paused_until
            self._reload = True
            await self._set_status(row, PENDING)
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

    async def _send(self, row: _Row, target: _EditTarget | None) -> int | None:
        markup = InlineKeyboardMarkup.model_validate(row.reply_markup) if row.reply_markup else None
        if row.edit_of is not None:
            if target is None or target.message_id is None:
                raise TelegramBadRequest(
                    method=None,  # type: ignore[arg-type]
                    message=f"nothing to edit: {row.edit_of} was not delivered",
                )
            if target.photo:
                result = await self.bot.edit_message_caption(
                    chat_id=target.chat_id,
                    message_id=target.message_id,
                    caption=row.text,
                    reply_markup=markup,
                )
            else:
                result = await self.bot.edit_message_text(
                    chat_id=target.chat_id,
                    message_id=target.message_id,
                    text=row.text,
                    reply_markup=markup,
                )
            return result.message_id if isinstance(result, Message) else target.message_id
        if row.document_name is not None:
            body = row.document_bytes
            if body is None:
                body = (row.document_body or "").encode("utf-8")
            file = BufferedInputFile(body, filename=row.document_name)
            sent = await self.bot.send_document(
                row.chat_id, file, caption=row.text or None, reply_markup=markup
            )
        elif row.album:
            album = [
                InputMediaPhoto(media=photo, caption=row.text or None if place == 0 else None)
                for place, photo in enumerate(row.album)
            ]
            messages = await self.bot.send_media_group(row.chat_id, media=list(album))
            return messages[0].message_id
        elif row.photo is not None or row.document_bytes is not None:
            photo = row.photo or BufferedInputFile(row.document_bytes or b"", filename="photo.png")
            sent = await self.bot.send_photo(
                row.chat_id, photo, caption=row.text or None, reply_markup=markup
            )
        else:
            sent = await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
        return sent.message_id

    # -- outcomes --------------------------------------------------------------------------
    async def _set_status(self, row: _Row, status: str) -> None:
        async with self.db.session() as session:
            await session.exec(
                update(Delivery).where(col(Delivery.id) == row.id).values(status=status)
            )

    async def _mark_sent(self, row: _Row, message_id: int | None) -> None:
        self._retry_at.pop(row.id, None)
        async with self.db.session() as session:
            await session.exec(
                update(Delivery)
                .where(col(Delivery.id) == row.id)
                .values(
                    status=SENT,
                    sent_at=self.clock.now(),
                    message_id=message_id,
                    attempts=row.attempts + 1,
                    last_error=None,
                )
            )
        self.stats.sent += 1

    async def _finish(self, row: _Row, status: str, error: str) -> None:
        self._retry_at.pop(row.id, None)
        async with self.db.session() as session:
            await session.exec(
                update(Delivery)
                .where(col(Delivery.id) == row.id)
                .values(status=status, attempts=row.attempts + 1, last_error=error[:500])
            )
        if status == FAILED:
            self.stats.failed += 1
        log.warning("notifier: %s %s: %s", row.key, status, error)

    async def _retry_later(self, row: _Row, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.limits.max_attempts:
            await self._finish(row, FAILED, error)
            return
        self._retry_at[row.id] = self.timer.monotonic() + self.limits.backoff(attempts)
        self._reload = True
        async with self.db.session() as session:
            await session.exec(
                update(Delivery)
                .where(col(Delivery.id) == row.id)
                .values(status=PENDING, attempts=attempts, last_error=error[:500])
            )

    async def _unreachable(self, row: _Row, error: str) -> None:
        self.stats.undeliverable += 1
        async with self.db.session() as session:
            await session.exec(
                update(Delivery)
                .where(col(Delivery.id) == row.id)
                .values(status=UNDELIVERABLE, attempts=row.attempts + 1, last_error=error[:500])
            )
            newly: list[int] = []
            if row.chat_id > 0:
                who = col(Person.tg_id) == row.chat_id
                if row.person_id is not None:
                    who = who | (col(Person.id) == row.person_id)
                newly = [
                    int(pid)
                    for pid in (
                        await session.exec(select(Person.id).where(who, col(Person.reachable)))
                    ).all()
                    if pid is not None
                ]
                await session.exec(update(Person).where(who).values(reachable=False))
        self._retry_at.pop(row.id, None)
        log.info("notifier: %s undeliverable (%s); person marked unreachable", row.key, error)
        if self.on_unreachable is not None:
            for person_id in newly:  # told once when they become unreachable, not per row
                await self.on_unreachable(person_id, row.key)

    async def _migrate(self, old: int, new: int) -> None:
        """A group became a supergroup: rebind it, move its pending rows, send again."""
        self.stats.migrated += 1
        async with self.db.session() as session:
            await move_chat_id(session, old=old, new=new)
            await session.exec(
                update(Delivery)
                .where(col(Delivery.chat_id) == old, col(Delivery.status) == PENDING)
                .values(chat_id=new)
            )
        for buckets in (self._chats, self._groups):
            if old in buckets:
                buckets[new] = buckets.pop(old)
        if self.on_migrate is not None:
            await self.on_migrate(old, new)
        log.info("notifier: chat %s migrated to %s; rebound and resending", old, new)


async def _tell_unreachable(app: AppContext, person_id: int, cause: str) -> None:
    async with app.db.session() as session:
        await tell_unreachable(
            session,
            person_id=person_id,
            cause=cause,
            t=app.t,
            language=app.settings.default_language,
            deep_link=app.deep_link("open"),
            now=app.clock.now(),
        )


async def start_notifier(app: AppContext, bot: Bot) -> Callable[[], Awaitable[None]]:
    """Background starter (bot/background.py): one notifier per process, one sender at a time."""
    limits = app.notifier_limits or Limits().scaled(app.settings.notifier_rate_scale)
    timer = app.timer or RealTimer()
    notifier = OutboxNotifier(
        app.db,
        bot,
        clock=app.clock,
        limits=limits,
        timer=timer,
        lock=lock_for(app.db, "notifier"),
    )
    notifier.on_unreachable = partial(_tell_unreachable, app)
    app.notifier = notifier
    await notifier.start()

    async def stop() -> None:
        await notifier.stop()
        app.notifier = None

    return stop
