"""Applying a scenario file to the database: read the snapshot, diff, apply the difference.

The import manages what the file names: its roles, departments and grids, its people and
their memberships. People who joined through an invite and are not in the file keep their
memberships. Grids missing from the file are archived, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.scenario import (
    DepartmentSpec,
    GridSpec,
    MembershipSpec,
    PersonSpec,
    QuotaSpec,
    RoleSpec,
    Scenario,
    ScenarioChanges,
    ScenarioSettings,
    ScheduleSpec,
    SeveritySpec,
    Snapshot,
    diff,
)
from storage.audit import record_audit
from storage.grids import add_grid, archive_grid, move_grid
from storage.models import Department, Deployment, Grid, Membership, Person, Role

DEFAULT_CATEGORIES = [
    "火灾隐患",
    "用电隐患",
    "燃气隐患",
    "消防通道堵塞",
    "违法用水",
    "市场秩序",
    "其他",
]


@dataclass(frozen=True)
class ImportResult:
    changes: ScenarioChanges
    totals: dict[str, int]


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
    )


def _grid_spec(g: Grid, codes: dict[int, str]) -> GridSpec:
    return GridSpec(
        code=g.code,
        name=g.name,
        parent_code=codes.get(g.parent_id) if g.parent_id else None,
        level=g.level,
        level_label=g.level_label,
        geofence=g.geofence,
        roll_call=g.roll_call,
    )


async def snapshot(session: AsyncSession, *, for_people: set[int] | None = None) -> Snapshot:
    """What the database holds, in the file's shapes (memberships of `for_people` only)."""
    roles = (await session.exec(select(Role))).all()
    departments = (
        await session.exec(select(Department).where(col(Department.archived_at).is_(None)))
    ).all()
    grids = (await session.exec(select(Grid))).all()
    codes = {g.id: g.code for g in grids if g.id is not None}
    people = (await session.exec(select(Person).where(col(Person.tg_id).is_not(None)))).all()
    rows = await session.exec(
        select(Person.tg_id, Grid.code, Role.key)
        .join(Membership, col(Membership.person_id) == Person.id)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(col(Grid.archived_at).is_(None))
    )
    memberships = tuple(
        MembershipSpec(tg_id=int(tg), grid_code=code, role_key=key)
        for tg, code, key in rows
        if tg is not None and (for_people is None or tg in for_people)
    )
    deployment = await session.get(Deployment, 1)
    return Snapshot(
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
        grids=tuple(_grid_spec(g, codes) for g in grids if g.archived_at is None),
        archived_grids=tuple(_grid_spec(g, codes) for g in grids if g.archived_at is not None),
        people=tuple(PersonSpec(tg_id=int(p.tg_id), name=p.name) for p in people if p.tg_id),
        memberships=memberships,
        settings=_settings_of(deployment) if deployment else None,
    )


async def plan_import(session: AsyncSession, scenario: Scenario) -> ScenarioChanges:
    current = await snapshot(session, for_people={p.tg_id for p in scenario.people})
    return diff(current, scenario)


async def apply_import(
    session: AsyncSession, scenario: Scenario, *, now: datetime, actor_tg_id: int | None = None
) -> ImportResult:
    """Bring the database to what `scenario` says. The caller's unit of work commits."""
    changes = await plan_import(session, scenario)
    await _apply_settings(session, scenario)
    roles = await _apply_roles(session, scenario.roles, changes.roles_removed)
    await _apply_departments(session, changes, now)
    grids = await _apply_grids(session, scenario, changes, now)
    people = await _apply_people(session, scenario.people)
    await _apply_memberships(session, changes, people, grids, roles)
    if not changes.is_empty:
        await record_audit(
            session,
            actor_tg_id=actor_tg_id,
            action="import",
            target=scenario.name,
            detail={"counts": changes.counts()},
        )
    await session.flush()
    return ImportResult(changes=changes, totals=scenario.totals())


async def _apply_settings(session: AsyncSession, s: Scenario) -> None:
    d = await session.get(Deployment, 1) or Deployment(id=1)
    d.name = s.name
    d.timezone = s.timezone
    d.tg_id_start = s.tg_id_start
    d.levels = list(s.levels)
    d.checklist = list(s.checklist)
    d.categories = d.categories or list(DEFAULT_CATEGORIES)
    d.severities = {
        v.name: {"deadline_hours": v.deadline_hours, "notify_to_root": v.notify_to_root}
        for v in s.severities
    }
    d.digest_time = f"{s.schedule.digest:%H:%M}"
    d.nag_time = f"{s.schedule.nag:%H:%M}"
    d.quiet_hours = s.schedule.quiet or ""
    session.add(d)


