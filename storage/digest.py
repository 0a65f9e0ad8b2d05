"""The grouped queries behind the digests and the chasing: one query per kind of figure.

Each function runs ONE statement (grouped by grid, or by person × grid × role), optionally
narrowed to some subtrees by the materialized path (`path LIKE '/1/4/%'`). Never a query per
grid or per person: `domain/digest.py` rolls the rows up over the tree in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import OPEN, UNDER_DEADLINE, CaseStatus, Severity
from domain.digest import (
    CaseRow,
    DoneCounts,
    GridNode,
    Holding,
    NamedCase,
    PersonInfo,
    Snapshot,
)
from domain.periods import PeriodWindow
from storage.case_rules import case_rules, flags_per_grid
from storage.models import (
    Case,
    CaseEvent,
    Delivery,
    Grid,
    Membership,
    Patrol,
    Person,
    Role,
)
from storage.patrols import credits

CRITICAL_NAMES = (Severity.CRITICAL.value, "重大")
_UNDER_DEADLINE = [s.value for s in UNDER_DEADLINE]
_OPEN = [s.value for s in OPEN]
_CLOSED = [CaseStatus.CLOSED.value, CaseStatus.RATED.value]


async def _core(session: AsyncSession, query: Any) -> Any:
    """Run a Core statement on the session's connection: plain rows, no ORM result layer."""
    conn = await session.connection()
    return await conn.execute(query)


def _in_subtrees(paths: Sequence[str] | None) -> ColumnElement[bool] | None:
    if not paths:
        return None
    return or_(*(col(Grid.path).like(p + "%") for p in paths))


def _restrict(query: Any, grid_column: Any, paths: Sequence[str] | None) -> Any:
    cond = _in_subtrees(paths)
    if cond is None:
        return query
    return query.join(Grid, col(Grid.id) == grid_column).where(cond)


def grid_nodes_query(paths: Sequence[str] | None = None) -> Any:
    """Every live grid (in `paths`' subtrees); rows made by `grid_node`."""
    query = select(
        col(Grid.id), col(Grid.parent_id), col(Grid.name), col(Grid.code), col(Grid.path)
    ).where(col(Grid.archived_at).is_(None))
    cond = _in_subtrees(paths)
    return query if cond is None else query.where(cond)


def grid_node(row: Any) -> GridNode:
    return GridNode(row[0], row[1], row[2], row[3], row[4].count("/") - 1)


async def grid_nodes(session: AsyncSession, paths: Sequence[str] | None = None) -> list[GridNode]:
    return [grid_node(r) for r in (await _core(session, grid_nodes_query(paths))).all()]


def holdings_query(paths: Sequence[str] | None = None) -> Any:
    """Every membership with its role, by membership id; rows made by `Holding._make`."""
    query = select(
        col(Membership.id),
        col(Membership.person_id),
        col(Membership.grid_id),
        col(Membership.role_id),
        col(Role.label),
        col(Role.is_leader),
        col(Role.quota_period),
        col(Role.quota_count),
    ).join(Role, col(Role.id) == col(Membership.role_id))
    return _restrict(query, col(Membership.grid_id), paths).order_by(col(Membership.id))


async def holdings(session: AsyncSession, paths: Sequence[str] | None = None) -> list[Holding]:
    return list(map(Holding._make, (await _core(session, holdings_query(paths))).all()))


def people_query(paths: Sequence[str] | None = None) -> Any:
    """Everyone (with a membership in `paths`' subtrees); rows made by `PersonInfo._make`."""
    query = select(
        col(Person.id),
        col(Person.name),
        col(Person.tg_id),
        col(Person.language),
        col(Person.reachable),
    )
    if paths:
        members = _restrict(select(col(Membership.person_id)), col(Membership.grid_id), paths)
        query = query.where(col(Person.id).in_(members))
    return query


async def people(
    session: AsyncSession, paths: Sequence[str] | None = None
) -> dict[int, PersonInfo]:
    return {r[0]: PersonInfo._make(r) for r in (await _core(session, people_query(paths))).all()}


def _done_query(
    windows: dict[str, PeriodWindow],
    now: datetime,
    paths: Sequence[str] | None,
    dialect: str,
) -> Any:
    day, week, month = windows["day"].start, windows["week"].start, windows["month"].start
    credit = credits(
        start=min(week, month), end=now, dialect=dialect, paths=paths, end_inclusive=True
    )
    started, joint = credit.c.started_at, credit.c.joint == 1

    def since(start: datetime, name: str, *, joint_only: bool = False) -> Any:
        cond = and_(started >= start, joint) if joint_only else started >= start
        return func.sum(case((cond, 1), else_=0)).label(name)

    key = (credit.c.person_id, credit.c.grid_id, credit.c.role_id)
    query = select(
        *key,
        since(day, "day"),
        since(week, "week"),
        since(month, "month"),
        since(day, "joint_day", joint_only=True),
        since(week, "joint_week", joint_only=True),
        since(month, "joint_month", joint_only=True),
    )
    return query.group_by(*key)


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


