"""Queries for the chasing jobs: the city's tree, cases near or past their deadline, reports
nobody took. Each is one statement, whatever the size of the city.

The tree (`grid_nodes`, `holdings`, `people`: tens of thousands of rows each) is fetched a
slice of `SLICE_ROWS` rows at a time with `between` awaited after each: turning a whole
city's rows into tuples at once stopped the event loop, and the handlers in it, for 100-250
ms per statement.

And the jobs' one write, `queue_pushes`: a chunk of outbox rows in two statements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Executable, Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel import select as sm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import UNDER_DEADLINE, CaseStatus
from domain.digest_records import GridNode, Holding, PersonInfo
from storage import digest
from storage.models import Case, CaseEvent, Delivery, Department, Grid, Person

DELIVERY: Table = Delivery.__table__  # type: ignore[attr-defined]
SLICE_ROWS = 1000
"""Rows fetched and made into records between two awaits of `between`."""

Between = Callable[[], Awaitable[None]]
T = TypeVar("T")


async def _sliced(
    session: AsyncSession, query: Executable, make: Callable[[Any], T], between: Between
) -> list[T]:
    """The query's rows as records, fetched from a server-side cursor `SLICE_ROWS` at a time."""
    conn = await session.connection()
    result = await conn.stream(query)
    out: list[T] = []
    async for rows in result.partitions(SLICE_ROWS):
        out.extend(map(make, rows))
        await between()
    return out


async def grid_nodes(session: AsyncSession, between: Between) -> list[GridNode]:
    """Every live grid (as `storage.digest.grid_nodes` reads them, in slices)."""
    return await _sliced(session, digest.grid_nodes_query(), digest.grid_node, between)


async def holdings(session: AsyncSession, between: Between) -> list[Holding]:
    """Every membership with its role (as `storage.digest.holdings`, in slices)."""
    return await _sliced(session, digest.holdings_query(), Holding._make, between)


async def people(session: AsyncSession, between: Between) -> dict[int, PersonInfo]:
    """Everyone, by id (as `storage.digest.people`, in slices)."""
    rows = await _sliced(session, digest.people_query(), PersonInfo._make, between)
    return {p.id: p for p in rows}


@dataclass(frozen=True)
class CaseDue:
    id: int
    code: str
    grid_id: int
    description: str
    severity: str
    status: str
    deadline_at: datetime
    assignee_person_id: int | None
    assignee_department_id: int | None


async def cases_due_before(session: AsyncSession, before: datetime) -> list[CaseDue]:
    """Cases whose rectification deadline runs against someone and falls before `before`."""
    query = (
        select(
            col(Case.id),
            col(Case.code),
            col(Case.grid_id),
            col(Case.description),
            col(Case.severity),
            col(Case.status),
            col(Case.deadline_at),
            col(Case.assignee_person_id),
            col(Case.assignee_department_id),
        )
        .where(
            col(Case.status).in_([s.value for s in UNDER_DEADLINE]),
            col(Case.deadline_at).is_not(None),
            col(Case.deadline_at) < before,
        )
        .order_by(col(Case.id))
    )
    return [CaseDue(*r) for r in (await session.execute(query)).all()]


@dataclass(frozen=True)
class Untaken:
    """A report nobody accepted, or an assignment nobody acknowledged, and since when."""

    id: int
    code: str
    grid_id: int
    description: str
    severity: str
    status: str
    since: datetime
    assignee_person_id: int | None


async def untaken_cases(session: AsyncSession) -> list[Untaken]:
    """REPORTED cases (since the report, or since they last climbed a level) and ASSIGNED
    cases to a person (since the assignment)."""
    last_climb = (
        select(col(CaseEvent.case_id), func.max(col(CaseEvent.at)).label("at"))
        .where(col(CaseEvent.kind) == "escalated")
        .group_by(col(CaseEvent.case_id))
        .subquery()
    )
    query = (
        select(
            col(Case.id),
            col(Case.code),
            col(Case.grid_id),
            col(Case.description),
            col(Case.severity),
            col(Case.status),
            col(Case.created_at),
            col(Case.assigned_at),
            last_climb.c.at,
            col(Case.assignee_person_id),
        )
        .outerjoin(last_climb, last_climb.c.case_id == col(Case.id))
        .where(
            (col(Case.status) == CaseStatus.REPORTED.value)
            | (
                (col(Case.status) == CaseStatus.ASSIGNED.value)
                & col(Case.assignee_person_id).is_not(None)
            )
        )
        .order_by(col(Case.id))
    )
    out = []
    for r in (await session.execute(query)).all():
        cid, code, grid, desc, sev, status, created, assigned, climbed, assignee = r
        if status == CaseStatus.REPORTED.value:
            since = max(created, climbed) if climbed is not None else created
        else:
            since = assigned or created
        out.append(Untaken(cid, code, grid, desc, sev, status, since, assignee))
    return out


async def people_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Person]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = (await session.exec(sm_select(Person).where(col(Person.id).in_(wanted)))).all()
    return {p.id: p for p in rows if p.id is not None}


async def department_chats(session: AsyncSession, ids: Iterable[int]) -> dict[int, int]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(col(Department.id), col(Department.chat_id)).where(
        col(Department.id).in_(wanted), col(Department.chat_id).is_not(None)
    )
    return {int(r[0]): int(r[1]) for r in (await session.execute(query)).all()}


async def roll_call_grids(session: AsyncSession) -> list[Grid]:
    """Live grids whose bound group opted in to the daily roll call."""
    query = sm_select(Grid).where(
        col(Grid.roll_call).is_(True),
        col(Grid.group_chat_id).is_not(None),
        col(Grid.archived_at).is_(None),
    )
    return list((await session.exec(query)).all())


@dataclass(frozen=True)
class Push:
    """One outbox row a chasing job wants queued (`storage.outbox.enqueue`'s text pushes)."""

    key: str
    kind: str
    chat_id: int
    text: str
    person_id: int | None
    urgent: bool
    not_before: datetime


async def queue_pushes(
    session: AsyncSession, pushes: Sequence[Push], *, now: datetime
) -> list[str]:
    """Queue the pushes whose key is not in the outbox yet; returns the keys queued.

    One SELECT of the keys already there and one multi-row INSERT ... ON CONFLICT (key) DO
    NOTHING, so a row queued meanwhile by another run of the same job is skipped, not an
    error. Keep `pushes` to a few hundred: every key is a bound parameter."""
    if not pushes:
        return []
    keys = [p.key for p in pushes]
    there = await session.execute(select(col(Delivery.key)).where(col(Delivery.key).in_(keys)))
    existing = set(there.scalars())
    fresh: dict[str, Push] = {}
    for p in pushes:
        if p.key not in existing:
            fresh.setdefault(p.key, p)
    if not fresh:
        return []
    conn = await session.connection()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(DELIVERY).on_conflict_do_nothing(index_elements=["key"])
    await conn.execute(
        statement,
        [
            {
                "key": p.key,
                "kind": p.kind,
                "chat_id": p.chat_id,
                "person_id": p.person_id,
                "text": p.text,
                "urgent": p.urgent,
                "status": "pending",
                "attempts": 0,
                "not_before": p.not_before,
                "created_at": now,
            }
            for p in fresh.values()
        ],
    )
    return list(fresh)
