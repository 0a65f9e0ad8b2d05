"""Working days and rectification deadlines across China's holidays and adjusted weekends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import ChinaWorkCalendar, WeekdayCalendar, WorkCalendar
from domain.cases import Severity
from domain.deadlines import (
    DEFAULT_DEADLINE_HOURS,
    deadline_for,
    extend_deadline,
    working_days_overdue,
    working_time_between,
)

SH = ZoneInfo("Asia/Shanghai")
CHINA = ChinaWorkCalendar()
WEEKDAYS = WeekdayCalendar()


def local(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time, as the aware UTC instant the functions take and return."""
    return datetime(y, m, d, h, mi, tzinfo=SH).astimezone(UTC)


def due(start: datetime, hours: int, calendar: WorkCalendar = CHINA) -> datetime:
    result = deadline_for(start, hours, SH, calendar)
    assert result.tzinfo is UTC
    return result


# --- the calendar data the tests rely on (from the chinesecalendar package) --------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Spring Festival 2026: 2/15 (Sun) – 2/23 (Mon) off; Saturdays 2/14 and 2/28 worked.
        (date(2026, 2, 13), True),
        (date(2026, 2, 14), True),
        (date(2026, 2, 15), False),
        (date(2026, 2, 16), False),
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),
        (date(2026, 3, 1), False),
        # National Day 2025: 10/1 – 10/8 off; Sunday 9/28 and Saturday 10/11 worked.
        (date(2025, 9, 27), False),
        (date(2025, 9, 28), True),
        (date(2025, 10, 1), False),
        (date(2025, 10, 8), False),
        (date(2025, 10, 9), True),
        (date(2025, 10, 11), True),
        (date(2025, 10, 12), False),
        # National Day 2026: 10/1 – 10/7 off; Sunday 9/20 and Saturday 10/10 worked;
        # Mid-Autumn Friday 9/25 off.
        (date(2026, 9, 19), False),
        (date(2026, 9, 20), True),
        (date(2026, 9, 25), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),
        (date(2026, 10, 11), False),
        # A plain weekend.
        (date(2025, 3, 15), False),
        (date(2025, 3, 16), False),
        (date(2025, 3, 17), True),
    ],
)
def test_china_calendar(day: date, working: bool) -> None:
    assert CHINA.is_workday(day) is working
    assert CHINA.knows(day)


def test_unknown_year_falls_back_to_monday_to_friday() -> None:
    # 2027 is not in the package (it knows 2004–2026): 1 January 2027 is a Friday, a holiday
    # in reality, but the fallback can only say "weekday".
    assert not CHINA.knows(date(2027, 1, 1))
    assert CHINA.is_workday(date(2027, 1, 1))
    assert not CHINA.is_workday(date(2027, 1, 2))
    assert not CHINA.knows(date(2003, 12, 31))
    for offset in range(14):
        day = date(2027, 2, 1) + timedelta(days=offset)
        assert CHINA.is_workday(day) == WEEKDAYS.is_workday(day) == (day.weekday() < 5)


def test_default_hours_match_the_source_documents() -> None:
    assert DEFAULT_DEADLINE_HOURS == {
        Severity.GENERAL: 168,
        Severity.MAJOR: 72,
        Severity.CRITICAL: 24,
    }


# --- deadline_for -------------------------------------------------------------------------


def test_plain_weekend_friday_to_monday() -> None:
    assert due(local(2025, 3, 14, 15), 24) == local(2025, 3, 17, 15)
    assert due(local(2025, 3, 14, 15), 24) == datetime(2025, 3, 17, 7, tzinfo=UTC)


def test_within_one_day() -> None:
    assert due(local(2025, 3, 17, 9, 30), 5) == local(2025, 3, 17, 14, 30)


def test_general_case_reported_just_before_spring_festival_2026() -> None:
    # Fri 2/13 10:00: 14 h that day, Sat 2/14 (worked) 24 h, the festival 2/15–2/23 is
    # skipped, 2/24–2/27 4 × 24 h, Sat 2/28 (worked) 24 h = 158 h, Sun 3/1 off, Mon 3/2 10 h.
    assert due(local(2026, 2, 13, 10), DEFAULT_DEADLINE_HOURS[Severity.GENERAL]) == local(
        2026, 3, 2, 10
    )
    # A plain Monday-to-Friday calendar would have said Tue 2/24 10:00.
    assert due(local(2026, 2, 13, 10), 168, WEEKDAYS) == local(2026, 2, 24, 10)


def test_critical_case_on_the_eve_of_spring_festival() -> None:
    # Sat 2/14 is an adjusted working day; 24 h from 18:00 leaves 18 h for Tue 2/24.
    assert due(local(2026, 2, 14, 18), 24) == local(2026, 2, 24, 18)


def test_national_day_2025_adjusted_sunday_counts() -> None:
    # Fri 9/26 15:00 + 24 h: Sat 9/27 off, Sun 9/28 is a working day.
    assert due(local(2025, 9, 26, 15), 24) == local(2025, 9, 28, 15)


