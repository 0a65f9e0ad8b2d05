from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.pacing import (
    Pace,
    expected_by_now,
    fell_short,
    pace,
    shortfall,
    shortfall_recipients,
)
from domain.periods import PeriodWindow, QuotaPeriod, window_at

SH = ZoneInfo("Asia/Shanghai")


def sh(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


def month_pace(count: int, done: int, now: datetime, tz: ZoneInfo = SH) -> Pace:
    return pace(count, done, window_at(QuotaPeriod.MONTH, now, tz), now, tz)


# --- 5 patrols a month --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected", "days_left"),
    [
        (1, 0, 28),  # nothing completed yet
        (6, 0, 23),  # 5 days done: 25 // 28 = 0
        (7, 1, 22),  # 6 days done: 30 // 28 = 1, first day one is "behind"
        (10, 1, 19),  # 9 days: 45 // 28 = 1
        (17, 2, 12),  # 16 days: 80 // 28 = 2
        (28, 4, 1),  # 27 days: 135 // 28 = 4
    ],
)
def test_five_a_month_in_february_2026(day: int, expected: int, days_left: int) -> None:
    p = month_pace(5, 0, sh(2026, 2, day, 9, 30))
    assert (p.expected, p.days_left, p.quota, p.left) == (expected, days_left, 5, 5)


@pytest.mark.parametrize("month", [1, 3])
@pytest.mark.parametrize(
    ("day", "expected", "days_left"),
    [
        (1, 0, 31),
        (7, 0, 25),  # 6 days: 30 // 31 = 0
        (8, 1, 24),  # 7 days: 35 // 31 = 1
        (10, 1, 22),  # 9 days: 45 // 31 = 1
        (28, 4, 4),  # 27 days: 135 // 31 = 4
        (31, 4, 1),  # 30 days: 150 // 31 = 4
    ],
)
def test_five_a_month_in_a_31_day_month(
    month: int, day: int, expected: int, days_left: int
) -> None:
    p = month_pace(5, 0, sh(2026, month, day, 9, 30))
    assert (p.expected, p.days_left) == (expected, days_left)


def test_on_the_first_nobody_is_nagged() -> None:
    p = month_pace(5, 0, sh(2026, 2, 1, 9, 30))
    assert not p.behind and not p.urgent and not p.needs_nag and not p.met


def test_tenth_of_february_flags() -> None:
    assert month_pace(5, 0, sh(2026, 2, 10, 9, 30)).behind
    on_pace = month_pace(5, 1, sh(2026, 2, 10, 9, 30))
    assert not on_pace.behind and not on_pace.urgent and not on_pace.needs_nag
    assert on_pace.left == 4


def test_twenty_eighth_of_february() -> None:
    # Last day: anyone with a patrol left must do it today.
    p = month_pace(5, 4, sh(2026, 2, 28, 9, 30))
    assert (p.expected, p.left, p.days_left) == (4, 1, 1)
    assert not p.behind and p.urgent and p.needs_nag
    done = month_pace(5, 5, sh(2026, 2, 28, 9, 30))
    assert done.met and not done.needs_nag and done.left == 0


def test_twenty_eighth_of_march_has_four_days() -> None:
    p = month_pace(5, 1, sh(2026, 3, 28, 9, 30))
    assert (p.expected, p.left, p.days_left) == (4, 4, 4)
    assert p.behind and p.urgent  # four left, four days: every day from now on
    p2 = month_pace(5, 2, sh(2026, 3, 28, 9, 30))
    assert p2.behind and not p2.urgent


def test_urgent_without_being_behind() -> None:
    # 25 Feb: 24 days done, 120 // 28 = 4 expected; 4 left with 4 days left.
    p = month_pace(5, 1, sh(2026, 2, 25, 9, 30))
    assert p.behind and p.urgent
    # A quota larger than the month: 40 a month, done exactly on pace, but 40 - 34 > 4 days.
    q = month_pace(40, 34, sh(2026, 2, 25, 9, 30))
    assert q.expected == 34 and not q.behind and q.urgent


def test_overachiever() -> None:
    p = month_pace(5, 9, sh(2026, 2, 20))
    assert p.met and p.left == 0 and not p.behind and not p.needs_nag


# --- weekly across a month boundary -------------------------------------------------------


@pytest.mark.parametrize(
    ("local_day", "expected", "days_left"),
    [
        ((2026, 3, 30), 0, 7),  # Monday
        ((2026, 3, 31), 0, 6),
        ((2026, 4, 1), 0, 5),  # month changed, week did not
        ((2026, 4, 4), 0, 2),  # Saturday: 5 days // 7 = 0
        ((2026, 4, 5), 0, 1),  # Sunday: 6 days // 7 = 0
    ],
)
def test_weekly_one_across_month_boundary(
    local_day: tuple[int, int, int], expected: int, days_left: int
) -> None:
    now = sh(*local_day, 9, 30)
    w = window_at(QuotaPeriod.WEEK, now, SH)
    assert w.key == "2026-W14" and w.start == sh(2026, 3, 30) and w.end == sh(2026, 4, 6)
    p = pace(1, 0, w, now, SH)
    assert (p.expected, p.days_left) == (expected, days_left)
    assert p.urgent is (days_left == 1)


