"""The patrol ledger's queries (巡查台账): a subtree's patrols in a month page by page, the
hazard cases each opened, the grid's members who may be picked as companions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Grid, Membership, Patrol, Person


async def patrols_under(
    session: AsyncSession,
    *,
    path_prefix: str,
    start: datetime,
    end: datetime,
    offset: int = 0,
    limit: int = 10,
) -> tuple[list[tuple[Patrol, Grid, Person]], int]:
    """Patrols of a subtree checked in within ``[start, end)``, oldest first, one page of them,
    and how many there are in all."""
    where = (
        col(Grid.path).startswith(path_prefix),
        col(Patrol.started_at) >= start,
        col(Patrol.started_at) < end,
    )
    total = (
        await session.exec(
            select(func.count(col(Patrol.id)))
            .join(Grid, col(Grid.id) == Patrol.grid_id)
            .where(*where)
        )
    ).one()
    query = (
        select(Patrol, Grid, Person)
        .join(Grid, col(Grid.id) == Patrol.grid_id)
        .join(Person, col(Person.id) == Patrol.person_id)
        .where(*where)
        .order_by(col(Patrol.started_at), col(Patrol.id))
        .offset(offset)
        .limit(limit)
    )
    return list((await session.exec(query)).all()), int(total)


async def case_codes_by_patrol(
    session: AsyncSession, patrol_ids: Iterable[int]
) -> dict[int, list[str]]:
    """The codes of the hazard cases each patrol opened (its findings), in code order."""
    from storage.models import Case

    ids = list(patrol_ids)
    if not ids:
        return {}
    rows = await session.exec(
        select(Case.patrol_id, Case.code)
        .where(col(Case.patrol_id).in_(ids))
        .order_by(col(Case.code))
    )
    found: dict[int, list[str]] = {}
    for patrol_id, code in rows:
        if patrol_id is not None:
            found.setdefault(patrol_id, []).append(code)
    return found


async def grid_mates(
    session: AsyncSession, *, grid_id: int, exclude_person_id: int | None = None
) -> list[tuple[int, str]]:
    """(person id, name) of everyone holding a role in the grid, by name (companions)."""
    query = (
        select(Person.id, Person.name)
        .join(Membership, col(Membership.person_id) == Person.id)
        .where(Membership.grid_id == grid_id)
        .distinct()
        .order_by(col(Person.name), col(Person.id))
    )
    rows = await session.exec(query)
    return [(int(pid), name) for pid, name in rows if pid is not None and pid != exclude_person_id]
