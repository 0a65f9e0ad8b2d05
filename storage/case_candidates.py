"""The cases that may wait for a person (/my, the nags): statements built once per shape."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from storage.models import Case, Grid
from storage.written_words import among_words


async def candidate_cases_for(
    session: AsyncSession,
    *,
    person_id: int,
    led_grid_ids: Iterable[int],
    department_ids: Iterable[int] = (),
) -> list[Case]:
    """Cases that may wait for a person: in a grid they lead or its parent (verification
    falls to the parent when the handler leads the grid), assigned to them, to one of their
    departments, or verified by them and not yet rated. The caller asks the domain which of
    these really wait (`domain.cases.waiting_for`)."""
    led = set(led_grid_ids)
    child_ids: set[int] = set()
    if led:
        rows = await session.exec(_CHILD_GRIDS, params={"led": sorted(led)})
        child_ids = {int(i) for i in rows if i is not None}
    depts = set(department_ids)
    params: dict[str, Any] = {"person_id": person_id}
    if led:
        params["led"] = sorted(led)
    if child_ids:
        params["children"] = sorted(child_ids)
    if depts:
        params["depts"] = sorted(depts)
    query = _candidates_query(bool(led), bool(child_ids), bool(depts))
    return list(await session.exec(query, params=params))


_CHILD_GRIDS = select(Grid.id).where(col(Grid.parent_id).in_(bindparam("led", expanding=True)))
_LIVE = [s.value for s in CaseStatus if s not in (CaseStatus.REJECTED, CaseStatus.RATED)]


@cache
def _candidates_query(led: bool, children: bool, depts: bool) -> Any:
    """`candidate_cases_for`'s statement for the conditions that apply, values bound: built
    once per shape (building it was most of a /my's own work)."""
    person: Any = bindparam("person_id")
    conditions: list[ColumnElement[bool]] = [
        col(Case.assignee_person_id) == person,
        and_(col(Case.verifier_id) == person, col(Case.status) == CaseStatus.CLOSED.value),
    ]
    if led:
        conditions.append(col(Case.grid_id).in_(bindparam("led", expanding=True)))
    if children:
        conditions.append(
            and_(
                col(Case.grid_id).in_(bindparam("children", expanding=True)),
                col(Case.status) == CaseStatus.FEEDBACK.value,
            )
        )
    if depts:
        conditions.append(col(Case.assignee_department_id).in_(bindparam("depts", expanding=True)))
    return select(Case).where(among_words(col(Case.status), _LIVE), or_(*conditions))
