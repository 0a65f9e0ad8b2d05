"""Quota periods (day, week, month) as windows of time in the deployment's zone.

A period is counted in local time (the deployment's IANA zone, default Asia/Shanghai) but
its bounds are returned as aware UTC datetimes, the way times are stored.

- day: local midnight to the next local midnight;
- week: ISO week, Monday 00:00 to the next Monday 00:00;
- month: the 1st 00:00 to the next 1st 00:00.

A window is half-open: ``start <= t < end``. Its ``key`` names it stably ("2026-11-29",
"2026-W48", "2026-11") and is what the scheduler uses as the exactly-once key of nags and
digests, so it must never depend on anything but the period and the local calendar.

Local midnight that does not exist (a DST jump at 00:00) resolves to the first instant of
the day; an ambiguous one resolves to its first occurrence. Either way consecutive windows
tile the time line with no gap and no overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "PeriodWindow",
    "QuotaPeriod",
    "completed_local_days",
    "day_progress",
    "days_left",
    "local_day_count",
    "next_window",
    "previous_window",
    "window_at",
]


class QuotaPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class PeriodWindow:
    """One period instance: ``[start, end)`` in aware UTC, with its stable key."""

    period: QuotaPeriod
    start: datetime
    end: datetime
    key: str

    def __contains__(self, at: object) -> bool:
        if not isinstance(at, datetime):
            return False
        _require_aware(at)
        return self.start <= at < self.end

    def is_closed(self, now: datetime) -> bool:
        """True once ``now`` is at or after the window's end."""
        _require_aware(now)
        return now >= self.end


def _require_aware(dt: datetime, name: str = "now") -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {dt!r}")


def _local_midnight_utc(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _local_date(at: datetime, tz: tzinfo) -> date:
    return at.astimezone(tz).date()


def _first_of_next_month(day: date) -> date:
    if day.month == 12:
        return date(day.year + 1, 1, 1)
    return date(day.year, day.month + 1, 1)


def _bounds(period: QuotaPeriod, local_day: date) -> tuple[date, date, str]:
    """Local first day (inclusive), last day (exclusive) and key of the period."""
    if period is QuotaPeriod.DAY:
        return local_day, local_day + timedelta(days=1), local_day.isoformat()
    if period is QuotaPeriod.WEEK:
        monday = local_day - timedelta(days=local_day.weekday())
        iso = monday.isocalendar()
        return monday, monday + timedelta(days=7), f"{iso.year:04d}-W{iso.week:02d}"
    if period is QuotaPeriod.MONTH:
        first = local_day.replace(day=1)
        return first, _first_of_next_month(first), f"{first.year:04d}-{first.month:02d}"
    raise ValueError(f"unknown quota period {period!r}")  # pragma: no cover


def window_at(period: QuotaPeriod | str, now: datetime, tz: tzinfo) -> PeriodWindow:
    """The window of ``period`` that contains the instant ``now``, counted in ``tz``."""
    _require_aware(now)
    # A known period's member by lookup, not the Enum's call (several Python calls); any
    # other value goes to it and is refused as before.
    return _window_of(_PERIOD_OF.get(period) or QuotaPeriod(period), _local_date(now, tz), tz)


_PERIOD_OF: dict[str, QuotaPeriod] = {p.value: p for p in QuotaPeriod}


@lru_cache(maxsize=256)
def _window_of(period: QuotaPeriod, local_day: date, tz: tzinfo) -> PeriodWindow:
    """The window of ``period`` holding the local day: the same for every instant of the day
    (a step asks it several times, a scheduler's pass once per person)."""
    first, stop, key = _bounds(period, local_day)
    return PeriodWindow(
        period=period,
        start=_local_midnight_utc(first, tz),
        end=_local_midnight_utc(stop, tz),
        key=key,
    )


def previous_window(window: PeriodWindow, tz: tzinfo) -> PeriodWindow:
    """The window of the same period that ends where ``window`` starts."""
    first_local = _local_date(window.start, tz)
    return window_at(window.period, _local_midnight_utc(first_local - timedelta(days=1), tz), tz)


def next_window(window: PeriodWindow, tz: tzinfo) -> PeriodWindow:
    """The window of the same period that starts where ``window`` ends."""
    return window_at(window.period, window.end, tz)


def _local_first_and_stop(window: PeriodWindow, tz: tzinfo) -> tuple[date, date]:
    return _local_span(window.start, window.end, tz)


@lru_cache(maxsize=256)
def _local_span(start: datetime, end: datetime, tz: tzinfo) -> tuple[date, date]:
    return _local_date(start, tz), _local_date(end, tz)


def local_day_count(window: PeriodWindow, tz: tzinfo) -> int:
    """How many local calendar days the window spans (1, 7, or 28–31)."""
    first, stop = _local_first_and_stop(window, tz)
    return (stop - first).days


def completed_local_days(window: PeriodWindow, now: datetime, tz: tzinfo) -> int:
    """Local days of the window that have fully ended before ``now``'s local date.

    0 before the window and on its first day; all its days at or after its end.
    """
    return day_progress(window, now, tz)[0]


def days_left(window: PeriodWindow, now: datetime, tz: tzinfo) -> int:
    """Local days left in the window, today included; 0 once the window has ended."""
    completed, total = day_progress(window, now, tz)
    return total - completed


def day_progress(window: PeriodWindow, now: datetime, tz: tzinfo) -> tuple[int, int]:
    """(`completed_local_days`, `local_day_count`) of the window at ``now``, worked out
    together (a pace asks both, and each asked the window's local days again)."""
    _require_aware(now)
    first, stop = _local_span(window.start, window.end, tz)
    total = (stop - first).days
    if now >= window.end:
        return total, total
    if now < window.start:
        return 0, total
    return min(max((_local_date(now, tz) - first).days, 0), total), total