def test_national_day_2025_major_case_across_the_holiday() -> None:
    # Tue 9/30 09:00: 15 h, 10/1–10/8 off, Thu 10/9 and Fri 10/10 48 h, Sat 10/11 worked 9 h.
    assert due(local(2025, 9, 30, 9), 72) == local(2025, 10, 11, 9)


def test_national_day_2026_general_case() -> None:
    # Mon 9/28 08:00: 16 + 24 + 24 = 64 h by 9/30, 10/1–10/7 off, 10/8 and 10/9 → 112 h,
    # Sat 10/10 worked → 136 h, Sun 10/11 off, Mon 10/12 → 160 h, Tue 10/13 08:00.
    assert due(local(2026, 9, 28, 8), 168) == local(2026, 10, 13, 8)


def test_national_day_2026_report_on_a_saturday_before_an_adjusted_sunday() -> None:
    # Sat 9/19 20:00 is off: counting starts Sun 9/20 00:00, a working day.
    assert due(local(2026, 9, 19, 20), 12) == local(2026, 9, 20, 12)


def test_mid_autumn_2026_long_weekend() -> None:
    # Thu 9/24 12:00: 12 h, Fri 9/25 (Mid-Autumn) and the weekend off, Mon 9/28 12 h.
    assert due(local(2026, 9, 24, 12), 24) == local(2026, 9, 28, 12)


def test_start_on_a_holiday_counts_from_the_next_working_morning() -> None:
    # Fri 10/3/2025 is inside National Day: counting starts Thu 10/9 00:00.
    assert due(local(2025, 10, 3, 14, 30), 10) == local(2025, 10, 9, 10)


def test_hours_running_out_at_midnight_end_at_that_midnight() -> None:
    assert due(local(2025, 10, 3, 14, 30), 24) == local(2025, 10, 10)
    # ... even when the next day is not a working day: Fri 24:00 is Sat 00:00.
    assert due(local(2025, 3, 14), 24) == local(2025, 3, 15)


def test_zero_hours_is_the_start() -> None:
    start = local(2025, 10, 3, 14, 30)
    assert due(start, 0) == start


def test_local_date_decides_not_the_utc_date() -> None:
    # 2026-02-13 20:00 UTC is Sat 2/14 04:00 in Shanghai, an adjusted working day: 20 h left
    # there, then 4 h on Tue 2/24 → 04:00 local, which is still Mon 2/23 (a holiday) in UTC.
    start = datetime(2026, 2, 13, 20, tzinfo=UTC)
    assert due(start, 24) == datetime(2026, 2, 23, 20, tzinfo=UTC)
    # 2025-03-14 17:00 UTC is Fri in UTC but Sat 01:00 in Shanghai: counting starts Mon.
    assert due(datetime(2025, 3, 14, 17, tzinfo=UTC), 8) == datetime(2025, 3, 17, 0, tzinfo=UTC)


def test_start_in_another_offset_is_the_same_instant() -> None:
    start = datetime(2025, 3, 14, 9, tzinfo=ZoneInfo("America/New_York"))  # Fri 21:00 SH
    assert due(start, 5) == local(2025, 3, 17, 2)


def test_shanghai_has_no_dst_so_every_day_is_24_hours() -> None:
    for day in (date(2025, 3, 31), date(2025, 10, 27), date(2026, 3, 30)):
        start = datetime(day.year, day.month, day.day, tzinfo=SH)
        end = start.astimezone(UTC) + timedelta(hours=24)
        assert end.astimezone(SH).hour == 0


class EveryDay:
    def is_workday(self, day: date, /) -> bool:
        return True


def test_a_zone_with_dst_counts_real_hours() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 29 March 2025 12:00 CET; the clocks jump on the 30th, a 23-hour day.
    start = datetime(2025, 3, 29, 12, tzinfo=berlin)
    result = deadline_for(start, 24, berlin, EveryDay())
    assert result == datetime(2025, 3, 30, 11, tzinfo=UTC)
    assert result.astimezone(berlin).hour == 13


def test_mistakes_by_the_caller_raise() -> None:
    with pytest.raises(ValueError):
        deadline_for(datetime(2025, 3, 14, 15), 24, SH, CHINA)
    with pytest.raises(ValueError):
        deadline_for(local(2025, 3, 14, 15), -1, SH, CHINA)

    class Never:
        def is_workday(self, day: date, /) -> bool:
            return False

    with pytest.raises(ValueError):
        deadline_for(local(2025, 3, 14, 15), 1, SH, Never())


def test_fallback_year_2027() -> None:
    # Fri 2/5/2027 15:00 + 24 h: the fallback skips the weekend like any other.
    assert due(local(2027, 2, 5, 15), 24) == local(2027, 2, 8, 15)
    # Across the year end: Thu 12/31/2026 (known) 12 h, Fri 1/1/2027 (fallback: a weekday)
    # 24 h, the weekend, Mon 1/4 12 h.
    assert due(local(2026, 12, 31, 12), 48) == local(2027, 1, 4, 12)


