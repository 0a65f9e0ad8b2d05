"""Rectification deadlines (限期整改) counted in working time.

A deadline of N hours means N hours of *working-day time*: a local working day counts from
00:00 to 24:00 in the deployment's time zone, non-working days (weekends, public holidays)
do not count at all. 24 hours from Friday 15:00 is therefore Monday 15:00 when Monday is a
working day. All arithmetic is done on UTC instants, so a zone with daylight saving time
counts a 23- or 25-hour local day as it really is; the default zone, Asia/Shanghai, has none.

Inputs and outputs are timezone-aware datetimes; the functions return UTC. Nothing here
reads a clock: `now` is always passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from domain.calendar import WorkCalendar
from domain.cases import Severity
from domain.typed_dates import END_OF_WORKDAY

DEFAULT_DEADLINE_HOURS: Final[Mapping[Severity, int]] = {
    Severity.GENERAL: 168,  # 一般: 7 working days
    Severity.MAJOR: 72,  # 较大: 3 working days
    Severity.CRITICAL: 24,  # 重大: 1 working day
}
"""The deadlines the source documents give (scenario files: `severities`)."""

_MAX_IDLE_DAYS: Final = 3660
"""A calendar with no working day in ten years is a bug, not a long holiday."""


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local `day` begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _next_workday(day: date, calendar: WorkCalendar) -> date:
    """The first working day on or after `day`."""
    for _ in range(_MAX_IDLE_DAYS):
        if calendar.is_workday(day):
            return day
        day += timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_IDLE_DAYS} days of {day}")


def deadline_for(start: datetime, hours: float, tz: ZoneInfo, calendar: WorkCalendar) -> datetime:
    """The instant (UTC) at which `hours` of working time have passed since `start`.

    If `start` falls on a non-working day, counting starts at the next working day's 00:00
    local. When the hours run out exactly at midnight, the result is that midnight (the
    start of the next day, working or not). `hours` = 0 returns `start`.
    """
    _require_aware("start", start)
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours}")
    cursor = start.astimezone(UTC)
    remaining = timedelta(hours=hours)
    if not remaining:
        return cursor
    day = cursor.astimezone(tz).date()
    while True:
        workday = _next_workday(day, calendar)
        if workday != day:
            cursor = _day_start(workday, tz)
            day = workday
        day_end = _day_start(day + timedelta(days=1), tz)
        available = day_end - cursor
        if remaining <= available:
            return cursor + remaining
        remaining -= available
        cursor = day_end
        day += timedelta(days=1)


def due_end_of_day(
    start: datetime,
    hours: float,
    tz: ZoneInfo,
    calendar: WorkCalendar,
    *,
    closing: time = END_OF_WORKDAY,
) -> datetime:
    """A new case's deadline: the end of the working day (`closing`, 18:00 local) of the day
    on which `hours` of working time from `start` run out, not the minute of the report.

    Hours that run out exactly at midnight ran out in the day before it. The result is
    never before `start`: hours that run out on the day they started, after its closing,
    leave at the exact instant."""
    exact = deadline_for(start, hours, tz, calendar)
    local = exact.astimezone(tz)
    day = local.date()
    if local.time() == time(0) and exact > start.astimezone(UTC):
        day -= timedelta(days=1)
    closed = datetime.combine(day, closing, tzinfo=tz).astimezone(UTC)
    return closed if closed >= start.astimezone(UTC) else exact


def working_time_between(
    start: datetime, end: datetime, tz: ZoneInfo, calendar: WorkCalendar
) -> timedelta:
    """How much working time lies between two instants (zero if `end` <= `start`)."""
    _require_aware("start", start)
    _require_aware("end", end)
    cursor, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    day = cursor.astimezone(tz).date()
    while cursor < end:
        day_end = _day_start(day + timedelta(days=1), tz)
        if calendar.is_workday(day):
            total += min(day_end, end) - cursor
        cursor = day_end
        day += timedelta(days=1)
    return total


def working_days_overdue(
    deadline: datetime, now: datetime, tz: ZoneInfo, calendar: WorkCalendar
) -> int:
    """How many whole local working days have ended since `deadline` passed.

    A working day counts when all of it, 00:00 to 24:00 local, lies after the deadline and
    has ended by `now`. The day the deadline falls in counts only if the deadline is its
    00:00. So a case due Friday 15:00 is 0 days overdue until Tuesday 00:00 (Monday ended)
    and 1 from then on, if Monday is a working day. Used for "escalate after N working days
    overdue": escalate when the result is >= N.
    """
    _require_aware("deadline", deadline)
    _require_aware("now", now)
    deadline, now = deadline.astimezone(UTC), now.astimezone(UTC)
    if now <= deadline:
        return 0
    day = deadline.astimezone(tz).date()
    if _day_start(day, tz) < deadline:
        day += timedelta(days=1)
    count = 0
    while _day_start(day + timedelta(days=1), tz) <= now:
        if calendar.is_workday(day):
            count += 1
        day += timedelta(days=1)
    return count


def extend_deadline(
    deadline: datetime,
    hours: float,
    *,
    now: datetime,
    tz: ZoneInfo,
    calendar: WorkCalendar,
) -> datetime:
    """A new deadline after an approved extension (延期) of `hours` working hours.

    Counted from the current deadline, or from `now` if the deadline has already passed
    (an extension approved late still gives the full extra time).
    """
    _require_aware("deadline", deadline)
    _require_aware("now", now)
    return deadline_for(max(deadline, now), hours, tz, calendar)
