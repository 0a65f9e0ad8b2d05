"""A window is made once per (period, local day, zone) and a pace reads the window's local
days once (domain/periods `_window_of`, `day_progress`): the same windows and paces as the
rules spelt out afresh, across DST changes and windows not of the instant's own day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.pacing import Pace, pace
from domain.periods import (
    PeriodWindow,
    QuotaPeriod,
    _bounds,
    completed_local_days,
    day_progress,
    days_left,
    local_day_count,
    window_at,
)

ZONES = [ZoneInfo(z) for z in ("Asia/Shanghai", "America/New_York", "Europe/London", "UTC")]


def _fresh_window(period: QuotaPeriod, now: datetime, tz: tzinfo) -> PeriodWindow:
    """`window_at` as it was, with nothing kept."""
    first, stop, key = _bounds(period, now.astimezone(tz).date())

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

    return PeriodWindow(period=period, start=midnight(first), end=midnight(stop), key=key)


def _fresh_pace(count: int, done: int, window: PeriodWindow, now: datetime, tz: tzinfo) -> Pace:
    """`pace` as it was: `expected_by_now` and `days_left` each read the local days."""
    first, stop = window.start.astimezone(tz).date(), window.end.astimezone(tz).date()
    total = (stop - first).days
    if now >= window.end:
        completed = total
    elif now < window.start:
        completed = 0
    else:
        completed = min(max((now.astimezone(tz).date() - first).days, 0), total)
    expected = count if now >= window.end else count * completed // total
    return Pace(quota=count, done=done, expected=expected, days_left=total - completed)


instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@given(
    now=instants,
    shift=st.integers(min_value=-40 * 24, max_value=40 * 24),
    zone=st.sampled_from(ZONES),
    period=st.sampled_from(list(QuotaPeriod)),
    count=st.integers(min_value=0, max_value=40),
    done=st.integers(min_value=0, max_value=40),
)
def test_windows_and_paces_are_the_fresh_ones(
    now: datetime, shift: int, zone: ZoneInfo, period: QuotaPeriod, count: int, done: int
) -> None:
    window = window_at(period, now, zone)
    assert window == _fresh_window(period, now, zone)
    assert window_at(str(period), now, zone) == window
    later = now + timedelta(hours=shift)  # before, in or after the window
    assert pace(count, done, window, later, zone) == _fresh_pace(count, done, window, later, zone)
    completed, total = day_progress(window, later, zone)
    assert (completed, total) == (
        completed_local_days(window, later, zone),
        local_day_count(window, zone),
    )
    assert total - completed == days_left(window, later, zone)


def test_dst_days_and_unknown_periods() -> None:
    ny = ZoneInfo("America/New_York")
    for day in (datetime(2026, 3, 8, 12, tzinfo=UTC), datetime(2026, 11, 1, 12, tzinfo=UTC)):
        for period in QuotaPeriod:
            assert window_at(period, day, ny) == _fresh_window(period, day, ny)
    with pytest.raises(ValueError):
        window_at("year", datetime(2026, 3, 8, tzinfo=UTC), ny)
    with pytest.raises(ValueError):
        window_at("day", datetime(2026, 3, 8), ny)
    window = window_at("day", datetime(2026, 3, 8, 12, tzinfo=UTC), ny)
    with pytest.raises(ValueError):
        pace(1, 0, window, datetime(2026, 3, 8), ny)
