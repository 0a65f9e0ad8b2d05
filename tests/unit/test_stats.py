"""The scoreboard's figures (domain/stats.py) on cases and quotas counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.stats import (
    CaseRecord,
    CaseTally,
    ExportRangeError,
    GridRef,
    PatrolTally,
    Post,
    StatsPeriod,
    Timeliness,
    export_span,
    figures,
    quota_target,
    ranking,
    scoreboard,
    span_of_days,
    stats_span,
    tally_case,
    timeliness,
    trend_buckets,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=TZ)
MARCH = stats_span(StatsPeriod.MONTH, NOW, TZ)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ)


def test_spans_are_local_months_quarters_and_years() -> None:
    q1 = stats_span(StatsPeriod.QUARTER, NOW, TZ)
    assert (q1.key, q1.first, q1.stop) == ("2026-Q1", date(2026, 1, 1), date(2026, 4, 1))
    assert q1.start == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert q1.end == datetime(2026, 3, 31, 16, tzinfo=UTC)
    year = stats_span("year", NOW, TZ)
    assert (year.key, year.days) == ("2026", 365)
    assert (MARCH.key, MARCH.days) == ("2026-03", 31)
    q4 = stats_span(StatsPeriod.QUARTER, datetime(2026, 12, 31, 23, tzinfo=TZ), TZ)
    assert (q4.key, q4.stop) == ("2026-Q4", date(2027, 1, 1))


def test_trend_is_daily_for_a_month_and_monthly_beyond() -> None:
    days = trend_buckets(MARCH, TZ)
    assert len(days) == 31 and days[0].start == MARCH.start and days[-1].end == MARCH.end
    months = trend_buckets(stats_span(StatsPeriod.QUARTER, NOW, TZ), TZ)
    assert [m.key for m in months] == ["2026-01", "2026-02", "2026-03"]


def test_quota_targets_over_a_span() -> None:
    q1 = stats_span(StatsPeriod.QUARTER, NOW, TZ)
    assert quota_target("month", 1, q1, TZ) == 3
    assert quota_target("week", 1, MARCH, TZ) == 4  # 31 days: four whole weeks
    assert quota_target("day", 1, MARCH, TZ) == 31
    assert quota_target("month", 5, span_of_days(date(2026, 3, 1), date(2026, 3, 16), TZ), TZ) == 2
    # 14 of February's 28 days (5 * 14 // 28 = 2) and 14 of March's 31 (5 * 14 // 31 = 2)
    across = span_of_days(date(2026, 2, 15), date(2026, 3, 15), TZ)
    assert quota_target("month", 5, across, TZ) == 4
    assert quota_target(None, None, MARCH, TZ) is None
    assert quota_target("month", 0, MARCH, TZ) is None


def case(
    status: str,
    accepted: datetime | None,
    *,
    deadline: datetime | None = None,
    closed: datetime | None = None,
    rework: int = 0,
    rating: str | None = None,
    extended: bool = False,
) -> CaseRecord:
    return CaseRecord(status, accepted, closed, deadline, rework, rating, extended)


# March, read on 2026-03-20 12:00. A-E are the cohort (立案 in March), F-H are not.
CASES = {
    "A on time, rated good": case(
        "rated", at(3, 2), deadline=at(3, 5), closed=at(3, 4), rating="good"
    ),
    "B late, reworked once, rated poor": case(
        "rated", at(3, 3), deadline=at(3, 6), closed=at(3, 8), rework=1, rating="poor"
    ),
    "C extended, closed by its new deadline": case(
        "closed", at(3, 5), deadline=at(3, 15), closed=at(3, 12), extended=True
    ),
    "D sent back, now overdue": case("in_progress", at(3, 10), deadline=at(3, 13), rework=1),
    "E assigned, not yet due": case("assigned", at(3, 18), deadline=at(3, 25)),
    "F accepted in February, overdue": case("in_progress", at(2, 20), deadline=at(2, 27)),
    "G closed in March, accepted in February": case(
        "rated", at(2, 10), deadline=at(2, 17), closed=at(3, 1), rating="good"
    ),
    "H reported, not accepted": case("reported", None),
    "I rejected": case("rejected", None),
}


def test_each_case_counts_where_the_definitions_say() -> None:
    tallies = {name: tally_case(c, MARCH, NOW) for name, c in CASES.items()}
    assert tallies["A on time, rated good"] == CaseTally(
        accepted=1, closed=1, on_time=1, checked=1, rated=1, rating_points=4
    )
    assert tallies["C extended, closed by its new deadline"] == CaseTally(
        accepted=1, closed=1, extended=1, checked=1
    )
    assert tallies["D sent back, now overdue"] == CaseTally(
        accepted=1, checked=1, reworked=1, open=1, overdue=1
    )
    assert tallies["F accepted in February, overdue"] == CaseTally(open=1, overdue=1)
    assert tallies["G closed in March, accepted in February"] == CaseTally()
    assert tallies["H reported, not accepted"] == CaseTally(open=1)
    assert tallies["I rejected"] == CaseTally()


def test_the_rates_of_a_month_counted_by_hand() -> None:
    total = sum((tally_case(c, MARCH, NOW) for c in CASES.values()), CaseTally())
    assert total == CaseTally(
        accepted=5,  # A B C D E
        closed=3,  # A B C
        extended=1,  # C
        on_time=1,  # A (B was late, C was extended)
        checked=4,  # A B C closed, D sent back
        reworked=2,  # B D
        rated=2,  # A B
        rating_points=5,  # 4 + 1
        open=4,  # D E F H
        overdue=2,  # D F
    )
    f = figures(PatrolTally(done=7, target=10), total)
    assert f.completion == pytest.approx(0.7)
    assert f.closure == pytest.approx(3 / 5)
    assert f.on_time == pytest.approx(1 / 4)  # on time ÷ (accepted − extended)
    assert f.rework == pytest.approx(2 / 4)
    assert f.mean_rating == pytest.approx(2.5)


def test_nothing_to_measure_is_no_rate_not_zero() -> None:
    f = figures(PatrolTally(), CaseTally(open=3))
    assert (f.completion, f.closure, f.on_time, f.rework, f.mean_rating) == (None,) * 5
    everything_extended = figures(PatrolTally(), CaseTally(accepted=2, extended=2, closed=2))
    assert everything_extended.on_time is None and everything_extended.closure == 1.0


# A tree: 区 R(1) → 街道 A(2) → 社区 A1(4); 街道 B(3).
R = GridRef(1, "R", "区", (1,))
A = GridRef(2, "A", "甲街道", (1, 2))
B = GridRef(3, "B", "乙街道", (1, 3))
A1 = GridRef(4, "A-1", "甲一社区", (1, 2, 4))
POSTS = [
    Post(10, "王巡查", 4, "专管员", "month", 5),
    Post(11, "李民警", 3, "民警", "week", 1),
    Post(12, "赵区长", 1, "网格长", None, None),
]


def test_the_roll_up_to_child_grids_and_people() -> None:
    board = scoreboard(
        R,
        MARCH,
        TZ,
        grids=[R, A, B, A1],
        posts=POSTS,
        # person 99 left grid A but their patrol still counts for A
        done={(10, 4): 3, (11, 3): 2, (99, 2): 1},
        cases={
            (4, 10): CaseTally(accepted=2, closed=2, on_time=2, checked=2),
            (3, None): CaseTally(accepted=4, closed=1, on_time=1, checked=1, open=3, overdue=1),
            (1, 12): CaseTally(open=1),
        },
    )
    a, b = board.children
    assert (a.code, a.patrols, a.cases.accepted) == ("A", PatrolTally(done=4, target=5), 2)
    assert (b.code, b.patrols, b.cases.open) == ("B", PatrolTally(done=2, target=4), 3)
    assert board.own.cases == CaseTally(open=1) and board.own.patrols == PatrolTally()
    assert board.total.patrols == PatrolTally(done=6, target=9)
    assert board.total.cases.accepted == 6 and board.total.cases.open == 4
    assert a.figures.on_time == 1.0 and b.figures.on_time == pytest.approx(0.25)
    assert [r.code for r in board.ranking] == ["A", "B"]
    people = {p.label: p for p in board.people}
    assert people["王巡查"].patrols == PatrolTally(3, 5)
    assert people["王巡查"].cases.closed == 2
    assert people["李民警"].patrols == PatrolTally(2, 4) and people["李民警"].cases == CaseTally()
    assert people["赵区长"].cases == CaseTally(open=1)
    assert 99 not in {p.key for p in board.people}


def test_ranking_puts_unmeasured_grids_last() -> None:
    board = scoreboard(
        R,
        MARCH,
        TZ,
        grids=[R, A, B],
        posts=[],
        done={},
        cases={
            (2, None): CaseTally(open=1),
            (3, None): CaseTally(accepted=1),
        },
    )
    # B closed nothing on time (0 %), A had nothing due (—): B still ranks above A
    assert [r.code for r in ranking(board.children)] == ["B", "A"]
    quiet = scoreboard(
        R, MARCH, TZ, grids=[R, A, B], posts=[], done={}, cases={(3, None): CaseTally()}
    )
    assert [r.code for r in quiet.ranking] == ["A", "B"]  # nothing measured: by code


TODAY = date(2026, 3, 20)


def test_export_dates() -> None:
    this_month = export_span([], TODAY, TZ)
    assert (this_month.first, this_month.stop) == (date(2026, 3, 1), date(2026, 3, 21))
    feb = export_span(["2026-02"], TODAY, TZ)
    assert (feb.first, feb.stop, feb.key) == (
        date(2026, 2, 1),
        date(2026, 3, 1),
        "2026-02-01~2026-02-28",
    )
    since = export_span(["2026/03/05"], TODAY, TZ)
    assert (since.first, since.stop) == (date(2026, 3, 5), date(2026, 3, 21))
    year = export_span(["2025-04", "2026-03"], TODAY, TZ)
    assert (year.first, year.stop) == (date(2025, 4, 1), date(2026, 3, 21))  # cut at today
    assert year.start == datetime(2025, 3, 31, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    ("words", "key"),
    [
        (["2026-13"], "export.bad_date"),
        (["yesterday"], "export.bad_date"),
        (["2026-04-01"], "export.future"),
        (["2026-03-10", "2026-03-01"], "export.reversed"),
        (["2025-01", "2026-03"], "export.too_long"),
        (["2026-01", "2026-02", "2026-03"], "export.usage"),
    ],
)
def test_export_dates_refused(words: list[str], key: str) -> None:
    with pytest.raises(ExportRangeError) as refused:
        export_span(words, TODAY, TZ)
    assert refused.value.key == key


def test_timeliness_follows_the_tally() -> None:
    name = {n: timeliness(c, NOW) for n, c in CASES.items()}
    assert name["A on time, rated good"] is Timeliness.ON_TIME
    assert name["B late, reworked once, rated poor"] is Timeliness.LATE
    assert name["C extended, closed by its new deadline"] is Timeliness.EXTENDED
    assert name["D sent back, now overdue"] is Timeliness.OVERDUE
    assert name["E assigned, not yet due"] is Timeliness.PENDING
    assert name["H reported, not accepted"] is Timeliness.NONE
    on_time = [c for c in CASES.values() if tally_case(c, MARCH, NOW).on_time]
    assert all(timeliness(c, NOW) is Timeliness.ON_TIME for c in on_time)