@pytest.mark.parametrize(
    ("local_day", "expected"),
    [((2026, 4, 1), 0), ((2026, 4, 2), 0), ((2026, 4, 3), 1), ((2026, 4, 5), 1)],
)
def test_weekly_two(local_day: tuple[int, int, int], expected: int) -> None:
    now = sh(*local_day, 9, 30)
    p = pace(2, 0, window_at(QuotaPeriod.WEEK, now, SH), now, SH)
    assert p.expected == expected
    assert p.behind is (expected > 0)


def test_weekly_two_urgency() -> None:
    sat = sh(2026, 4, 4, 9, 30)
    w = window_at(QuotaPeriod.WEEK, sat, SH)
    assert pace(2, 0, w, sat, SH).urgent  # 2 left, 2 days left
    assert not pace(2, 1, w, sat, SH).urgent  # 1 left, 2 days left
    sun = sh(2026, 4, 5, 9, 30)
    assert pace(2, 1, w, sun, SH).urgent


# --- daily --------------------------------------------------------------------------------


def test_daily_quota() -> None:
    now = sh(2026, 2, 28, 9, 30)
    w = window_at(QuotaPeriod.DAY, now, SH)
    p = pace(1, 0, w, now, SH)
    assert (p.expected, p.days_left, p.left) == (0, 1, 1)
    assert not p.behind and p.urgent and p.needs_nag
    assert pace(1, 1, w, now, SH) == Pace(quota=1, done=1, expected=0, days_left=1)
    assert not pace(1, 1, w, now, SH).needs_nag
    assert pace(2, 1, w, now, SH).urgent
    assert pace(0, 0, w, now, SH).met and not pace(0, 0, w, now, SH).needs_nag
    # nothing is *expected* before midnight, but it is due today: "0 due, 1 behind" is
    # never said (issue 12 pt 11)
    assert p.due == 1 and pace(1, 1, w, now, SH).due == 1


def test_due_is_the_larger_of_the_even_share_and_what_keeps_one_out_of_urgency() -> None:
    on_pace = month_pace(5, 1, sh(2026, 2, 10, 9, 30))  # 9 of 28 days: 45 // 28 = 1
    assert (on_pace.expected, on_pace.days_left, on_pace.due) == (1, 19, 1)
    crunch = month_pace(40, 34, sh(2026, 2, 25, 9, 30))  # 34 expected, 4 days for 6 left
    assert (crunch.expected, crunch.due) == (34, 37) and crunch.needs_nag
    assert not month_pace(40, 37, sh(2026, 2, 25, 9, 30)).needs_nag


# --- local midnight -----------------------------------------------------------------------


def test_half_past_midnight_in_shanghai_is_a_new_month() -> None:
    now = sh(2026, 3, 1, 0, 30)  # 2026-02-28 16:30 UTC
    local = month_pace(5, 4, now, SH)
    assert (local.expected, local.days_left, local.left) == (0, 31, 1)
    assert not local.needs_nag
    in_utc = month_pace(5, 4, now, ZoneInfo("UTC"))
    assert (in_utc.expected, in_utc.days_left) == (4, 1)
    assert in_utc.urgent and in_utc.needs_nag


def test_last_second_of_the_month() -> None:
    feb = window_at(QuotaPeriod.MONTH, sh(2026, 2, 1), SH)
    last = sh(2026, 2, 28, 23, 59, 59)
    assert pace(5, 4, feb, last, SH).days_left == 1
    closed = pace(5, 4, feb, feb.end, SH)
    assert closed.expected == 5 and closed.days_left == 0
    assert closed.closed and closed.fell_short
    assert not closed.urgent and not closed.needs_nag


def test_expected_before_the_window_is_zero() -> None:
    march = window_at(QuotaPeriod.MONTH, sh(2026, 3, 5), SH)
    assert expected_by_now(5, march, sh(2026, 2, 20), SH) == 0


# --- stayed behind after the period ended -------------------------------------------------


def test_fell_short() -> None:
    feb = window_at(QuotaPeriod.MONTH, sh(2026, 2, 10), SH)
    assert fell_short(5, 4, feb, feb.end)
    assert fell_short(5, 0, feb, sh(2026, 4, 1))
    assert not fell_short(5, 5, feb, feb.end)
    assert not fell_short(5, 4, feb, feb.end - timedelta(seconds=1))  # still open
    assert shortfall(5, 3) == 2
    assert shortfall(5, 7) == 0


def test_bad_counts_refused() -> None:
    now = sh(2026, 2, 10)
    w = window_at(QuotaPeriod.MONTH, now, SH)
    with pytest.raises(ValueError):
        pace(-1, 0, w, now, SH)
    with pytest.raises(ValueError):
        pace(5, -1, w, now, SH)


