"""Patrol queries: counted patrols per person × grid × role, the last counted patrol, and
the subtree roll-up for leaders. Grouped SQL, never a query per person or per grid.

A patrol is *counted* when it was closed with no flag; *flagged* when it was closed (done or
refused) with at least one flag, so it does not count. Open patrols are neither yet. Its time
for quota purposes is ``started_at`` (the moment of the check-in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Grid, Membership, Patrol, Person, Role

OPEN = "open"
DONE = "done"
REFUSED = "refused"

MembershipKey = tuple[int, int, int]
"""(person_id, grid_id, role_id)."""


async def counted_per_membership(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    person_ids: Iterable[int] | None = None,
    path_prefix: str | None = None,
) -> dict[MembershipKey, int]:
    """Counted patrols in ``[start, end)`` grouped by person × grid × role.

    Narrow by people, or by a subtree (a grid path prefix such as ``"/1/4/"``).
    """
    query = (
        select(
            Patrol.person_id,
            Patrol.grid_id,
            Patrol.role_id,
            func.count(col(Patrol.id)),
        )
        .where(
            col(Patrol.counted).is_(True),
            col(Patrol.started_at) >= start,
            col(Patrol.started_at) < end,
        )
        .group_by(col(Patrol.person_id), col(Patrol.grid_id), col(Patrol.role_id))
    )
    if person_ids is not None:
        query = query.where(col(Patrol.person_id).in_(list(person_ids)))
    if path_prefix is not None:
        query = query.join(Grid, col(Grid.id) == Patrol.grid_id).where(
            col(Grid.path).startswith(path_prefix)
        )
    rows = await session.exec(query)
    return {(p, g, r): int(n) for p, g, r, n in rows}


async def last_counted(
    session: AsyncSession, *, person_id: int, grid_id: int, exclude_id: int | None = None
) -> Patrol | None:
    """The latest counted patrol of this person in this grid (by check-in time)."""
    query = select(Patrol).where(
        Patrol.person_id == person_id,
        Patrol.grid_id == grid_id,
        col(Patrol.counted).is_(True),
    )
    if exclude_id is not None:
        query = query.where(Patrol.id != exclude_id)
    query = query.order_by(col(Patrol.started_at).desc(), col(Patrol.id).desc()).limit(1)
    return (await session.exec(query)).first()


async def open_patrol_of(session: AsyncSession, *, person_id: int) -> Patrol | None:
    """The person's newest open patrol, if any."""
    query = (
        select(Patrol)
        .where(Patrol.person_id == person_id, Patrol.status == OPEN)
        .order_by(col(Patrol.started_at).desc(), col(Patrol.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


@dataclass(frozen=True)
class MembershipRow:
    """One person's role in one grid of a subtree, with the role's quota."""

    person_id: int
    person_name: str
    grid_id: int
    grid_code: str
    grid_name: str
    grid_path: str
    role_id: int
    role_label: str
    quota_period: str | None
    quota_count: int | None


async def memberships_under(
    session: AsyncSession, *, path_prefix: str, with_quota_only: bool = True
) -> list[MembershipRow]:
    """Every membership in the subtree (one query), ordered by grid path then person."""
    query = (
        select(Membership, Grid, Role, Person)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .join(Person, col(Person.id) == Membership.person_id)
        .where(col(Grid.path).startswith(path_prefix), col(Grid.archived_at).is_(None))
        .order_by(col(Grid.path), col(Person.name), col(Role.key))
    )
    if with_quota_only:
        query = query.where(col(Role.quota_count).is_not(None), col(Role.quota_period).is_not(None))
    rows = await session.exec(query)
    return [
        MembershipRow(
            person_id=p.id or 0,
            person_name=p.name,
            grid_id=g.id or 0,
            grid_code=g.code,
            grid_name=g.name,
            grid_path=g.path,
            role_id=r.id or 0,
            role_label=r.label,
            quota_period=r.quota_period,
            quota_count=r.quota_count,
        )
        for _m, g, r, p in rows
    ]


@dataclass(frozen=True)
class PatrolTally:
    counted: int
    flagged: int


async def tallies_under(
    session: AsyncSession, *, path_prefix: str, start: datetime, end: datetime
) -> dict[MembershipKey, PatrolTally]:
    """Counted and flagged patrols in ``[start, end)`` per person × grid × role of a subtree."""
    closed = col(Patrol.status).in_([DONE, REFUSED])
    counted = col(Patrol.counted).is_(True)
    query = (
        sa_select(
            col(Patrol.person_id),
            col(Patrol.grid_id),
            col(Patrol.role_id),
            func.sum(case((counted, 1), else_=0)).cast(Integer),
            func.sum(case((closed & ~counted, 1), else_=0)).cast(Integer),
        )
        .join(Grid, col(Grid.id) == Patrol.grid_id)
        .where(
            col(Grid.path).startswith(path_prefix),
            col(Patrol.started_at) >= start,
            col(Patrol.started_at) < end,
        )
        .group_by(col(Patrol.person_id), col(Patrol.grid_id), col(Patrol.role_id))
    )
    rows = await session.execute(query)
    return {(p, g, r): PatrolTally(int(c or 0), int(f or 0)) for p, g, r, c, f in rows}


async def flagged_under(
    session: AsyncSession, *, path_prefix: str, start: datetime, end: datetime
) -> Sequence[tuple[Patrol, Grid, Person]]:
    """Flagged check-ins in a subtree in ``[start, end)`` (for the leader's digest)."""
    query = (
        select(Patrol, Grid, Person)
        .join(Grid, col(Grid.id) == Patrol.grid_id)
        .join(Person, col(Person.id) == Patrol.person_id)
        .where(
            col(Grid.path).startswith(path_prefix),
            col(Patrol.status).in_([DONE, REFUSED]),
            col(Patrol.counted).is_(False),
            col(Patrol.started_at) >= start,
            col(Patrol.started_at) < end,
        )
        .order_by(col(Patrol.started_at))
    )
    return list((await session.exec(query)).all())


# --- the patrol ledger (巡查台账) ------------------------------------------------------------


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
