"""The export's reads (台账): cases, their ledger entries and patrols of a subtree, in batches.

Every reader walks its table by key (``id > last``, never OFFSET) a batch at a time, so an
export holds one batch in memory whatever the size of the city. A case belongs to the
export when it was reported within the span and its grid now lies in the subtree (the grid
clause of the visibility rule); its ledger entries go with it, all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import EventKind
from domain.stats import Span
from storage.models import Case, CaseEvent, Department, Grid, Patrol, Person

BATCH = 2000

STEP_KINDS = (
    EventKind.FEEDBACK_GIVEN.value,
    EventKind.DEPT_FEEDBACK_GIVEN.value,
    EventKind.RATED.value,
    EventKind.EXTENSION_APPROVED.value,
)
"""Steps whose time the cases sheet shows and the Case row does not keep."""


async def _core(session: AsyncSession, query: Any) -> Any:
    conn = await session.connection()
    return await conn.execute(query)


def _case_scope(path: str, span: Span, grid: Any = Grid) -> tuple[Any, ...]:
    created = col(Case.created_at)
    return (col(grid.path).startswith(path), created >= span.start, created < span.end)


async def count_rows(session: AsyncSession, path: str, span: Span) -> tuple[int, int, int]:
    """(cases, ledger entries, patrols) the export of this subtree and span will write."""
    cases = select(func.count()).select_from(Case).join(Grid, col(Grid.id) == col(Case.grid_id))
    events = (
        select(func.count())
        .select_from(CaseEvent)
        .join(Case, col(Case.id) == col(CaseEvent.case_id))
        .join(Grid, col(Grid.id) == col(Case.grid_id))
    )
    started = col(Patrol.started_at)
    patrols = (
        select(func.count())
        .select_from(Patrol)
        .join(Grid, col(Grid.id) == col(Patrol.grid_id))
        .where(col(Grid.path).startswith(path), started >= span.start, started < span.end)
    )
    scope = _case_scope(path, span)
    return (
        int((await _core(session, cases.where(*scope))).scalar_one()),
        int((await _core(session, events.where(*scope))).scalar_one()),
        int((await _core(session, patrols)).scalar_one()),
    )


CASE_COLUMNS = (
    col(Case.id),
    col(Case.code),
    col(Grid.code),
    col(Grid.name),
    col(Case.category),
    col(Case.severity),
    col(Case.status),
    col(Case.reporter_id),
    col(Case.address),
    col(Case.lat),
    col(Case.lon),
    col(Case.description),
    col(Case.created_at),
    col(Case.accepted_at),
    col(Case.assigned_at),
    col(Case.closed_at),
    col(Case.deadline_at),
    col(Case.handler_id),
    col(Case.assignee_person_id),
    col(Case.assignee_department_id),
    col(Case.rework_count),
    col(Case.rating),
)


async def case_batches(
    session: AsyncSession, path: str, span: Span, *, batch: int = BATCH
) -> AsyncIterator[list[Any]]:
    """The export's cases in id order (the order they were reported), a batch at a time."""
    last = 0
    while True:
        query = (
            select(*CASE_COLUMNS)
            .join(Grid, col(Grid.id) == col(Case.grid_id))
            .where(*_case_scope(path, span), col(Case.id) > last)
            .order_by(col(Case.id))
            .limit(batch)
        )
        rows = list((await _core(session, query)).all())
        if not rows:
            return
        yield rows
        last = int(rows[-1][0])


async def step_times(
    session: AsyncSession, case_ids: Iterable[int]
) -> dict[int, dict[str, datetime]]:
    """Per case, the time of the latest entry of each of `STEP_KINDS`: one grouped query."""
    ids = list(case_ids)
    if not ids:
        return {}
    query = (
        select(col(CaseEvent.case_id), col(CaseEvent.kind), func.max(col(CaseEvent.at)))
        .where(col(CaseEvent.case_id).in_(ids), col(CaseEvent.kind).in_(STEP_KINDS))
        .group_by(col(CaseEvent.case_id), col(CaseEvent.kind))
    )
    out: dict[int, dict[str, datetime]] = {}
    for case_id, kind, at in (await _core(session, query)).all():
        out.setdefault(int(case_id), {})[str(kind)] = at  # max() keeps the column's UTC type
    return out


async def reopen_counts(session: AsyncSession, case_ids: Iterable[int]) -> dict[int, int]:
    """Per case, how many times it was reopened (its REOPENED entries): one grouped query."""
    ids = list(case_ids)
    if not ids:
        return {}
    query = (
        select(col(CaseEvent.case_id), func.count())
        .where(col(CaseEvent.case_id).in_(ids), col(CaseEvent.kind) == EventKind.REOPENED.value)
        .group_by(col(CaseEvent.case_id))
    )
    return {int(r[0]): int(r[1]) for r in (await _core(session, query)).all()}


async def event_batches(
    session: AsyncSession, path: str, span: Span, *, batch: int = BATCH
) -> AsyncIterator[list[Any]]:
    """The ledger entries of the export's cases, case by case and in order within each."""
    case_grid = aliased(Grid)
    step_grid = aliased(Grid)
    last: tuple[int, int] = (0, 0)
    while True:
        query = (
            select(
                col(CaseEvent.case_id),
                col(CaseEvent.id),
                col(Case.code),
                col(CaseEvent.at),
                col(CaseEvent.kind),
                col(CaseEvent.actor_id),
                col(CaseEvent.actor_department_id),
                col(step_grid.code),
                col(CaseEvent.status_after),
                col(CaseEvent.note),
            )
            .join(Case, col(Case.id) == col(CaseEvent.case_id))
            .join(case_grid, col(case_grid.id) == col(Case.grid_id))
            .join(step_grid, col(step_grid.id) == col(CaseEvent.grid_id))
            .where(
                *_case_scope(path, span, case_grid),
                tuple_(col(CaseEvent.case_id), col(CaseEvent.id)) > tuple_(*last),
            )
            .order_by(col(CaseEvent.case_id), col(CaseEvent.id))
            .limit(batch)
        )
        rows = list((await _core(session, query)).all())
        if not rows:
            return
        yield rows
        last = (int(rows[-1][0]), int(rows[-1][1]))


async def patrol_batches(
    session: AsyncSession, path: str, span: Span, *, batch: int = BATCH
) -> AsyncIterator[list[Any]]:
    """The subtree's patrols checked in within the span, in id order."""
    started = col(Patrol.started_at)
    last = 0
    while True:
        query = (
            select(
                col(Patrol.id),
                started,
                col(Patrol.finished_at),
                col(Grid.code),
                col(Grid.name),
                col(Patrol.person_id),
                col(Patrol.status),
                col(Patrol.counted),
                col(Patrol.checklist),
                col(Patrol.notes),
                col(Patrol.measures),
            )
            .join(Grid, col(Grid.id) == col(Patrol.grid_id))
            .where(
                col(Grid.path).startswith(path),
                started >= span.start,
                started < span.end,
                col(Patrol.id) > last,
            )
            .order_by(col(Patrol.id))
            .limit(batch)
        )
        rows = list((await _core(session, query)).all())
        if not rows:
            return
        yield rows
        last = int(rows[-1][0])


async def person_names(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    query = select(col(Person.id), col(Person.name)).where(col(Person.id).in_(wanted))
    return {int(r[0]): str(r[1]) for r in (await _core(session, query)).all()}


async def department_names(session: AsyncSession) -> dict[int, str]:
    query = select(col(Department.id), col(Department.name))
    return {int(r[0]): str(r[1]) for r in (await _core(session, query)).all()}