async def members(
    session: AsyncSession,
    windows: dict[str, PeriodWindow],
    now: datetime,
    paths: Sequence[str] | None = None,
) -> tuple[dict[int, PersonInfo], list[Holding], dict[tuple[int, int, int], DoneCounts]]:
    """`people`, `holdings` and `patrol_done` in ONE statement: a row per membership with its
    role, its person and its patrol counts (a left join on the grouped patrols)."""
    done = _done_query(windows, now, paths, await _dialect(session)).subquery("done")
    query = (
        select(
            col(Membership.id),
            col(Membership.person_id),
            col(Membership.grid_id),
            col(Membership.role_id),
            col(Role.label),
            col(Role.is_leader),
            col(Role.quota_period),
            col(Role.quota_count),
            col(Person.name),
            col(Person.tg_id),
            col(Person.language),
            col(Person.reachable),
            done.c.day,
            done.c.week,
            done.c.month,
            done.c.joint_day,
            done.c.joint_week,
            done.c.joint_month,
        )
        .join(Role, col(Role.id) == col(Membership.role_id))
        .join(Person, col(Person.id) == col(Membership.person_id))
        .outerjoin(
            done,
            and_(
                done.c.person_id == col(Membership.person_id),
                done.c.grid_id == col(Membership.grid_id),
                done.c.role_id == col(Membership.role_id),
            ),
        )
    )
    query = _restrict(query, col(Membership.grid_id), paths).order_by(col(Membership.id))
    people_: dict[int, PersonInfo] = {}
    holdings_: list[Holding] = []
    done_: dict[tuple[int, int, int], DoneCounts] = {}
    for r in (await _core(session, query)).all():
        person_id = r[1]
        if person_id not in people_:
            people_[person_id] = PersonInfo(person_id, r[8], r[9], r[10], r[11])
        holdings_.append(Holding._make(r[:8]))
        if r[12] is not None:
            done_[(person_id, r[2], r[3])] = DoneCounts._make(map(int, r[12:18]))
    return people_, holdings_, done_


async def patrol_done(
    session: AsyncSession,
    windows: dict[str, PeriodWindow],
    now: datetime,
    paths: Sequence[str] | None = None,
) -> dict[tuple[int, int, int], DoneCounts]:
    """Counted patrols per person × grid × role in the current day, week and month."""
    query = _done_query(windows, now, paths, await _dialect(session))
    return {
        (r[0], r[1], r[2]): DoneCounts._make(map(int, r[3:9]))
        for r in (await _core(session, query)).all()
    }


async def flagged_patrols(
    session: AsyncSession, day: PeriodWindow, paths: Sequence[str] | None = None
) -> dict[int, int]:
    query = (
        select(col(Patrol.grid_id), func.count())
        .where(
            col(Patrol.started_at) >= day.start,
            col(Patrol.started_at) < day.end,
            func.json_array_length(col(Patrol.flags)) > 0,
        )
        .group_by(col(Patrol.grid_id))
    )
    query = _restrict(query, col(Patrol.grid_id), paths)
    return {int(r[0]): int(r[1]) for r in (await _core(session, query)).all()}


