"""Working days (工作日), honouring China's official holiday calendar.

China moves working days around its public holidays (调休): a Saturday or Sunday next to a
festival can be a working day, and weekdays inside the festival are holidays. The State
Council publishes the calendar each winter for the next year; the maintained package
`chinesecalendar` (import name `chinese_calendar`) carries it, currently for 2004–2026.

For a year the package does not know it raises NotImplementedError; `ChinaWorkCalendar`
then falls back to plain Monday–Friday for that date. That is the honest best guess until the
package is upgraded (each year's release adds the next year): deadlines near a festival in an
unknown year may then be a few days early or late. `knows(day)` tells whether a date was
answered from the official calendar.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Protocol

import chinese_calendar


class WorkCalendar(Protocol):
    """Which local dates are working days."""

    def is_workday(self, day: date, /) -> bool: ...


class WeekdayCalendar:
    """Monday to Friday, no holidays."""

    def is_workday(self, day: date, /) -> bool:
        return day.weekday() < 5

    def __repr__(self) -> str:
        return "WeekdayCalendar()"


@lru_cache(maxsize=4096)
def _official(day: date) -> bool | None:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class ChinaWorkCalendar:
    """Mainland China's official working days, including adjusted weekends (调休).

    Falls back to Monday–Friday for years the installed `chinesecalendar` does not cover.
    """

    def is_workday(self, day: date, /) -> bool:
        official = _official(day)
        if official is None:
            return day.weekday() < 5
        return official

    def knows(self, day: date) -> bool:
        """True when `day` is covered by the official calendar (not the fallback)."""
        return _official(day) is not None

    def __repr__(self) -> str:
        return "ChinaWorkCalendar()"
