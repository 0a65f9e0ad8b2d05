from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.periods import (
    PeriodWindow,
    QuotaPeriod,
    completed_local_days,
    days_left,
    local_day_count,
    next_window,
    previous_window,
    window_at,
)

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
ZONES: list[tzinfo] = [
    UTC,
    SH,
    NY,
    ZoneInfo("Europe/London"),
    ZoneInfo("Australia/Lord_Howe"),  # 30-minute DST shift
    ZoneInfo("Pacific/Chatham"),  # +12:45 / +13:45
    ZoneInfo("America/Santiago"),  # DST changes at local midnight
    ZoneInfo("Pacific/Kiritimati"),  # +14
]


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_period_values() -> None:
    assert [p.value for p in QuotaPeriod] == ["day", "week", "month"]
    assert QuotaPeriod("week") is QuotaPeriod.WEEK


def test_day_window_in_shanghai() -> None:
    w = window_at(QuotaPeriod.DAY, sh(2026, 11, 29, 18, 0), SH)
    assert w == PeriodWindow(
        QuotaPeriod.DAY, utc(2026, 11, 28, 16), utc(2026, 11, 29, 16), "2026-11-29"
    )
    assert w.start.tzinfo is UTC and w.end.tzinfo is UTC


def test_week_window_is_iso_monday_to_monday() -> None:
    w = window_at(QuotaPeriod.WEEK, sh(2026, 11, 29, 23, 59), SH)  # a Sunday
    assert w.key == "2026-W48"
    assert w.start == sh(2026, 11, 23) and w.end == sh(2026, 11, 30)


def test_month_window() -> None:
    w = window_at(QuotaPeriod.MONTH, sh(2026, 11, 1, 0, 0), SH)
    assert w.key == "2026-11"
    assert w.start == utc(2026, 10, 31, 16) and w.end == utc(2026, 11, 30, 16)


def test_december_rolls_into_next_year() -> None:
    w = window_at(QuotaPeriod.MONTH, sh(2026, 12, 15), SH)
    assert w.key == "2026-12" and w.end == sh(2027, 1, 1)


@pytest.mark.parametrize(
    ("local", "key", "monday"),
    [
        ((2026, 12, 31), "2026-W53", (2026, 12, 28)),
        ((2027, 1, 1), "2026-W53", (2026, 12, 28)),
        ((2027, 1, 4), "2027-W01", (2027, 1, 4)),
        ((2025, 12, 29), "2026-W01", (2025, 12, 29)),
        ((2026, 4, 5), "2026-W14", (2026, 3, 30)),
    ],
)
def test_iso_week_keys_across_year_ends(
    local: tuple[int, int, int], key: str, monday: tuple[int, int, int]
) -> None:
    w = window_at(QuotaPeriod.WEEK, sh(*local, 12), SH)
    assert w.key == key
    assert w.start == sh(*monday)


def test_string_period_accepted() -> None:
    assert window_at("month", sh(2026, 2, 3), SH).period is QuotaPeriod.MONTH


def test_same_instant_different_zone_different_window() -> None:
    # 2026-03-01 00:30 in Shanghai is still 2026-02-28 in UTC.
    now = sh(2026, 3, 1, 0, 30)
    assert now.astimezone(UTC) == utc(2026, 2, 28, 16, 30)
    assert window_at(QuotaPeriod.DAY, now, SH).key == "2026-03-01"
    assert window_at(QuotaPeriod.DAY, now, UTC).key == "2026-02-28"
    assert window_at(QuotaPeriod.MONTH, now, SH).key == "2026-03"
    assert window_at(QuotaPeriod.MONTH, now, UTC).key == "2026-02"


def test_window_is_half_open() -> None:
    w = window_at(QuotaPeriod.DAY, sh(2026, 2, 28, 12), SH)
    assert w.start in w
    assert w.end - timedelta(microseconds=1) in w
    assert w.end not in w
    assert window_at(QuotaPeriod.DAY, w.end, SH).key == "2026-03-01"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        window_at(QuotaPeriod.DAY, datetime(2026, 1, 1), SH)


def test_previous_and_next_window() -> None:
    march = window_at(QuotaPeriod.MONTH, sh(2026, 3, 10), SH)
    feb = previous_window(march, SH)
    assert feb.key == "2026-02" and feb.end == march.start
    assert next_window(feb, SH) == march
    w1 = window_at(QuotaPeriod.WEEK, sh(2026, 1, 1), SH)
    assert w1.key == "2026-W01"
    assert previous_window(w1, SH).key == "2025-W52"
    jan1 = window_at(QuotaPeriod.DAY, sh(2026, 1, 1, 8), SH)
    assert previous_window(jan1, SH).key == "2025-12-31"


