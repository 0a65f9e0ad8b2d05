"""What an import starts from: the database's roster read in a few column queries, in the
file's shapes (``Snapshot``) and as light rows the apply steps write against.

Plain column tuples rather than ORM objects: a city holds tens of thousands of grids and
people, and an import never needs them as tracked objects (it writes in bulk).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.sql.base import Executable
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_rules import from_stored as case_rules_from_stored
from domain.categories import from_stored
from domain.scenario import (
    DepartmentSpec,
    GridSpec,
    MembershipSpec,
    PersonSpec,
    QuotaSpec,
    RoleSpec,
    ScenarioSettings,
    ScheduleSpec,
    SeveritySpec,
    Snapshot,
)
from storage.models import Department, Deployment, Grid, Membership, Person, Role


@dataclass
class GridRow:
    """A grid as the import sees it; ``path`` and ``level`` are kept current as it moves
    grids, so grids hung under it later get the right ones."""

    id: int
    code: str
    name: str
    parent_id: int | None
    level: int
    level_label: str
    path: str
    geofence: dict[str, Any] | None
    roll_call: bool
    archived_at: datetime | None


@dataclass
class PersonRow:
    id: int
    tg_id: int
    name: str
    place: str | None
    listed: bool


@dataclass
class Loaded:
    snapshot: Snapshot
    grids: dict[str, GridRow]  # every grid, archived too, by code
    people: dict[int, PersonRow]  # everyone with a tg_id, by tg_id
    membership_ids: dict[tuple[int, str, str], int]  # (tg_id, grid code, role key) -> id


async def executemany(
    session: AsyncSession, statement: Executable, params: Sequence[Mapping[str, Any]]
) -> None:
    """One statement for many rows on the session's connection (the ORM's bulk paths would
    re-plan each row or refuse a WHERE on parameters). Pending ORM objects are flushed
    first, as a query of the session would."""
    if not params:
        return
    await session.flush()
    conn = await session.connection()
    await conn.execute(statement, list(params))


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _settings_of(d: Deployment) -> ScenarioSettings:
    quiet_start = quiet_end = None
    if d.quiet_hours:
        start, end = d.quiet_hours.split("-")
        quiet_start, quiet_end = _hhmm(start), _hhmm(end)
    return ScenarioSettings(
        name=d.name,
        timezone=d.timezone,
        levels=tuple(d.levels),
        checklist=tuple(d.checklist),
        categories=from_stored(d.categories),
        severities=tuple(
            SeveritySpec(
                name=name,
                deadline_hours=int(spec["deadline_hours"]),
                notify_to_root=bool(spec.get("notify_to_root", False)),
            )
            for name, spec in d.severities.items()
        ),
        schedule=ScheduleSpec(
            digest=_hhmm(d.digest_time),
            nag=_hhmm(d.nag_time),
            quiet_start=quiet_start,
            quiet_end=quiet_end,
        ),
        companions_count=d.patrol_companions_count,
        case_rules=case_rules_from_stored(d.case_rules),
    )


def grid_spec(g: GridRow, codes: dict[int, str]) -> GridSpec:
    return GridSpec(
        code=g.code,
        name=g.name,
        parent_code=codes.get(g.parent_id) if g.parent_id else None,
        level=g.level,
        level_label=g.level_label,
        geofence=g.geofence,
        roll_call=g.roll_call,
    )


async def grid_rows(session: AsyncSession) -> dict[str, GridRow]:
    query: Any = sa_select(
        col(Grid.id),
        col(Grid.code),
        col(Grid.name),
        col(Grid.parent_id),
        col(Grid.level),
        col(Grid.level_label),
        col(Grid.path),
        col(Grid.geofence),
        col(Grid.roll_call),
        col(Grid.archived_at),
    ).order_by(col(Grid.id))
    rows = (await session.execute(query)).all()
    return {r[1]: GridRow(*r) for r in rows}


async def load(session: AsyncSession) -> Loaded:
    roles = (await session.exec(select(Role))).all()
    departments = (
        await session.exec(select(Department).where(col(Department.archived_at).is_(None)))
    ).all()
    grids = await grid_rows(session)
    codes = {g.id: g.code for g in grids.values()}
    query: Any = (
        sa_select(
            col(Person.id),
            col(Person.tg_id),
            col(Person.name),
            col(Person.place),
            col(Person.listed),
        )
        .where(col(Person.tg_id).is_not(None))
        .order_by(col(Person.id))
    )
    people = {
        int(tg): PersonRow(int(pid), int(tg), name, place, bool(listed))
        for pid, tg, name, place, listed in (await session.execute(query)).all()
    }
    rows = await session.exec(
        select(Membership.id, Person.tg_id, Grid.code, Role.key)
        .join(Person, col(Person.id) == Membership.person_id)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(col(Grid.archived_at).is_(None), col(Person.tg_id).is_not(None))
        .order_by(col(Membership.id))
    )
    membership_ids = {
        (int(tg), code, key): int(mid)
        for mid, tg, code, key in rows
        if mid is not None and tg is not None
    }
    deployment = await session.get(Deployment, 1)
    snap = Snapshot(
        roles=tuple(
            RoleSpec(
                key=r.key,
                label=r.label,
                leader=r.is_leader,
                quota=QuotaSpec(r.quota_period, r.quota_count)
                if r.quota_period and r.quota_count
                else None,
            )
            for r in roles
        ),
        departments=tuple(DepartmentSpec(code=d.code, name=d.name) for d in departments),
        grids=tuple(grid_spec(g, codes) for g in grids.values() if g.archived_at is None),
        archived_grids=tuple(
            grid_spec(g, codes) for g in grids.values() if g.archived_at is not None
        ),
        people=tuple(PersonSpec(tg_id=tg, name=p.name, place=p.place) for tg, p in people.items()),
        memberships=tuple(
            MembershipSpec(tg_id=tg, grid_code=code, role_key=key)
            for tg, code, key in membership_ids
        ),
        settings=_settings_of(deployment) if deployment else None,
        listed=frozenset(tg for tg, p in people.items() if p.listed),
    )
    return Loaded(snapshot=snap, grids=grids, people=people, membership_ids=membership_ids)
