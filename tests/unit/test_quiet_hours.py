"""Quiet hours: what is held, until when, and what goes through (重大 cases)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.schedule_times import QuietHours
from services.chasing import Rules, hold_until

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = QuietHours(time(22, 0), time(7, 0))  # crosses midnight
NOON = QuietHours(time(12, 0), time(14, 0))  # within a day


def local(d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 3, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("22:00-07:00", NIGHT),
        (" 12:00-14:00 ", NOON),
        ("7:00-7:00", None),  # empty range: no quiet hours
        ("", None),
        (None, None),
    ],
)
def test_parse(value: str | None, expected: QuietHours | None) -> None:
    assert QuietHours.parse(value) == expected


@pytest.mark.parametrize("value", ["22:00", "22-07", "25:00-07:00", "22:00-7", "ab:cd-07:00"])
def test_parse_refuses_what_is_not_a_range(value: str) -> None:
    with pytest.raises(ValueError):
        QuietHours.parse(value)


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (time(21, 59), False),
        (time(22, 0), True),  # the start is quiet
        (time(23, 59), True),
        (time(0, 0), True),
        (time(6, 59), True),
        (time(7, 0), False),  # the end is not
        (time(12, 0), False),
    ],
)
def test_contains_across_midnight(at: time, quiet: bool) -> None:
    assert NIGHT.contains(at) is quiet


def test_contains_within_a_day() -> None:
    assert not NOON.contains(time(11, 59))
    assert NOON.contains(time(12, 0)) and NOON.contains(time(13, 59))
    assert not NOON.contains(time(14, 0)) and not NOON.contains(time(23, 0))


@pytest.mark.parametrize(
    ("now", "release"),
    [
        (local(10, 22, 0), local(11, 7, 0)),  # evening: the end is tomorrow morning
        (local(10, 23, 30), local(11, 7, 0)),
        (local(11, 0, 5), local(11, 7, 0)),  # after midnight: this morning
        (local(11, 6, 59), local(11, 7, 0)),
        (local(11, 7, 0), None),  # over
        (local(10, 18, 0), None),  # digest time: not quiet
    ],
)
def test_release_is_the_end_of_the_quiet_hours(now: datetime, release: datetime | None) -> None:
    got = NIGHT.release_at(now, TZ)
    assert got == release
    if got is not None:
        assert got.tzinfo is UTC  # stored in UTC
        assert got.astimezone(TZ).time() == time(7, 0)


def test_release_at_month_end_crosses_into_the_next_month() -> None:
    assert NIGHT.release_at(datetime(2026, 3, 31, 23, 0, tzinfo=TZ), TZ) == datetime(
        2026, 4, 1, 7, 0, tzinfo=TZ
    )


def test_release_reads_local_time_not_utc() -> None:
    # 15:00 UTC is 23:00 in Shanghai: quiet there, though 15:00 looks like the afternoon
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert NIGHT.release_at(now, TZ) == local(11, 7, 0)
    assert NIGHT.release_at(now, ZoneInfo("Europe/London")) is None


RULES = Rules(tz=TZ, quiet=NIGHT)


def test_a_nag_in_quiet_hours_waits_for_their_end() -> None:
    assert hold_until(local(10, 23, 0), RULES) == local(11, 7, 0)
    assert hold_until(local(11, 3, 0), RULES, urgent=False) == local(11, 7, 0)


def test_critical_cases_go_through_quiet_hours() -> None:
    assert hold_until(local(10, 23, 0), RULES, urgent=True) is None
    assert hold_until(local(11, 3, 0), RULES, urgent=True) is None


def test_nothing_is_held_outside_quiet_hours_or_without_them() -> None:
    assert hold_until(local(10, 9, 30), RULES) is None
    assert hold_until(local(10, 23, 0), Rules(tz=TZ, quiet=None)) is None
