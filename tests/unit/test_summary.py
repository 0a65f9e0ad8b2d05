"""/summary's periods, highlights and overdue days (domain/summary.py), by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.stats import CaseTally, GridRef, Line, PatrolTally, Scoreboard, ranking
from domain.summary import (
    SummaryError,
    highlights,
    looks_like_period,
    overdue_days,
    summary_span,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("words", "key", "first", "stop"),
    [
        ([], "2026", date(2026, 1, 1), date(2027, 1, 1)),
        (["year"], "2026", date(2026, 1, 1), date(2027, 1, 1)),
        (["half"], "2026-H1", date(2026, 1, 1), date(2026, 7, 1)),
        (["month"], "2026-03", date(2026, 3, 1), date(2026, 4, 1)),
        (["2025"], "2025", date(2025, 1, 1), date(2026, 1, 1)),
        (["2025H2"], "2025-H2", date(2025, 7, 1), date(2026, 1, 1)),
        (["half", "2025-h2"], "2025-H2", date(2025, 7, 1), date(2026, 1, 1)),
        (["month", "2026-02"], "2026-02", date(2026, 2, 1), date(2026, 3, 1)),
        (["202602"], "2026-02", date(2026, 2, 1), date(2026, 3, 1)),
    ],
)
def test_periods(words: list[str], key: str, first: date, stop: date) -> None:
    span = summary_span(words, NOW, TZ)
    assert (span.key, span.first, span.stop) == (key, first, stop)
    assert span.start == datetime(first.year, first.month, 1, tzinfo=TZ)


@pytest.mark.parametrize(
    ("words", "key"),
    [
        (["2026-04"], "summary.future"),
        (["2026-H2"], "summary.future"),
        (["2027"], "summary.future"),
        (["weekly"], "summary.bad_period"),
        (["2026-13"], "summary.bad_period"),
        (["month", "2026"], "summary.usage"),
        (["2026", "2025"], "summary.usage"),
        (["year", "month", "half"], "summary.usage"),
    ],
)
def test_refused_periods(words: list[str], key: str) -> None:
    with pytest.raises(SummaryError) as info:
        summary_span(words, NOW, TZ)
    assert info.value.key == key


def test_a_grid_code_is_not_a_period() -> None:
    assert not looks_like_period("LH-01") and not looks_like_period("ZJS")
    assert looks_like_period("2026-03") and looks_like_period("half")


def line(code: str, done: int, target: int, **cases: int) -> Line:
    return Line(
        hash(code) % 1000, f"网格{code}", code, PatrolTally(done, target), CaseTally(**cases)
    )


def board(*children: Line) -> Scoreboard:
    grid = GridRef(1, "R", "根", (1,))
    total = line("R", 0, 0)
    return Scoreboard(grid, None, total, total, children, (), ranking(children))  # type: ignore[arg-type]


def test_highlights_by_hand() -> None:
    a = line("A", 10, 20, accepted=4, closed=4, on_time=3)  # on time 75 %, completion 50 %
    b = line("B", 18, 20, accepted=2, closed=1, on_time=1)  # on time 50 %, completion 90 %
    c = line("C", 0, 20)  # nothing accepted: not ranked, completion 0: no highlight
    h = highlights(board(a, b, c))
    assert (h.best, h.worst, h.most_patrols) == (a, b, b)
    lone = highlights(board(a, c))
    assert (lone.best, lone.worst, lone.most_patrols) == (a, None, a)
    quiet = highlights(board(c))
    assert (quiet.best, quiet.worst, quiet.most_patrols) == (None, None, None)


def test_overdue_days() -> None:
    deadline = datetime(2026, 3, 8, 10, 0, tzinfo=TZ)
    assert overdue_days(deadline, deadline) == 0
    assert overdue_days(deadline, deadline + timedelta(minutes=1)) == 1
    assert overdue_days(deadline, NOW) == 1  # 1 day 23 hours
    assert overdue_days(deadline, deadline + timedelta(days=30, hours=5)) == 30
