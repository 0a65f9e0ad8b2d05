"""Clocks for the emulator: the real one, and a manual one tests move by hand.

The token buckets of the flood limits and the dates stamped on messages read the
clock, so a test can drain a bucket, advance the clock by ten seconds, and see it
refilled without waiting ten real seconds. Long-poll waits (getUpdates timeout,
expect_reply timeouts) are real asyncio waits and do not read this clock.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (token buckets)."""
        ...

    def time(self) -> float:
        """Unix time in seconds (message dates)."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to: ``clock.advance(1.5)``."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._start = start
        self._offset = 0.0

    def monotonic(self) -> float:
        return self._offset

    def time(self) -> float:
        return self._start + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._offset += seconds
