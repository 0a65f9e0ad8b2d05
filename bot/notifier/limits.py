"""The notifier's rate limits: what it allows itself, and the token buckets that keep to it.

Pure: time comes in as a number (the notifier's `Timer`), nothing here does I/O."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field, replace
from typing import Protocol


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
    # Rows of one chat in a batch: a group at 19 a minute takes half a minute over 10, so
    # its next rows are read long before it runs out; a long backlog of one chat cannot
    # fill the batch and hold the other chats behind it.
    chat_batch: int = 10
    # A batch that left rows out (or missed rows queued since) is read again this often
    # (timer seconds) even while it still has rows to send.
    reload_seconds: float = 5.0

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


@dataclass
class Buckets:
    """The three limits: one bucket for the bot, one per chat, one more per group."""

    limits: Limits
    overall: TokenBucket = field(init=False)
    chats: dict[int, TokenBucket] = field(default_factory=dict)
    groups: dict[int, TokenBucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.overall = TokenBucket(self.limits.global_per_second)

    def chat(self, chat_id: int) -> TokenBucket:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            bucket = self.chats[chat_id] = TokenBucket(self.limits.chat_per_second)
        return bucket

    def group(self, chat_id: int) -> TokenBucket:
        bucket = self.groups.get(chat_id)
        if bucket is None:
            bucket = self.groups[chat_id] = TokenBucket(self.limits.group_per_minute / 60.0)
        return bucket

    def chat_wait(self, chat_id: int, now: float, cost: int = 1) -> float:
        """Seconds until the chat (and its group bucket) lets a send of `cost` go."""
        wait = self.chat(chat_id).wait(now, cost)
        if is_group_chat(chat_id):
            wait = max(wait, self.group(chat_id).wait(now, cost))
        return wait

    def take(self, chat_id: int, now: float, cost: int = 1) -> None:
        self.overall.take(now, cost)
        self.chat(chat_id).take(now, cost)
        if is_group_chat(chat_id):
            self.group(chat_id).take(now, cost)

    def move(self, old: int, new: int) -> None:
        """A group became a supergroup: its buckets go with it."""
        for buckets in (self.chats, self.groups):
            if old in buckets:
                buckets[new] = buckets.pop(old)
