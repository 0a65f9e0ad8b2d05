"""The scoreboard (月查季考): what each figure a leader is scored on means, in one place.

A scoreboard covers a *span* of local days ``[first, stop)`` in the deployment's zone (a
month, a quarter, a year, or an export's dates) and is read at an instant ``now``.

Patrols (巡查)
    ``done``: counted patrols (closed with no flag) checked in within the span.
    ``target``: the quota over the span, per membership (`quota_target`): a daily quota
    counts each day, a weekly one each whole 7 days, a monthly one each month in
    proportion to the days of it the span covers (a whole month: the whole quota).
    完成率 completion = done ÷ target.

Cases (隐患). The *cohort* of a span is the cases taken into the ledger (立案,
``accepted_at``) within it; rejected reports never are. Of the cohort, as it stands at
``now``:

- ``closed`` 结案: verified and closed (status closed or rated);
- ``extended`` 延期: had an extension (延期) approved at least once;
- ``on_time`` 按期结案: closed, not extended, and closed by its deadline
  (``closed_at <= deadline_at``);
- ``checked`` 核查: verified at least once, passed (closed) or sent back (返工);
- ``reworked`` 返工: sent back at least once;
- ``rated`` / ``rating_points``: rated, and the sum of the ratings' points
  (好 4, 较好 3, 一般 2, 较差 1);
- ``reopens`` 重新打开: how many times the cohort's cases were reopened after closing
  (their REOPENED ledger entries);
- ``yellow`` / ``red`` 督办黄牌 / 红牌: like ``open``, whatever the span, the open cases that
  have used 80 % of their stage's time limit, or all of it (`domain.case_rules.supervision`:
  受理, 签收, 整改 against the deadline, 核查).

结案率 closure = closed ÷ accepted; 按期结案率 on-time = on_time ÷ (accepted − extended)
(the cases that had to be closed by their first deadline); 返工率 rework = reworked ÷
checked; 平均评价 mean rating = rating_points ÷ rated. A rate with nothing under it is
None ("—"), never 0 %.

``open`` 在办 and ``overdue`` 逾期 are a snapshot at ``now``, whatever the span: open cases
(reported up to feedback), and those among them under a deadline that has passed.

Cases count for the grid that holds them now (an escalated case for the level above) and,
per person, for the person assigned to them. The storage query (`storage/stats.py`) sums
exactly `tally_case` over the rows in SQL; a storage test holds the two together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Final

from domain.cases import OPEN, UNDER_DEADLINE, CaseStatus, Rating
from domain.periods import QuotaPeriod, local_day_count, window_at

RATING_POINTS: Final[dict[str, int]] = {
    Rating.GOOD.value: 4,
    Rating.FAIR.value: 3,
    Rating.AVERAGE.value: 2,
    Rating.POOR.value: 1,
}
CLOSED_STATUSES: Final[frozenset[str]] = frozenset(
    {CaseStatus.CLOSED.value, CaseStatus.RATED.value}
)
OPEN_STATUSES: Final[frozenset[str]] = frozenset(s.value for s in OPEN)
UNDER_DEADLINE_STATUSES: Final[frozenset[str]] = frozenset(s.value for s in UNDER_DEADLINE)


class StatsPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Span:
    """Local days ``[first, stop)`` and their UTC bounds ``[start, end)``; ``key`` names it
    ("2026-03", "2026-Q1", "2026", "2026-03-01~2026-03-10")."""

    first: date
    stop: date
    start: datetime
    end: datetime
    key: str

    @property
    def days(self) -> int:
        return (self.stop - self.first).days


def _month_start(day: date, tz: tzinfo) -> datetime:
    return window_at(QuotaPeriod.MONTH, datetime(day.year, day.month, 15, 12, tzinfo=tz), tz).start


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def span_of_days(first: date, stop: date, tz: tzinfo, key: str | None = None) -> Span:
    """The span of local days ``[first, stop)``."""
    if stop <= first:
        raise ValueError(f"an empty span: {first} .. {stop}")
    start = window_at(
        QuotaPeriod.DAY, datetime(first.year, first.month, first.day, 12, tzinfo=tz), tz
    )
    end = window_at(QuotaPeriod.DAY, datetime(stop.year, stop.month, stop.day, 12, tzinfo=tz), tz)
    label = key or f"{first.isoformat()}~{(stop - timedelta(days=1)).isoformat()}"
    return Span(first, stop, start.start, end.start, label)


def stats_span(period: StatsPeriod | str, now: datetime, tz: tzinfo) -> Span:
    """The month, quarter or year (local) that contains ``now``."""
    period = StatsPeriod(period)
    today = now.astimezone(tz).date()
    if period is StatsPeriod.MONTH:
        first, months, key = today.replace(day=1), 1, f"{today.year:04d}-{today.month:02d}"
    elif period is StatsPeriod.QUARTER:
        q = (today.month - 1) // 3
        first, months, key = date(today.year, q * 3 + 1, 1), 3, f"{today.year:04d}-Q{q + 1}"
    else:
        first, months, key = date(today.year, 1, 1), 12, f"{today.year:04d}"
    stop = _add_months(first, months)
    return Span(first, stop, _month_start(first, tz), _month_start(stop, tz), key)


def trend_buckets(span: Span, tz: tzinfo) -> list[Span]:
    """The points of the trend line: each day of a span up to a month, else each month."""
    if span.days <= 31:
        return [
            span_of_days(span.first + timedelta(days=i), span.first + timedelta(days=i + 1), tz)
            for i in range(span.days)
        ]
    out: list[Span] = []
    first = span.first
    while first < span.stop:
        stop = min(_add_months(first.replace(day=1), 1), span.stop)
        out.append(span_of_days(first, stop, tz, key=f"{first.year:04d}-{first.month:02d}"))
        first = stop
    return out


def quota_target(
    quota_period: str | None, quota_count: int | None, span: Span, tz: tzinfo
) -> int | None:
    """A role's quota over ``span`` (see the module docstring); None when the role has none."""
    if not quota_count or quota_period not in set(QuotaPeriod):
        return None
    period = QuotaPeriod(quota_period)
    if period is QuotaPeriod.DAY:
        return quota_count * span.days
    if period is QuotaPeriod.WEEK:
        return quota_count * (span.days // 7)
    total = 0
    first = span.first
    while first < span.stop:
        month = window_at(
            QuotaPeriod.MONTH, datetime(first.year, first.month, 15, 12, tzinfo=tz), tz
        )
        month_first = first.replace(day=1)
        month_stop = _add_months(month_first, 1)
        covered = (min(month_stop, span.stop) - first).days
        total += quota_count * covered // local_day_count(month, tz)
        first = month_stop
    return total


# --- the tallies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseTally:
    """Counts of cases (module docstring); they add up over grids and people."""

    accepted: int = 0
    closed: int = 0
    extended: int = 0
    on_time: int = 0
    checked: int = 0
    reworked: int = 0
    rated: int = 0
    rating_points: int = 0
    open: int = 0
    overdue: int = 0
    reopens: int = 0
    yellow: int = 0
    """督办 黄牌: open cases past 80 % of their stage's limit (`domain.case_rules`), now."""
    red: int = 0
    """督办 红牌: open cases past their stage's limit, now."""

    def __add__(self, other: CaseTally) -> CaseTally:
        return CaseTally(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(CaseTally))
        )