async def case_rows(
    session: AsyncSession, day: PeriodWindow, now: datetime, paths: Sequence[str] | None = None
) -> list[CaseRow]:
    """Per grid × severity: new, accepted, closed today; overdue now."""
    start, end = day.start, day.end

    def today(column: Any) -> Any:
        return and_(column >= start, column < end)

    new = today(col(Case.created_at))
    accepted = today(col(Case.accepted_at))
    closed = and_(today(col(Case.closed_at)), col(Case.status).in_(_CLOSED))
    overdue = and_(col(Case.status).in_(_UNDER_DEADLINE), col(Case.deadline_at) < now)

    def n(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    query = (
        select(col(Case.grid_id), col(Case.severity), n(new), n(accepted), n(closed), n(overdue))
        .where(or_(new, accepted, closed, overdue))
        .group_by(col(Case.grid_id), col(Case.severity))
    )
    query = _restrict(query, col(Case.grid_id), paths)
    rows = {
        (int(r[0]), str(r[1])): [int(r[2]), int(r[3]), int(r[4]), int(r[5]), 0]
        for r in (await _core(session, query)).all()
    }
    esc = (
        select(col(CaseEvent.grid_id), col(Case.severity), func.count())
        .join(Case, col(Case.id) == col(CaseEvent.case_id))
        .where(col(CaseEvent.kind) == "escalated", today(col(CaseEvent.at)))
        .group_by(col(CaseEvent.grid_id), col(Case.severity))
    )
    esc = _restrict(esc, col(CaseEvent.grid_id), paths)
    for r in (await _core(session, esc)).all():
        rows.setdefault((int(r[0]), str(r[1])), [0, 0, 0, 0, 0])[4] += int(r[2])
    return [CaseRow(g, s, *v) for (g, s), v in rows.items()]


async def closure(
    session: AsyncSession, month: PeriodWindow, paths: Sequence[str] | None = None
) -> dict[int, tuple[int, int]]:
    """Per grid: cases closed this month that had a deadline, and how many of them on time."""
    on_time = func.sum(case((col(Case.closed_at) <= col(Case.deadline_at), 1), else_=0))
    query = (
        select(col(Case.grid_id), func.count(), on_time)
        .where(
            col(Case.status).in_(_CLOSED),
            col(Case.closed_at) >= month.start,
            col(Case.deadline_at).is_not(None),
        )
        .group_by(col(Case.grid_id))
    )
    query = _restrict(query, col(Case.grid_id), paths)
    return {int(r[0]): (int(r[1]), int(r[2] or 0)) for r in (await _core(session, query)).all()}


async def open_cases(
    session: AsyncSession, paths: Sequence[str] | None = None
) -> dict[tuple[int, str], int]:
    """(grid id, status) -> open cases: one row per grid, a column per open status (those
    that wait on a leader, REPORTED / ACCEPTED / FEEDBACK, among them)."""
    wanted = sorted(_OPEN)
    status = col(Case.status)
    query = (
        select(col(Case.grid_id), *(func.sum(case((status == w, 1), else_=0)) for w in wanted))
        .where(status.in_(wanted))
        .group_by(col(Case.grid_id))
    )
    query = _restrict(query, col(Case.grid_id), paths)
    out: dict[tuple[int, str], int] = {}
    for r in (await _core(session, query)).all():
        for w, n in zip(wanted, r[1:], strict=True):
            if n:
                out[(r[0], w)] = int(n)
    return out


async def critical_cases(
    session: AsyncSession, now: datetime, paths: Sequence[str] | None = None
) -> list[NamedCase]:
    overdue = and_(col(Case.status).in_(_UNDER_DEADLINE), col(Case.deadline_at) < now)
    query = (
        select(col(Case.id), col(Case.code), col(Case.grid_id), col(Case.description), overdue)
        .where(col(Case.severity).in_(CRITICAL_NAMES), col(Case.status).in_(_OPEN))
        .order_by(col(Case.id))
    )
    query = _restrict(query, col(Case.grid_id), paths)
    return [
        NamedCase(r[0], r[1], r[2], r[3], bool(r[4])) for r in (await _core(session, query)).all()
    ]


async def load_snapshot(
    session: AsyncSession,
    *,
    windows: dict[str, PeriodWindow],
    now: datetime,
    paths: Sequence[str] | None = None,
) -> Snapshot:
    """Everything the digests need: ten statements, whatever the size of the tree."""
    people_, holdings_, done_ = await members(session, windows, now, paths)
    return Snapshot(
        grids=tuple(await grid_nodes(session, paths)),
        people=people_,
        holdings=tuple(holdings_),
        done=done_,
        cases=tuple(await case_rows(session, windows["day"], now, paths)),
        flagged=await flagged_patrols(session, windows["day"], paths),
        closure=await closure(session, windows["month"], paths),
        open_cases=await open_cases(session, paths),
        critical=tuple(await critical_cases(session, now, paths)),
        supervised=await supervised(session, now, paths),
    )


async def supervised(
    session: AsyncSession, now: datetime, paths: Sequence[str] | None = None
) -> dict[int, tuple[int, int]]:
    """grid id -> (督办 yellow, red) of its open cases at ``now`` (`flags_per_grid`: counted
    per grid in the database, not a row per open case)."""
    flags = await flags_per_grid(session, await case_rules(session), now, paths=paths)
    return {gid: (f.yellow, f.red) for gid, f in flags.items()}


async def existing_keys(session: AsyncSession, *, prefix: str, suffix: str) -> set[str]:
    """Outbox keys already queued that start with `prefix` and end with `suffix`."""
    query = select(col(Delivery.key)).where(col(Delivery.key).like(f"{prefix}%{suffix}"))
    return {str(r[0]) for r in (await _core(session, query)).all()}


async def led_paths(session: AsyncSession, person_id: int) -> list[str]:
    """Paths of the grids a person leads."""
    query = (
        select(col(Grid.path))
        .join(Membership, col(Membership.grid_id) == col(Grid.id))
        .join(Role, col(Role.id) == col(Membership.role_id))
        .where(
            col(Membership.person_id) == person_id,
            col(Role.is_leader).is_(True),
            col(Grid.archived_at).is_(None),
        )
    )
    paths = sorted({str(r[0]) for r in (await _core(session, query)).all()})
    return [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
