"""The grouped queries behind the scoreboard (/stats) and the export's summary sheet.

A subtree's scoreboard is five statements whatever its size (grids, memberships, counted
patrols, case tallies) plus two for the trend line: never a query per grid or per person.
`domain/stats.py` defines every figure and rolls the rows up; `case_tallies` sums in SQL
exactly what `domain.stats.tally_case` counts for one case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import EventKind
from domain.stats import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    RATING_POINTS,
    UNDER_DEADLINE_STATUSES,
    CaseTally,
    GridRef,
    Post,
    Span,
)
from storage.models import Case, CaseEvent, Department, Grid, Membership, Patrol, Person, Role
from storage.patrols import counted_per_membership


async def _core(session: AsyncSession, query: Any) -> Any:
    conn = await session.connection()
    return await conn.execute(query)


def _path_ids(path: str) -> tuple[int, ...]:
    return tuple(int(p) for p in path.strip("/").split("/") if p)


async def subtree_grids(session: AsyncSession, path: str) -> list[GridRef]:
    """The live grids of the subtree at ``path`` (itself included)."""
    query = select(col(Grid.id), col(Grid.code), col(Grid.name), col(Grid.path)).where(
        col(Grid.path).startswith(path), col(Grid.archived_at).is_(None)
    )
    rows = (await _core(session, query)).all()
    return [GridRef(int(r[0]), str(r[1]), str(r[2]), _path_ids(str(r[3]))) for r in rows]


async def posts_under(session: AsyncSession, path: str) -> list[Post]:
    """Every membership of the subtree's live grids with its role's quota: one statement,
    plain rows (a city has 60,000 of them)."""
    query = (
        select(
            col(Membership.person_id),
            col(Person.name),
            col(Membership.grid_id),
            col(Role.label),
            col(Role.quota_period),
            col(Role.quota_count),
        )
        .join(Grid, col(Grid.id) == col(Membership.grid_id))
        .join(Role, col(Role.id) == col(Membership.role_id))
        .join(Person, col(Person.id) == col(Membership.person_id))
        .where(col(Grid.path).startswith(path), col(Grid.archived_at).is_(None))
    )
    return [Post(*r) for r in (await _core(session, query)).all()]


async def done_under(session: AsyncSession, path: str, span: Span) -> dict[tuple[int, int], int]:
    """Counted patrols per (person, grid) of the subtree within the span."""
    rows = await counted_per_membership(session, start=span.start, end=span.end, path_prefix=path)
    out: dict[tuple[int, int], int] = {}
    for (person_id, grid_id, _role), n in rows.items():
        out[(person_id, grid_id)] = out.get((person_id, grid_id), 0) + n
    return out


def _n(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


async def case_tallies(
    session: AsyncSession, path: str, span: Span, now: datetime
) -> dict[tuple[int, int | None], CaseTally]:
    """`tally_case` summed per (grid, assigned person) over the subtree: one statement."""
    status = col(Case.status)
    accepted_at, closed_at, deadline = (
        col(Case.accepted_at),
        col(Case.closed_at),
        col(Case.deadline_at),
    )
    extended_ids = select(col(CaseEvent.case_id)).where(
        col(CaseEvent.kind) == EventKind.EXTENSION_APPROVED.value
    )
    extended = col(Case.id).in_(extended_ids)
    # Reopens per case, grouped once over the (rare) REOPENED entries and joined by key.
    reopened = (
        select(col(CaseEvent.case_id).label("case_id"), func.count().label("n"))
        .where(col(CaseEvent.kind) == EventKind.REOPENED.value)
        .group_by(col(CaseEvent.case_id))
        .subquery()
    )
    reopens = func.coalesce(reopened.c.n, 0)
    cohort = and_(accepted_at.is_not(None), accepted_at >= span.start, accepted_at < span.end)
    closed = and_(cohort, status.in_(sorted(CLOSED_STATUSES)))
    is_open = status.in_(sorted(OPEN_STATUSES))
    overdue = and_(
        status.in_(sorted(UNDER_DEADLINE_STATUSES)), deadline.is_not(None), deadline < now
    )
    reworked = col(Case.rework_count) > 0
    points = case(
        *((col(Case.rating) == name, value) for name, value in RATING_POINTS.items()), else_=0
    )
    query = (
        select(
            col(Case.grid_id),
            col(Case.assignee_person_id),
            _n(cohort),
            _n(closed),
            _n(and_(cohort, extended)),
            _n(and_(closed, ~extended, closed_at.is_not(None), closed_at <= deadline)),
            _n(and_(cohort, or_(status.in_(sorted(CLOSED_STATUSES)), reworked))),
            _n(and_(cohort, reworked)),
            _n(and_(cohort, points > 0)),
            func.coalesce(func.sum(case((cohort, points), else_=0)), 0),
            _n(is_open),
            _n(overdue),
            func.coalesce(func.sum(case((cohort, reopens), else_=0)), 0),
        )
        .join(Grid, col(Grid.id) == col(Case.grid_id))
        .outerjoin(reopened, reopened.c.case_id == col(Case.id))
        .where(col(Grid.path).startswith(path), or_(cohort, is_open))
        .group_by(col(Case.grid_id), col(Case.assignee_person_id))
    )
    return {
        (int(r[0]), None if r[1] is None else int(r[1])): CaseTally(*(int(v) for v in r[2:]))
        for r in (await _core(session, query)).all()
    }


def _buckets(column: Any, buckets: Sequence[Span]) -> list[Any]:
    return [_n(and_(column >= b.start, column < b.end)) for b in buckets]


async def trend(
    session: AsyncSession, path: str, buckets: Sequence[Span]
) -> tuple[list[int], list[int]]:
    """Counted patrols and cases closed in each bucket of the subtree: two statements."""
    if not buckets:
        return [], []
    first, last = buckets[0].start, buckets[-1].end
    started = col(Patrol.started_at)
    patrols = (
        select(*_buckets(started, buckets))
        .join(Grid, col(Grid.id) == col(Patrol.grid_id))
        .where(
            col(Grid.path).startswith(path),
            col(Patrol.counted).is_(True),
            started >= first,
            started < last,
        )
    )
    closed_at = col(Case.closed_at)
    closed = (
        select(*_buckets(closed_at, buckets))
        .join(Grid, col(Grid.id) == col(Case.grid_id))
        .where(
            col(Grid.path).startswith(path),
            col(Case.status).in_(sorted(CLOSED_STATUSES)),
            closed_at >= first,
            closed_at < last,
        )
    )
    p = (await _core(session, patrols)).one()
    c = (await _core(session, closed)).one()
    return [int(v) for v in p], [int(v) for v in c]


class OverdueCase(NamedTuple):
    code: str
    grid: str
    category: str
    severity: str
    description: str
    deadline_at: datetime
    assignee: str | None
    department: str | None


async def worst_overdue(
    session: AsyncSession, path: str, now: datetime, *, limit: int
) -> list[OverdueCase]:
    """The subtree's open cases furthest past their deadline (the digest's overdue rule),
    the oldest deadline first: one statement."""
    query = (
        select(
            col(Case.code),
            col(Grid.name),
            col(Case.category),
            col(Case.severity),
            col(Case.description),
            col(Case.deadline_at),
            col(Person.name),
            col(Department.name),
        )
        .join(Grid, col(Grid.id) == col(Case.grid_id))
        .outerjoin(Person, col(Person.id) == col(Case.assignee_person_id))
        .outerjoin(Department, col(Department.id) == col(Case.assignee_department_id))
        .where(
            col(Grid.path).startswith(path),
            col(Case.status).in_(sorted(UNDER_DEADLINE_STATUSES)),
            col(Case.deadline_at).is_not(None),
            col(Case.deadline_at) < now,
        )
        .order_by(col(Case.deadline_at), col(Case.id))
        .limit(limit)
    )
    return [OverdueCase(*r) for r in (await _core(session, query)).all()]


class LeaderPost(NamedTuple):
    person_id: int
    tg_id: int
    language: str | None
    grid_id: int
    grid_path: str


async def reachable_leaders(session: AsyncSession) -> list[LeaderPost]:
    """Every leader post of a live grid held by someone the bot can reach, by person and
    path: the monthly push's recipients (one statement)."""
    query = (
        select(
            col(Person.id), col(Person.tg_id), col(Person.language), col(Grid.id), col(Grid.path)
        )
        .join(Membership, col(Membership.person_id) == col(Person.id))
        .join(Role, col(Role.id) == col(Membership.role_id))
        .join(Grid, col(Grid.id) == col(Membership.grid_id))
        .where(
            col(Role.is_leader).is_(True),
            col(Grid.archived_at).is_(None),
            col(Person.tg_id).is_not(None),
            col(Person.reachable).is_(True),
        )
        .order_by(col(Person.id), col(Grid.path))
    )
    return [LeaderPost(*r) for r in (await _core(session, query)).all()]
