"""A new case's deadline falls at the end of the working day (18:00 local) on which its
working hours run out, across China's holidays and adjusted weekends."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import ChinaWorkCalendar
from domain.deadlines import due_end_of_day

SH = ZoneInfo("Asia/Shanghai")
CHINA = ChinaWorkCalendar()


def local(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Tuesday 09:37, 7 working days: the Thursday after next... at 18:00, not 09:37
        (local(2026, 3, 10, 9, 37), 168, local(2026, 3, 19, 18)),
        # 3 working days from a Tuesday: Friday 18:00
        (local(2026, 3, 10, 9, 37), 72, local(2026, 3, 13, 18)),
        # 1 working day from Friday 15:00: Monday 18:00 (the weekend does not count)
        (local(2026, 3, 13, 15), 24, local(2026, 3, 16, 18)),
        # reported on a Saturday: the hours start Monday 00:00 and run out at Tuesday 00:00,
        # that is at the end of Monday
        (local(2026, 3, 14, 11), 24, local(2026, 3, 16, 18)),
        # before the Spring Festival 2026 (2/15–2/23 off): Friday 2/13 + 1 working day is
        # Saturday 2/14 (an adjusted working day)
        (local(2026, 2, 13, 10), 24, local(2026, 2, 14, 18)),
        # Saturday 2/14 + 1 working day: the festival does not count; Tuesday 2/24
        (local(2026, 2, 14, 10), 24, local(2026, 2, 24, 18)),
        # hours that run out in the evening still end at that day's closing
        (local(2026, 3, 10, 20), 24, local(2026, 3, 11, 18)),
    ],
)
def test_a_new_deadline_is_the_end_of_a_working_day(
    start: datetime, hours: int, expected: datetime
) -> None:
    due = due_end_of_day(start, hours, SH, CHINA)
    assert due == expected
    assert due.tzinfo is UTC


def test_never_before_the_start() -> None:
    late = local(2026, 3, 10, 20)
    assert due_end_of_day(late, 0, SH, CHINA) == late
    assert due_end_of_day(local(2026, 3, 10, 9), 0, SH, CHINA) == local(2026, 3, 10, 18)