async def _apply_roles(
    session: AsyncSession, specs: tuple[RoleSpec, ...], removed: tuple[RoleSpec, ...]
) -> dict[str, Role]:
    existing = {r.key: r for r in (await session.exec(select(Role))).all()}
    for spec in removed:  # a role still held by someone (joined by invite) stays
        role = existing.get(spec.key)
        if role is None:
            continue
        held = await session.exec(select(Membership.id).where(Membership.role_id == role.id))
        if held.first() is None:
            await session.delete(role)
            del existing[spec.key]
    for spec in specs:
        role = existing.get(spec.key) or Role(key=spec.key, label=spec.label)
        role.label = spec.label
        role.is_leader = spec.leader
        role.quota_period = spec.quota.period if spec.quota else None
        role.quota_count = spec.quota.count if spec.quota else None
        session.add(role)
        existing[spec.key] = role
    await session.flush()
    return existing


async def _apply_departments(
    session: AsyncSession, changes: ScenarioChanges, now: datetime
) -> None:
    rows = {d.code: d for d in (await session.exec(select(Department))).all()}
    for spec in (*changes.departments_added, *(c.new for c in changes.departments_changed)):
        dept = rows.get(spec.code) or Department(code=spec.code, name=spec.name)
        dept.name = spec.name
        dept.archived_at = None
        session.add(dept)
    for spec in changes.departments_removed:
        if spec.code in rows:
            rows[spec.code].archived_at = now
            session.add(rows[spec.code])


async def _apply_grids(
    session: AsyncSession, scenario: Scenario, changes: ScenarioChanges, now: datetime
) -> dict[str, Grid]:
    rows = {g.code: g for g in (await session.exec(select(Grid))).all()}
    for restored in changes.grids_restored:
        rows[restored.new.code].archived_at = None
    for spec in scenario.grids:  # depth first: a parent is always there before its children
        grid = rows.get(spec.code)
        parent = rows.get(spec.parent_code) if spec.parent_code else None
        if grid is None:
            grid = await add_grid(
                session, parent=parent, code=spec.code, name=spec.name, level_label=spec.level_label
            )
            rows[spec.code] = grid
        elif grid.parent_id != (parent.id if parent else None):
            await move_grid(session, grid, parent)
        grid.name = spec.name
        grid.level_label = spec.level_label
        grid.geofence = spec.geofence
        grid.roll_call = spec.roll_call
        session.add(grid)
    for spec in changes.grids_archived:
        grid = rows[spec.code]
        if grid.archived_at is None:
            await archive_grid(session, grid, now=now)
    await session.flush()
    return rows


async def _apply_people(session: AsyncSession, specs: tuple[PersonSpec, ...]) -> dict[int, Person]:
    wanted = {p.tg_id: p for p in specs}
    rows: dict[int, Person] = {}
    existing = await session.exec(select(Person).where(col(Person.tg_id).in_(list(wanted))))
    for person in existing.all():
        assert person.tg_id is not None
        rows[person.tg_id] = person
    for tg_id, spec in wanted.items():
        person = rows.get(tg_id) or Person(tg_id=tg_id, name=spec.name)
        if person.name != spec.name:
            person.name = spec.name
        session.add(person)
        rows[tg_id] = person
    await session.flush()
    return rows


async def _apply_memberships(
    session: AsyncSession,
    changes: ScenarioChanges,
    people: dict[int, Person],
    grids: dict[str, Grid],
    roles: dict[str, Role],
) -> None:
    for m in changes.memberships_added:
        person_id, grid_id = people[m.tg_id].id, grids[m.grid_code].id
        role_id = roles[m.role_key].id
        assert person_id is not None and grid_id is not None and role_id is not None
        session.add(Membership(person_id=person_id, grid_id=grid_id, role_id=role_id))
    for m in changes.memberships_removed:
        person, grid, role = people.get(m.tg_id), grids.get(m.grid_code), roles.get(m.role_key)
        if person is None or grid is None or role is None:
            continue
        row = (
            await session.exec(
                select(Membership).where(
                    Membership.person_id == person.id,
                    Membership.grid_id == grid.id,
                    Membership.role_id == role.id,
                )
            )
        ).first()
        if row is not None:
            await session.delete(row)