@dataclass(frozen=True)
class CaseRecord:
    """What `tally_case` reads of one case."""

    status: str
    accepted_at: datetime | None
    closed_at: datetime | None
    deadline_at: datetime | None
    rework_count: int
    rating: str | None
    extended: bool
    reopens: int = 0


def tally_case(case: CaseRecord, span: Span, now: datetime) -> CaseTally:
    """One case's contribution to the tallies of ``span`` read at ``now``."""
    is_open = case.status in OPEN_STATUSES
    overdue = (
        case.status in UNDER_DEADLINE_STATUSES
        and case.deadline_at is not None
        and case.deadline_at < now
    )
    in_cohort = case.accepted_at is not None and span.start <= case.accepted_at < span.end
    if not in_cohort:
        return CaseTally(open=int(is_open), overdue=int(overdue))
    closed = case.status in CLOSED_STATUSES
    on_time = (
        closed
        and not case.extended
        and case.closed_at is not None
        and case.deadline_at is not None
        and case.closed_at <= case.deadline_at
    )
    points = RATING_POINTS.get(case.rating or "", 0)
    return CaseTally(
        accepted=1,
        closed=int(closed),
        extended=int(case.extended),
        on_time=int(on_time),
        checked=int(closed or case.rework_count > 0),
        reworked=int(case.rework_count > 0),
        rated=int(points > 0),
        rating_points=points,
        open=int(is_open),
        overdue=int(overdue),
        reopens=case.reopens,
    )