# --- extend_deadline ------------------------------------------------------------------------


def test_extension_counts_from_the_current_deadline() -> None:
    deadline = local(2025, 9, 26, 15)  # Fri
    now = local(2025, 9, 25, 10)
    assert extend_deadline(deadline, 24, now=now, tz=SH, calendar=CHINA) == local(2025, 9, 28, 15)


def test_late_extension_counts_from_now() -> None:
    deadline = local(2025, 9, 26, 15)
    now = local(2025, 9, 30, 9)
    assert extend_deadline(deadline, 72, now=now, tz=SH, calendar=CHINA) == local(2025, 10, 11, 9)


# --- working_days_overdue -------------------------------------------------------------------


def overdue(deadline: datetime, now: datetime) -> int:
    return working_days_overdue(deadline, now, SH, CHINA)


def test_not_overdue_is_zero() -> None:
    deadline = local(2025, 3, 17, 15)
    assert overdue(deadline, local(2025, 3, 17, 14)) == 0
    assert overdue(deadline, deadline) == 0


def test_overdue_across_a_weekend() -> None:
    deadline = local(2025, 3, 14, 15)  # Fri
    assert overdue(deadline, local(2025, 3, 14, 23, 59)) == 0  # the rest of Friday
    assert overdue(deadline, local(2025, 3, 17)) == 0  # the weekend does not count
    assert overdue(deadline, local(2025, 3, 17, 23, 59)) == 0  # Monday not over yet
    assert overdue(deadline, local(2025, 3, 18)) == 1
    assert overdue(deadline, local(2025, 3, 19, 12)) == 2


def test_a_deadline_at_midnight_counts_that_day() -> None:
    assert overdue(local(2025, 3, 17), local(2025, 3, 18)) == 1


def test_overdue_across_national_day_2025() -> None:
    deadline = local(2025, 9, 30, 15)
    assert overdue(deadline, local(2025, 10, 9)) == 0  # 10/1–10/8 off
    assert overdue(deadline, local(2025, 10, 10)) == 1  # Thu 10/9 ended
    assert overdue(deadline, local(2025, 10, 12)) == 3  # Fri 10/10 and Sat 10/11 (worked)
    assert overdue(deadline, local(2025, 10, 14)) == 4  # Sun 10/12 off, Mon 10/13


def test_overdue_across_spring_festival_2026() -> None:
    deadline = local(2026, 2, 13, 18)
    assert overdue(deadline, local(2026, 2, 15)) == 1  # Sat 2/14 was worked
    assert overdue(deadline, local(2026, 2, 24, 12)) == 1  # the festival does not count
    assert overdue(deadline, local(2026, 2, 25)) == 2


def test_overdue_with_the_weekday_fallback() -> None:
    deadline = local(2027, 2, 5, 15)
    assert working_days_overdue(deadline, local(2027, 2, 9), SH, CHINA) == 1


# --- properties -------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(UTC)
)
calendars = st.sampled_from([CHINA, WEEKDAYS])


@settings(max_examples=150, deadline=None)
@given(start=instants, hours=st.integers(0, 400), calendar=calendars)
def test_deadline_leaves_exactly_the_hours_of_working_time(
    start: datetime, hours: int, calendar: WorkCalendar
) -> None:
    end = deadline_for(start, hours, SH, calendar)
    assert end >= start
    assert working_time_between(start, end, SH, calendar) == timedelta(hours=hours)
    if hours:
        # The earliest such instant: the deadline lies inside (or at the end of) a working day.
        just_before = end - timedelta(microseconds=1)
        assert calendar.is_workday(just_before.astimezone(SH).date())


@settings(max_examples=150, deadline=None)
@given(start=instants, a=st.integers(1, 200), b=st.integers(0, 200), calendar=calendars)
def test_deadlines_add_up(start: datetime, a: int, b: int, calendar: WorkCalendar) -> None:
    step = deadline_for(start, a, SH, calendar)
    assert deadline_for(step, b, SH, calendar) == deadline_for(start, a + b, SH, calendar)


@settings(max_examples=150, deadline=None)
@given(deadline=instants, days=st.integers(0, 30), calendar=calendars)
def test_overdue_days_match_deadline_arithmetic(
    deadline: datetime, days: int, calendar: WorkCalendar
) -> None:
    # Starting from the first local midnight at or after the deadline, N working days of
    # 24 h each have passed exactly when N whole working days have ended.
    local_deadline = deadline.astimezone(SH)
    day = local_deadline.date()
    if local_deadline.time() != datetime.min.time():
        day += timedelta(days=1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=SH)
    now = deadline_for(midnight, 24 * days, SH, calendar)
    assert working_days_overdue(deadline, now, SH, calendar) == days
    if days:
        assert working_days_overdue(deadline, now - timedelta(seconds=1), SH, calendar) == days - 1
