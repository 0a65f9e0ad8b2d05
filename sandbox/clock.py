"""The emulator's clocks are the application's (`domain.clock`): one set, so a test's
`ManualClock` is the same kind of object on both sides of the Bot API."""

from domain.clock import Clock, ManualClock, SystemClock

__all__ = ["Clock", "ManualClock", "SystemClock"]