@dataclass(frozen=True)
class PatrolTally:
    done: int = 0
    target: int = 0

    def __add__(self, other: PatrolTally) -> PatrolTally:
        return PatrolTally(self.done + other.done, self.target + other.target)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


@dataclass(frozen=True)
class Figures:
    """The rates a line of the scoreboard shows (None: nothing to measure)."""

    completion: float | None
    closure: float | None
    on_time: float | None
    rework: float | None
    mean_rating: float | None


def figures(patrols: PatrolTally, cases: CaseTally) -> Figures:
    return Figures(
        completion=_rate(patrols.done, patrols.target),
        closure=_rate(cases.closed, cases.accepted),
        on_time=_rate(cases.on_time, cases.accepted - cases.extended),
        rework=_rate(cases.reworked, cases.checked),
        mean_rating=_rate(cases.rating_points, cases.rated),
    )


# --- the roll-up -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GridRef:
    id: int
    code: str
    name: str
    path: tuple[int, ...]
    """Ids from the root down to this grid."""


@dataclass(frozen=True)
class Post:
    """One membership: a person's role in a grid, with the role's quota."""

    person_id: int
    person_name: str
    grid_id: int
    role_label: str
    quota_period: str | None
    quota_count: int | None


@dataclass(frozen=True)
class Line:
    """One row of the scoreboard: a grid (its subtree) or a person."""

    key: int
    label: str
    code: str
    patrols: PatrolTally
    cases: CaseTally

    @property
    def figures(self) -> Figures:
        return figures(self.patrols, self.cases)


@dataclass(frozen=True)
class Scoreboard:
    grid: GridRef
    span: Span
    total: Line
    own: Line
    """What is held or done at the grid itself, not in a child."""
    children: tuple[Line, ...]
    people: tuple[Line, ...]
    ranking: tuple[Line, ...] = field(default_factory=tuple)


def _rank_key(line: Line) -> tuple[float, float, float, str]:
    f = line.figures

    def value(rate: float | None) -> float:
        return -1.0 if rate is None else rate

    return (-value(f.on_time), -value(f.completion), -value(f.closure), line.code)


def ranking(lines: Iterable[Line]) -> tuple[Line, ...]:
    """龙虎榜: child grids, best first, by 按期结案率, then 完成率, then 结案率; a rate with
    nothing under it ranks below any measured one; ties by code."""
    return tuple(sorted(lines, key=_rank_key))


def scoreboard(
    grid: GridRef,
    span: Span,
    tz: tzinfo,
    *,
    grids: Sequence[GridRef],
    posts: Sequence[Post],
    done: Mapping[tuple[int, int], int],
    cases: Mapping[tuple[int, int | None], CaseTally],
) -> Scoreboard:
    """Roll the grouped rows of one subtree up to its child grids and its people.

    ``grids``: the subtree's grids; ``posts``: its memberships; ``done``: counted patrols per
    (person, grid); ``cases``: tallies per (grid, assigned person).
    """
    depth = len(grid.path)
    by_id = {g.id: g for g in grids}
    children = sorted((g for g in grids if len(g.path) == depth + 1), key=lambda g: g.code)

    def bucket(grid_id: int) -> int:
        ref = by_id.get(grid_id)
        if ref is None or len(ref.path) <= depth or ref.path[:depth] != grid.path:
            return grid.id
        return ref.path[depth]

    patrols: dict[int, PatrolTally] = {}
    tallies: dict[int, CaseTally] = {}
    person_patrols: dict[int, PatrolTally] = {}
    person_cases: dict[int, CaseTally] = {}
    names: dict[int, str] = {}
    for post in posts:
        target = quota_target(post.quota_period, post.quota_count, span, tz) or 0
        b = bucket(post.grid_id)
        patrols[b] = patrols.get(b, PatrolTally()) + PatrolTally(0, target)
        person_patrols[post.person_id] = person_patrols.get(
            post.person_id, PatrolTally()
        ) + PatrolTally(0, target)
        names.setdefault(post.person_id, post.person_name)
    for (person_id, grid_id), n in done.items():
        b = bucket(grid_id)
        patrols[b] = patrols.get(b, PatrolTally()) + PatrolTally(n, 0)
        if person_id in names:
            person_patrols[person_id] = person_patrols[person_id] + PatrolTally(n, 0)
    for (grid_id, assignee), tally in cases.items():
        b = bucket(grid_id)
        tallies[b] = tallies.get(b, CaseTally()) + tally
        if assignee is not None and assignee in names:
            person_cases[assignee] = person_cases.get(assignee, CaseTally()) + tally

    def line(ref: GridRef) -> Line:
        return Line(
            ref.id,
            ref.name,
            ref.code,
            patrols.get(ref.id, PatrolTally()),
            tallies.get(ref.id, CaseTally()),
        )

    child_lines = tuple(line(c) for c in children)
    own = line(grid)
    total = Line(
        grid.id,
        grid.name,
        grid.code,
        sum((c.patrols for c in child_lines), own.patrols),
        sum((c.cases for c in child_lines), own.cases),
    )
    people = tuple(
        sorted(
            (
                Line(pid, names[pid], "", person_patrols[pid], person_cases.get(pid, CaseTally()))
                for pid in names
            ),
            key=lambda p: (p.label, p.key),
        )
    )
    return Scoreboard(grid, span, total, own, child_lines, people, ranking(child_lines))


