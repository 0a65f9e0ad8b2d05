"""Time is injected: the application reads the clock, the rules receive `now`.

One set of clocks for the bot and for the Telegram emulator (sandbox/): the bot reads wall
time (`now`: periods, deadlines, quiet hours); the emulator stamps message dates with `time`
and keeps its flood limits and callback-answer windows on `monotonic`, so a test can drain a
bucket, advance a `ManualClock` by ten seconds and see it refilled without waiting ten real
seconds. Long-poll waits are real asyncio waits and read no clock.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

EMULATOR_EPOCH: Final = datetime.fromtimestamp(1_750_000_000, UTC)
"""Where a `ManualClock` starts when a test names no instant (the emulator's tests)."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def time(self) -> float:
        """The current time as Unix seconds (message dates)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (token buckets, answer windows)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return _time.time()

    def monotonic(self) -> float:
        return _time.monotonic()


class ManualClock:
    """A clock that only moves when a test moves it: `set` puts the wall time anywhere (even
    back); `advance` moves it on by a timedelta or by seconds. `monotonic` counts only the
    moves forward, from 0."""

    def __init__(self, start: datetime = EMULATOR_EPOCH) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._elapsed = 0.0

    def now(self) -> datetime:
        return self._now

    def time(self) -> float:
        return self._now.timestamp()

    def monotonic(self) -> float:
        return self._elapsed

    def set(self, when: datetime) -> None:
        when = when.astimezone(UTC)
        self._elapsed += max((when - self._now).total_seconds(), 0.0)
        self._now = when

    def advance(self, by: timedelta | float) -> datetime:
        """Move on by `by` (a timedelta, or seconds); a clock does not go back."""
        delta = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if delta < timedelta(0):
            raise ValueError("a clock does not go back")
        self._elapsed += by.total_seconds() if isinstance(by, timedelta) else float(by)
        self._now += delta
        return self._now