# --- properties ---------------------------------------------------------------------------

Drawn = tuple[tzinfo, PeriodWindow, datetime, datetime]

ZONES: list[tzinfo] = [
    UTC,
    SH,
    ZoneInfo("America/New_York"),
    ZoneInfo("Australia/Lord_Howe"),
    ZoneInfo("America/Santiago"),
]


@st.composite
def window_and_two_instants(draw: st.DrawFn) -> Drawn:
    tz = draw(st.sampled_from(ZONES))
    period = draw(st.sampled_from(list(QuotaPeriod)))
    anchor = draw(
        st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
        )
    )
    w = window_at(period, anchor, tz)
    span = int((w.end - w.start).total_seconds())
    a, b = sorted(draw(st.integers(min_value=0, max_value=span - 1)) for _ in range(2))
    return tz, w, w.start + timedelta(seconds=a), w.start + timedelta(seconds=b)


@given(data=window_and_two_instants(), count=st.integers(min_value=0, max_value=100))
def test_expected_never_decreases_within_a_window(data: Drawn, count: int) -> None:
    tz, w, t1, t2 = data
    e1 = expected_by_now(count, w, t1, tz)
    e2 = expected_by_now(count, w, t2, tz)
    assert 0 <= e1 <= e2 <= count
    assert expected_by_now(count, w, w.start, tz) == 0
    assert expected_by_now(count, w, w.end, tz) == count
    assert e2 <= expected_by_now(count, w, w.end, tz)
    # Days left never grows either.
    p1, p2 = pace(count, 0, w, t1, tz), pace(count, 0, w, t2, tz)
    assert p1.days_left >= p2.days_left >= 1


@given(
    data=window_and_two_instants(),
    count=st.integers(min_value=0, max_value=60),
    done=st.integers(min_value=0, max_value=80),
)
def test_pace_invariants(data: Drawn, count: int, done: int) -> None:
    tz, w, t, _ = data
    p = pace(count, done, w, t, tz)
    assert 0 <= p.expected <= count
    assert p.left == max(count - done, 0)
    assert p.met is (p.left == 0)
    if p.met:
        assert not p.behind and not p.urgent and not p.needs_nag
    assert not p.closed
    assert p.needs_nag is (p.behind or p.urgent)
    assert p.needs_nag is (p.done < p.due) and p.expected <= p.due <= count
    if p.needs_nag:  # a chased person makes "due by now" at least 1
        assert p.due >= 1
    assert p.urgent is (p.left > 0 and p.left >= p.days_left)
    # Someone who did at least their even share and still has more days than patrols left
    # is left alone.
    if done >= p.expected and p.left < p.days_left:
        assert not p.needs_nag
    closed = pace(count, done, w, w.end, tz)
    assert closed.expected == count and closed.days_left == 0
    assert closed.fell_short is (done < count)
    assert fell_short(count, done, w, w.end) is (done < count)
    assert not fell_short(count, done, w, t)


# --- who hears of a shortfall ---------------------------------------------------------------

MEMBER, LEADER_A, LEADER_B, PARENT, ROOT = 1, 10, 11, 20, 30


def test_a_members_shortfall_goes_to_the_grids_leaders() -> None:
    assert shortfall_recipients(MEMBER, [[LEADER_A, LEADER_B], [PARENT], [ROOT]]) == [
        LEADER_A,
        LEADER_B,
    ]


def test_a_grid_without_a_leader_is_answered_for_by_the_nearest_one_up() -> None:
    assert shortfall_recipients(MEMBER, [[], [], [ROOT]]) == [ROOT]


def test_a_sole_leaders_shortfall_reaches_the_next_leader_up() -> None:
    # today this was told to nobody (the leader was skipped as "themselves")
    assert shortfall_recipients(LEADER_A, [[LEADER_A], [PARENT], [ROOT]]) == [PARENT]
    # a level above without a leader: further up
    assert shortfall_recipients(LEADER_A, [[LEADER_A], [], [ROOT]]) == [ROOT]


def test_a_leaders_shortfall_goes_up_not_to_the_peers() -> None:
    chain = [[LEADER_A, LEADER_B], [PARENT]]
    assert shortfall_recipients(LEADER_A, chain) == [PARENT]
    assert shortfall_recipients(LEADER_A, chain, short={LEADER_B}) == [PARENT]


def test_someone_leading_the_level_above_too_goes_further_up() -> None:
    assert shortfall_recipients(LEADER_A, [[LEADER_A], [LEADER_A, PARENT], [ROOT]]) == [ROOT]


def test_at_the_top_the_co_leaders_who_met_their_quota_hear_it() -> None:
    assert shortfall_recipients(ROOT, [[ROOT, LEADER_A, LEADER_B]], short={LEADER_B}) == [LEADER_A]
    assert shortfall_recipients(ROOT, [[ROOT, LEADER_A]], short={LEADER_A}) == []
    assert shortfall_recipients(ROOT, [[ROOT]]) == []
    assert shortfall_recipients(MEMBER, []) == []