# --- one case's timeliness, as the ledger shows it ----------------------------------------


class Timeliness(StrEnum):
    """The 是否按期 column of the ledger, by the same rule as `tally_case`."""

    ON_TIME = "on_time"  # 按期: closed by its deadline, never extended
    LATE = "late"  # 超期: closed after its deadline
    EXTENDED = "extended"  # 延期: an extension was approved (not counted either way)
    OVERDUE = "overdue"  # 逾期未结: open, its deadline passed
    PENDING = "pending"  # 未到期: open, its deadline still ahead
    NONE = "none"  # no deadline, or rejected


def timeliness(case: CaseRecord, now: datetime) -> Timeliness:
    if case.deadline_at is None or case.status == CaseStatus.REJECTED.value:
        return Timeliness.NONE
    if case.extended:
        return Timeliness.EXTENDED
    if case.status in CLOSED_STATUSES:
        if case.closed_at is not None and case.closed_at <= case.deadline_at:
            return Timeliness.ON_TIME
        return Timeliness.LATE
    return Timeliness.OVERDUE if case.deadline_at < now else Timeliness.PENDING


# --- the export's dates ----------------------------------------------------------------------

EXPORT_MAX_DAYS: Final = 366
"""The longest export: a year, whatever the tree (a city's year streams in minutes)."""


class ExportRangeError(ValueError):
    """Dates an export refuses; ``key`` names the answer (the usage line goes with it)."""

    def __init__(self, key: str, word: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.word = word


def _read_day_or_month(word: str) -> tuple[date, date] | None:
    """ "2026-03-05" → that day; "2026-03" → that month (first and last day)."""
    digits = word.replace("-", "").replace("/", "").replace(".", "")
    if not digits.isdigit():
        return None
    try:
        if len(digits) == 8:
            day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
            return day, day
        if len(digits) == 6:
            first = date(int(digits[:4]), int(digits[4:]), 1)
            return first, _add_months(first, 1) - timedelta(days=1)
    except ValueError:
        return None
    return None


def looks_like_date(word: str) -> bool:
    return _read_day_or_month(word) is not None


def export_span(words: Sequence[str], today: date, tz: tzinfo) -> Span:
    """The local days an export covers, from its 0–2 date words:

    none: this month up to today; a month: that month; a day: from it to today; two words:
    from the first day of the first to the last day of the second. Days after today are
    cut off; a start after today, a start after the end, or more than `EXPORT_MAX_DAYS`
    days are refused.
    """
    if len(words) > 2:
        raise ExportRangeError("export.usage")
    read = [(_read_day_or_month(w), w) for w in words]
    for found, word in read:
        if found is None:
            raise ExportRangeError("export.bad_date", word)
    bounds = [found for found, _ in read if found is not None]
    if not bounds:
        first, last = today.replace(day=1), today
    elif len(bounds) == 1:
        first, last = bounds[0]
        if first == last:  # a day: from it to today
            last = today
    else:
        first, last = bounds[0][0], bounds[1][1]
    if first > today:
        raise ExportRangeError("export.future", first.isoformat())
    last = min(last, today)
    if first > last:
        raise ExportRangeError("export.reversed")
    if (last - first).days + 1 > EXPORT_MAX_DAYS:
        raise ExportRangeError("export.too_long")
    return span_of_days(first, last + timedelta(days=1), tz)
