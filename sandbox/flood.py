"""Flood control: how many messages a bot may send, and what Telegram answers past that.

Telegram does not publish its limits. What it does say, in the Bot FAQ ("My bot is hitting
limits, how do I avoid this?", core.telegram.org/bots/faq):

    "If you're sending notifications to a single chat, avoid sending more than one message
    per second. We may allow short bursts that go over this limit, but eventually you'll
    begin receiving 429 errors."
    "If you're sending bulk notifications to multiple users, the API will not allow more
    than 30 messages per second or so."
    "Also note that your bot will not be able to send more than 20 messages per minute to
    the same group."

and in the Bot API reference (sendMessage, `allow_paid_broadcast`): "Pass True to allow up to
1000 messages per second, ignoring broadcasting limits for a fee of 0.1 Telegram Stars per
message" — so the free broadcast limit is a real ceiling, not a courtesy. A refused call
answers 429 "Too Many Requests: retry after N" with `parameters.retry_after` = N (Bot API,
ResponseParameters: "the number of seconds left to wait before the request can be repeated").
Library authors agree the exact figures are unknown and change per bot and over time
(python-telegram-bot's wiki "Avoiding flood limits"; grammY's "Scaling Up IV: Flood Limits":
"They are unspecified."). Reports of N range from 1 s to ~35 s for ordinary floods (longer
for bots that keep calling inside the window).

The model, erring strict wherever the sources leave room:

- **per bot**: at most `global_per_second` (30) sends in any one-second window. No burst above
  that: "30 messages per second or so" is read as a ceiling.
- **per chat**: a token bucket, `chat_per_second` (1) a second with a burst of `chat_burst`
  (3): the FAQ's "short bursts" are granted, short.
- **per group**: at most `group_per_minute` (20) sends in any sixty-second window (a sliding
  window, not a bucket: a bucket of 20 refilled at 1 per 3 s would let 40 through in the
  first minute, which "not more than 20 messages per minute" does not allow).
- **retry_after**: never less than the wait the limit needs, and otherwise drawn from
  `min_retry_after`..`max_retry_after` (1..35 s) by a random generator seeded with `seed`, so a
  run is reproducible and a client cannot be tuned to one constant. A call made inside that
  window answers 429 again and makes the window longer by another draw: ignoring
  `retry_after` is what gets bots throttled harder.
- edits count like sends (`count_edits`); an album of n items costs n.

The limits read the emulator's clock, so tests use a ManualClock and move it.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FloodLimits:
    global_per_second: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: float = 3.0
    group_per_minute: float = 20.0
    min_retry_after: int = 1
    max_retry_after: int = 35
    seed: int = 0
    count_edits: bool = True
    enabled: bool = True

    @classmethod
    def telegram(cls) -> FloodLimits:
        """As strict as Telegram (the default): see the module docstring."""
        return cls()

    @classmethod
    def relaxed(cls) -> FloodLimits:
        """Generous per chat and per group, the global limit kept. Only for a test that says
        why Telegram's own limits would get in its way."""
        return cls(chat_per_second=20.0, chat_burst=60.0, group_per_minute=1200.0)

    @classmethod
    def unlimited(cls) -> FloodLimits:
        return cls(enabled=False)


class _Limit:
    blocked_until: float = 0.0

    def wait(self, now: float, cost: int) -> float:
        """Seconds until `cost` sends fit (0: now)."""
        raise NotImplementedError

    def take(self, now: float, cost: int) -> None:
        raise NotImplementedError


@dataclass
class _Bucket(_Limit):
    rate: float  # tokens a second
    burst: float
    tokens: float
    stamp: float

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait(self, now: float, cost: int) -> float:
        self._refill(now)
        need = min(float(cost), self.burst)
        return 0.0 if self.tokens + 1e-9 >= need else (need - self.tokens) / self.rate

    def take(self, now: float, cost: int) -> None:
        self.tokens -= min(float(cost), self.burst)


@dataclass
class _Window(_Limit):
    """At most `limit` sends in any `period` seconds."""

    limit: int
    period: float
    sent: deque[float] = field(default_factory=deque)

    def wait(self, now: float, cost: int) -> float:
        while self.sent and self.sent[0] <= now - self.period:
            self.sent.popleft()
        cost = min(cost, self.limit)
        over = len(self.sent) + cost - self.limit
        if over <= 0:
            return 0.0
        return self.sent[over - 1] + self.period - now

    def take(self, now: float, cost: int) -> None:
        self.sent.extend([now] * min(cost, self.limit))


@dataclass
class FloodControl:
    limits: FloodLimits
    limits_by_key: dict[tuple[object, ...], _Limit] = field(default_factory=dict)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.limits.seed)

    def _limit(self, key: tuple[object, ...], now: float) -> _Limit:
        found = self.limits_by_key.get(key)
        if found is None:
            lim = self.limits
            if key[0] == "chat":
                found = _Bucket(lim.chat_per_second, lim.chat_burst, lim.chat_burst, now)
            elif key[0] == "group":
                found = _Window(max(1, int(lim.group_per_minute)), 60.0)
            else:
                found = _Window(max(1, int(lim.global_per_second)), 1.0)
            self.limits_by_key[key] = found
        return found

    def _draw(self, at_least: float) -> int:
        lim = self.limits
        low = max(lim.min_retry_after, math.ceil(at_least - 1e-9))
        return self.rng.randint(low, max(low, lim.max_retry_after))

    def check(
        self, bot_id: int, chat_id: int | None, is_group: bool, now: float, cost: int = 1
    ) -> int | None:
        """Take `cost` sends, or return the retry_after (seconds) to answer with."""
        if not self.limits.enabled:
            return None
        keys: list[tuple[object, ...]] = [("global", bot_id)]
        if chat_id is not None:
            keys.append(("chat", bot_id, chat_id))
            if is_group:
                keys.append(("group", bot_id, chat_id))
        limits = [self._limit(key, now) for key in keys]
        for limit in limits:
            if now < limit.blocked_until:
                # Called inside the window it was given: the window grows.
                limit.blocked_until += self._draw(0)
                return max(1, math.ceil(limit.blocked_until - now))
        for limit in limits:
            wait = limit.wait(now, cost)
            if wait > 0:
                retry_after = self._draw(wait)
                limit.blocked_until = now + retry_after
                return retry_after
        for limit in limits:
            limit.take(now, cost)
        return None
