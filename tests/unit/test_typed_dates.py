"""Deadlines as people type them, read on a fixed "now": Tuesday 2026-03-10 09:00 in
Asia/Shanghai (the e2e tests' morning)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.typed_dates import END_OF_WORKDAY, DateProblem, parse_deadline

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=SH)


def at(y: int, m: int, d: int, h: int = 18, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH).astimezone(UTC)


def read(text: str, now: datetime = NOW) -> datetime | DateProblem:
    return parse_deadline(text, now=now, tz=SH)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a full date, in the usual spellings; no time: the end of the working day
        ("2026-12-04", at(2026, 12, 4)),
        ("2026-3-20", at(2026, 3, 20)),
        ("2026/12/4", at(2026, 12, 4)),
        ("2026.12.04", at(2026, 12, 4)),
        ("2026年12月4日", at(2026, 12, 4)),
        ("2026年12月4号", at(2026, 12, 4)),
        ("２０２６－１２－０４", at(2026, 12, 4)),  # full-width, as some keyboards type
        # with a time of day
        ("2026-12-04 18:00", at(2026, 12, 4, 18)),
        ("2026年12月4日 18:00", at(2026, 12, 4, 18)),
        ("2026年12月4日18:00", at(2026, 12, 4, 18)),
        ("2026-12-04 9:05", at(2026, 12, 4, 9, 5)),
        ("2026-12-04 17：30", at(2026, 12, 4, 17, 30)),
        # month and day: this year's
        ("12月4日", at(2026, 12, 4)),
        ("12月4号", at(2026, 12, 4)),
        ("3月20日", at(2026, 3, 20)),
        ("12-04", at(2026, 12, 4)),
        ("12/4", at(2026, 12, 4)),
        ("12-04 18:00", at(2026, 12, 4, 18)),
        ("12-4 9:30", at(2026, 12, 4, 9, 30)),
        ("12月4日 下午3点", at(2026, 12, 4, 15)),
        ("12月4日 上午10点半", at(2026, 12, 4, 10, 30)),
        ("12月4日 8点15分", at(2026, 12, 4, 8, 15)),
        ("12月4日 晚上8点", at(2026, 12, 4, 20)),
        ("12月4日 14时", at(2026, 12, 4, 14)),
        # words for days
        ("今天", at(2026, 3, 10)),
        ("今天 17:00", at(2026, 3, 10, 17)),
        ("明天", at(2026, 3, 11)),
        ("明天 9:00", at(2026, 3, 11, 9)),
        ("明天下午5点", at(2026, 3, 11, 17)),
        ("后天", at(2026, 3, 12)),
        ("大后天", at(2026, 3, 13)),
        # weekdays: the coming one (Tuesday 10 March today), today included
        ("周五", at(2026, 3, 13)),
        ("星期五", at(2026, 3, 13)),
        ("礼拜五", at(2026, 3, 13)),
        ("本周五", at(2026, 3, 13)),
        ("这周五 12:00", at(2026, 3, 13, 12)),
        ("周二", at(2026, 3, 10)),
        ("周一", at(2026, 3, 16)),
        ("周日", at(2026, 3, 15)),
        ("星期天", at(2026, 3, 15)),
        # next week's: Monday 16 to Sunday 22
        ("下周一", at(2026, 3, 16)),
        ("下周五", at(2026, 3, 20)),
        ("下周二 10:00", at(2026, 3, 17, 10)),
        ("下星期日", at(2026, 3, 22)),
        ("  明天  ", at(2026, 3, 11)),
    ],
)
def test_a_typed_deadline_is_read(text: str, expected: datetime) -> None:
    assert read(text) == expected


def test_without_a_time_the_deadline_is_the_end_of_the_working_day() -> None:
    assert END_OF_WORKDAY.hour == 18
    found = read("明天")
    assert isinstance(found, datetime)
    assert found.tzinfo is UTC
    assert found.astimezone(SH).time() == END_OF_WORKDAY


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # a past date, or a past moment of today
        ("2026-03-09", DateProblem.PAST),
        ("2020-01-01", DateProblem.PAST),
        ("3月9日", DateProblem.PAST),  # yesterday, not next year's 9 March
        ("3月1日", DateProblem.PAST),
        ("03-01", DateProblem.PAST),
        ("今天 8:00", DateProblem.PAST),
        ("今天 9:00", DateProblem.PAST),  # not after now
        # dates and times that do not exist
        ("2026-02-30", DateProblem.IMPOSSIBLE),
        ("2026年2月29日", DateProblem.IMPOSSIBLE),  # 2026 is not a leap year
        ("13月1日", DateProblem.IMPOSSIBLE),
        ("2月30日", DateProblem.IMPOSSIBLE),
        ("12-32", DateProblem.IMPOSSIBLE),
        ("明天 25:00", DateProblem.IMPOSSIBLE),
        ("明天 24:00", DateProblem.IMPOSSIBLE),
        ("明天 18:75", DateProblem.IMPOSSIBLE),
        # a time without a date
        ("18:00", DateProblem.TIME_ONLY),
        ("下午3点", DateProblem.TIME_ONLY),
        ("9点半", DateProblem.TIME_ONLY),
        # too far ahead
        ("2027-03-12", DateProblem.TOO_FAR),
        ("2030年1月1日", DateProblem.TOO_FAR),
        # not a deadline at all
        ("", DateProblem.UNREADABLE),
        ("尽快", DateProblem.UNREADABLE),
        ("下下周", DateProblem.UNREADABLE),
        ("明天 早点", DateProblem.UNREADABLE),
        ("12月4日前后", DateProblem.UNREADABLE),
        ("20261204", DateProblem.UNREADABLE),
    ],
)
def test_a_typed_text_that_is_no_deadline_says_why(text: str, problem: DateProblem) -> None:
    assert read(text) == problem


def test_a_date_without_a_year_is_the_nearest_one() -> None:
    december = datetime(2026, 12, 20, 10, 0, tzinfo=SH)
    assert read("1月5日", december) == at(2027, 1, 5)
    assert read("1-5", december) == at(2027, 1, 5)
    assert read("12月19日", december) == DateProblem.PAST


def test_the_weekday_of_today_is_today_until_its_end_of_day() -> None:
    friday_evening = datetime(2026, 3, 13, 19, 0, tzinfo=SH)
    assert read("周五", friday_evening) == DateProblem.PAST
    assert read("下周五", friday_evening) == at(2026, 3, 20)
    sunday = datetime(2026, 3, 15, 9, 0, tzinfo=SH)
    assert read("下周一", sunday) == at(2026, 3, 16)  # weeks start on Monday
    assert read("周一", sunday) == at(2026, 3, 16)


def test_a_year_ahead_is_the_limit() -> None:
    assert read("2027-03-10 08:00") == at(2027, 3, 10, 8)
    assert read("2027-03-11 10:00") == DateProblem.TOO_FAR


def test_now_must_carry_its_zone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_deadline("明天", now=datetime(2026, 3, 10, 9), tz=SH)
