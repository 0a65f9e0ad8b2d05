"""Flood limits: token buckets per bot, per chat and per group, as Telegram has.

Telegram lets a bot send about 30 messages a second overall, 1 a second to one
chat (with a small burst) and 20 a minute to one group. Past that it answers
429 ``Too Many Requests: retry after N``. A bot that keeps calling inside its
``retry_after`` window only makes the window longer: each such call extends it
by ``penalty_seconds``.

The buckets read the emulator's clock, so tests use a ManualClock and move it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FloodLimits:
    global_per_second: float = 30.0
    global_burst: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 20.0
    penalty_seconds: float = 1.0
    count_edits: bool = True
    enabled: bool = True

    @classmethod
    def telegram(cls) -> FloodLimits:
        """Strict, as Telegram: for notifier and broadcast tests."""
        return cls()

    @classmethod
    def relaxed(cls) -> FloodLimits:
        """For conversation tests: generous per chat and per group, global limit kept."""
        return cls(
            chat_per_second=20.0,
            chat_burst=60.0,
            group_per_minute=1200.0,
            group_burst=120.0,
        )

    @classmethod
    def unlimited(cls) -> FloodLimits:
        return cls(enabled=False)


@dataclass
class _Bucket:
    rate: float  # tokens a second
    burst: float
    tokens: float
    stamp: float
    blocked_until: float = 0.0

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now


@dataclass
class FloodControl:
    limits: FloodLimits
    buckets: dict[tuple[object, ...], _Bucket] = field(default_factory=dict)

    def _bucket(self, key: tuple[object, ...], rate: float, burst: float, now: float) -> _Bucket:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(rate, burst, burst, now)
        bucket.refill(now)
        return bucket

    def check(
        self, bot_id: int, chat_id: int | None, is_group: bool, now: float, cost: int = 1
    ) -> int | None:
        """Take ``cost`` tokens, or return the retry_after (seconds) to answer with."""
        lim = self.limits
        if not lim.enabled:
            return None
        buckets = [self._bucket(("global", bot_id), lim.global_per_second, lim.global_burst, now)]
        if chat_id is not None:
            buckets.append(
                self._bucket(("chat", bot_id, chat_id), lim.chat_per_second, lim.chat_burst, now)
            )
            if is_group:
                buckets.append(
                    self._bucket(
                        ("group", bot_id, chat_id),
                        lim.group_per_minute / 60.0,
                        lim.group_burst,
                        now,
                    )
                )
        for bucket in buckets:
            if now < bucket.blocked_until:
                # ignoring retry_after: the window grows
                bucket.blocked_until += lim.penalty_seconds
                return max(1, math.ceil(bucket.blocked_until - now))
        for bucket in buckets:
            need = min(float(cost), bucket.burst)
            if bucket.tokens + 1e-9 < need:
                wait = (need - bucket.tokens) / bucket.rate
                retry_after = max(1, math.ceil(wait))
                bucket.blocked_until = now + retry_after
                return retry_after
        for bucket in buckets:
            bucket.tokens -= min(float(cost), bucket.burst)
        return None
