"""The leader's 述职 figures (/summary): which period, and what the 工作小结 says.

Every figure is a figure of the scoreboard (`domain.stats`), computed by the same rules as
/stats and the export's summary sheet; this module only chooses the period, picks the
highlights and orders the overdue cases.

Periods (`SummaryPeriod`): ``year`` (the default: the year-end 述职), ``half`` (上半年 /
下半年) and ``month``. A word names the current one; a key names another that has begun:
``2025`` (a year), ``2026-H1`` / ``2026H2`` (a half), ``2026-02`` (a month). A period that
has not begun is refused (`SummaryError("summary.future")`); a word that is neither a
period nor a grid code gets the usage line.

In the text (`Paragraph`):

- 开展巡查 N 次: counted patrols in the span (``patrols.done``), against the quota;
- 发现隐患 M 处: the cases taken into the ledger in the span (立案, ``cases.accepted``);
- 已整改 K 处: of those, closed (``cases.closed``); 整改率 = 结案率;
- 按期整改率 P%: 按期结案率 (``figures.on_time``);
- 返工 R 件: cases sent back at least once (``cases.reworked``), 返工率;
- 重新打开 n 次, 在办, 逾期, 督办红牌: as /stats.

Highlights (`highlights`): among the child grids with cases in the period, the first of the
龙虎榜 (`ranking`) and its last when there are two or more; and the child with the best
patrol completion, when one has done any. The worst
overdue cases are the open ones furthest past their deadline (`overdue_days`, whole days,
rounded down, at least 1 once past).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Final

from domain.stats import Line, Scoreboard, Span, _add_months, _month_start

WORST_CASES: Final = 5
"""How many overdue cases the summary names."""


class SummaryPeriod(StrEnum):
    YEAR = "year"
    HALF = "half"
    MONTH = "month"


class SummaryError(ValueError):
    """Words /summary refuses; ``key`` names the answer (the usage line goes with it)."""

    def __init__(self, key: str, word: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.word = word


_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-?[Hh]([12])$")
_MONTH = re.compile(r"^(\d{4})-?(\d{2})$")


def _span(first: date, months: int, key: str, tz: tzinfo) -> Span:
    stop = _add_months(first, months)
    return Span(first, stop, _month_start(first, tz), _month_start(stop, tz), key)


def period_span(period: SummaryPeriod, first: date, tz: tzinfo) -> Span:
    """The year, half or month that begins on (or contains) ``first``."""
    if period is SummaryPeriod.YEAR:
        return _span(date(first.year, 1, 1), 12, f"{first.year:04d}", tz)
    if period is SummaryPeriod.HALF:
        half = 0 if first.month <= 6 else 1
        return _span(date(first.year, 1 + 6 * half, 1), 6, f"{first.year:04d}-H{half + 1}", tz)
    return _span(first.replace(day=1), 1, f"{first.year:04d}-{first.month:02d}", tz)


def read_period_word(word: str) -> tuple[SummaryPeriod, date | None] | None:
    """A period word or key (module docstring): the period, and its first day for a key;
    None when the word is neither."""
    w = word.strip().lower()
    if w in SummaryPeriod.__members__.values():
        return SummaryPeriod(w), None
    if m := _YEAR.match(w):
        return SummaryPeriod.YEAR, date(int(m[1]), 1, 1)
    if m := _HALF.match(w):
        return SummaryPeriod.HALF, date(int(m[1]), 1 + 6 * (int(m[2]) - 1), 1)
    if (m := _MONTH.match(w)) and 1 <= int(m[2]) <= 12:
        return SummaryPeriod.MONTH, date(int(m[1]), int(m[2]), 1)
    return None


def looks_like_period(word: str) -> bool:
    return read_period_word(word) is not None


def summary_span(words: Sequence[str], now: datetime, tz: tzinfo) -> Span:
    """The span of /summary's period words: none → this year; ``year|half|month`` → the
    current one; ``month 2026-02`` or ``2026-02`` alone → that one. Refused: more than two
    words, a word that is no period, two that disagree, a period not begun yet."""
    if len(words) > 2:
        raise SummaryError("summary.usage")
    read = []
    for word in words:
        found = read_period_word(word)
        if found is None:
            raise SummaryError("summary.bad_period", word)
        read.append(found)
    today = now.astimezone(tz).date()
    period, first = SummaryPeriod.YEAR, today
    if len(read) == 2:
        (p1, d1), (p2, d2) = read
        if d1 is not None or d2 is None or p1 is not p2:
            raise SummaryError("summary.usage")
        period, first = p2, d2
    elif read:
        period, given = read[0]
        first = given or today
    span = period_span(period, first, tz)
    if span.first > today:
        raise SummaryError("summary.future", span.key)
    return span


@dataclass(frozen=True)
class Highlights:
    best: Line | None
    """The first of the 龙虎榜 (按期结案率, then completion, then closure)."""
    worst: Line | None
    """Its last, when two or more child grids are ranked."""
    most_patrols: Line | None
    """The child grid with the best patrol completion (a measured one)."""


def highlights(board: Scoreboard) -> Highlights:
    """Only child grids with cases in the period are ranked, and only a completion above
    zero is a highlight: nothing measured is nothing to praise or blame."""
    ranked = [c for c in board.ranking if c.cases.accepted]
    best = ranked[0] if ranked else None
    worst = ranked[-1] if len(ranked) >= 2 else None
    measured = [c for c in board.children if c.figures.completion]
    most = min(measured, key=lambda c: (-(c.figures.completion or 0.0), c.code), default=None)
    return Highlights(best, worst, most)


def overdue_days(deadline: datetime, now: datetime) -> int:
    """Whole days past the deadline, at least 1 once past (0 before)."""
    if now <= deadline:
        return 0
    return max(1, (now - deadline).days)