@pytest.mark.parametrize(
    ("period", "now", "count"),
    [
        (QuotaPeriod.DAY, (2026, 2, 28), 1),
        (QuotaPeriod.WEEK, (2026, 3, 31), 7),
        (QuotaPeriod.MONTH, (2026, 2, 10), 28),
        (QuotaPeriod.MONTH, (2028, 2, 10), 29),
        (QuotaPeriod.MONTH, (2026, 3, 10), 31),
        (QuotaPeriod.MONTH, (2026, 4, 10), 30),
    ],
)
def test_local_day_count(period: QuotaPeriod, now: tuple[int, int, int], count: int) -> None:
    assert local_day_count(window_at(period, sh(*now, 9), SH), SH) == count


def test_dst_day_is_one_local_day_of_23_hours() -> None:
    day = window_at(QuotaPeriod.DAY, datetime(2026, 3, 8, 12, tzinfo=NY), NY)
    assert day.end - day.start == timedelta(hours=23)
    assert local_day_count(day, NY) == 1
    month = window_at(QuotaPeriod.MONTH, datetime(2026, 3, 8, 12, tzinfo=NY), NY)
    assert month.end - month.start == timedelta(days=31, hours=-1)
    assert local_day_count(month, NY) == 31
    autumn = window_at(QuotaPeriod.DAY, datetime(2026, 11, 1, 12, tzinfo=NY), NY)
    assert autumn.end - autumn.start == timedelta(hours=25)


def test_days_left_includes_today() -> None:
    feb = window_at(QuotaPeriod.MONTH, sh(2026, 2, 1), SH)
    assert days_left(feb, sh(2026, 2, 1, 0, 0), SH) == 28
    assert days_left(feb, sh(2026, 2, 10, 23, 59), SH) == 19
    assert days_left(feb, sh(2026, 2, 28, 23, 59, 59), SH) == 1
    assert days_left(feb, feb.end, SH) == 0
    assert days_left(feb, sh(2026, 1, 15), SH) == 28  # not started yet


def test_completed_local_days() -> None:
    feb = window_at(QuotaPeriod.MONTH, sh(2026, 2, 1), SH)
    assert completed_local_days(feb, sh(2026, 1, 31, 23), SH) == 0
    assert completed_local_days(feb, sh(2026, 2, 1, 23), SH) == 0
    assert completed_local_days(feb, sh(2026, 2, 2, 0, 0), SH) == 1
    assert completed_local_days(feb, sh(2026, 2, 28, 23, 59), SH) == 27
    assert completed_local_days(feb, sh(2026, 3, 1), SH) == 28


def test_is_closed() -> None:
    w = window_at(QuotaPeriod.DAY, sh(2026, 2, 28), SH)
    assert not w.is_closed(w.end - timedelta(seconds=1))
    assert w.is_closed(w.end)


# --- properties ---------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
zones = st.sampled_from(ZONES)
periods = st.sampled_from(list(QuotaPeriod))


@given(period=periods, now=instants, tz=zones)
def test_window_contains_now_and_tiles(period: QuotaPeriod, now: datetime, tz: tzinfo) -> None:
    w = window_at(period, now, tz)
    assert now in w
    assert w.start < w.end
    prev = previous_window(w, tz)
    nxt = next_window(w, tz)
    assert prev.end == w.start and nxt.start == w.end
    assert len({prev.key, w.key, nxt.key}) == 3
    # Any instant inside the window maps back to the same window.
    assert window_at(period, w.start, tz) == w
    assert window_at(period, w.end - timedelta(microseconds=1), tz) == w


@given(period=periods, now=instants, tz=zones)
def test_day_counts_match_the_period(period: QuotaPeriod, now: datetime, tz: tzinfo) -> None:
    w = window_at(period, now, tz)
    n = local_day_count(w, tz)
    expected = {QuotaPeriod.DAY: {1}, QuotaPeriod.WEEK: {7}, QuotaPeriod.MONTH: {28, 29, 30, 31}}
    assert n in expected[period]
    assert 1 <= days_left(w, now, tz) <= n
    assert completed_local_days(w, now, tz) + days_left(w, now, tz) == n
