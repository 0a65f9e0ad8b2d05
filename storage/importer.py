"""Applying a scenario file to the database: read the snapshot, diff, apply the difference.

The import manages what the file names: its roles, departments and grids, the people it
lists or an earlier file listed (``Person.listed``), and their memberships. People who
joined through an invite and were never in a file keep their memberships. Grids missing
from the file are archived, never deleted.

A person the file no longer lists leaves the roster: their memberships end (the rows are
deleted, so every query that reads memberships — nags, digests, counts, leaders — forgets
them at once; each ending is kept in the audit log with person, grid, role and date), their
person row and the case ledger stay as they are. The open cases they leave behind are
returned with the leaders who must reassign them (``services.roster`` tells those leaders).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, TypeVar

from sqlalchemy import func, or_
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from domain.categories import from_stored, to_stored
from domain.roster import (
    HELD_BY_PERSON,
    WAITING_ON_LEADERS,
    OpenCase,
    left_by,
    reassigning_grid,
)
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
    settle_places,
)
from storage.audit import record_audit
from storage.grids import add_grid, archive_grid, move_grid
from storage.models import (
    AuditEntry,
    Case,
    Department,
    Deployment,
    Grid,
    Membership,
    Person,
    Role,
)

_CHUNK = 500  # ids per IN (...): well under every driver's limit on bound parameters
T = TypeVar("T")


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@dataclass(frozen=True)
class Leader:
    person_id: int
    tg_id: int | None
    name: str
    language: str | None


@dataclass(frozen=True)
class EndedMembership:
    person_id: int
    tg_id: int
    name: str
    grid_code: str
    role_key: str
    leader: bool


@dataclass(frozen=True)
class LeftCase:
    """An open case that waited on someone who left; ``told`` are the leaders of
    ``reassign_grid_code`` (its own grid, or the nearest one above still led) who must
    reassign it; empty when no grid above it has a leader any more."""

    case_id: int
    code: str
    status: str
    description: str
    grid_code: str
    leaver: Leader
    reassign_grid_code: str | None
    told: tuple[Leader, ...]


@dataclass(frozen=True)
class ImportResult:
    changes: ScenarioChanges
    totals: dict[str, int]  # what the database holds (active) after the import
    ended: tuple[EndedMembership, ...] = ()
    left_cases: tuple[LeftCase, ...] = ()


@dataclass
class _Loaded:
    snapshot: Snapshot
    people: dict[int, Person]  # by tg_id
    membership_ids: dict[tuple[int, str, str], int]  # (tg_id, grid code, role key) -> id


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


async def _load(session: AsyncSession) -> _Loaded:
    roles = (await session.exec(select(Role))).all()
    departments = (
        await session.exec(select(Department).where(col(Department.archived_at).is_(None)))
    ).all()
    grids = (await session.exec(select(Grid))).all()
    codes = {g.id: g.code for g in grids if g.id is not None}
    people = {
        int(p.tg_id): p
        for p in (await session.exec(select(Person).where(col(Person.tg_id).is_not(None)))).all()
        if p.tg_id is not None
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
        grids=tuple(_grid_spec(g, codes) for g in grids if g.archived_at is None),
        archived_grids=tuple(_grid_spec(g, codes) for g in grids if g.archived_at is not None),
        people=tuple(PersonSpec(tg_id=tg, name=p.name, place=p.place) for tg, p in people.items()),
        memberships=tuple(
            MembershipSpec(tg_id=tg, grid_code=code, role_key=key)
            for tg, code, key in membership_ids
        ),
        settings=_settings_of(deployment) if deployment else None,
        listed=frozenset(tg for tg, p in people.items() if p.listed),
    )
    return _Loaded(snapshot=snap, people=people, membership_ids=membership_ids)


async def snapshot(session: AsyncSession) -> Snapshot:
    """What the database holds, in the file's shapes."""
    return (await _load(session)).snapshot


async def plan_import(session: AsyncSession, scenario: Scenario) -> ScenarioChanges:
    return diff(await snapshot(session), scenario)


async def apply_import(
    session: AsyncSession, scenario: Scenario, *, now: datetime, actor_tg_id: int | None = None
) -> ImportResult:
    """Bring the database to what `scenario` says. The caller's unit of work commits."""
    loaded = await _load(session)
    scenario = settle_places(loaded.snapshot, scenario)
    changes = diff(loaded.snapshot, scenario)
    await _apply_settings(session, scenario)
    roles = await _apply_roles(session, scenario.roles, changes.roles_removed)
    await _apply_departments(session, changes, now)
    grids = await _apply_grids(session, scenario, changes, now)
    people = await _apply_people(session, scenario.people, changes, loaded.people)
    ended = await _apply_memberships(
        session, changes, people, grids, roles, loaded.membership_ids, now, actor_tg_id
    )
    if not changes.is_empty:
        await record_audit(
            session,
            actor_tg_id=actor_tg_id,
            action="import",
            target=scenario.name,
            detail={"counts": changes.counts()},
            at=now,
        )
    await session.flush()
    left = await _left_cases(session, ended) if ended else ()
    return ImportResult(
        changes=changes,
        totals=await active_totals(session),
        ended=tuple(e for e, _ in ended),
        left_cases=left,
    )


async def active_totals(session: AsyncSession) -> dict[str, int]:
    """What the roster holds now: live grids, the people holding a role in them, those
    roles, roles defined, live departments (the keys of ``Scenario.totals``)."""

    async def one(query: Any) -> int:
        return int((await session.exec(query)).one())

    live = col(Grid.archived_at).is_(None)
    holders = (
        select(Membership.person_id)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .where(live)
        .distinct()
        .subquery()
    )
    return {
        "grids": await one(select(func.count()).select_from(Grid).where(live)),
        "people": await one(select(func.count()).select_from(holders)),
        "memberships": await one(
            select(func.count())
            .select_from(Membership)
            .join(Grid, col(Grid.id) == Membership.grid_id)
            .where(live)
        ),
        "roles": await one(select(func.count()).select_from(Role)),
        "departments": await one(
            select(func.count())
            .select_from(Department)
            .where(col(Department.archived_at).is_(None))
        ),
    }


async def _apply_settings(session: AsyncSession, s: Scenario) -> None:
    d = await session.get(Deployment, 1) or Deployment(id=1)
    d.name = s.name
    d.timezone = s.timezone
    d.tg_id_start = s.tg_id_start
    d.levels = list(s.levels)
    d.checklist = list(s.checklist)
    d.categories = to_stored(s.categories)
    d.severities = {
        v.name: {"deadline_hours": v.deadline_hours, "notify_to_root": v.notify_to_root}
        for v in s.severities
    }
    d.digest_time = f"{s.schedule.digest:%H:%M}"
    d.nag_time = f"{s.schedule.nag:%H:%M}"
    d.quiet_hours = s.schedule.quiet or ""
    d.patrol_companions_count = s.companions_count
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


async def _apply_people(
    session: AsyncSession,
    specs: tuple[PersonSpec, ...],
    changes: ScenarioChanges,
    rows: dict[int, Person],
) -> dict[int, Person]:
    """Add and rename the file's people, mark them listed and record their places; the
    people the file dropped are no longer listed and give their place up."""
    wanted = {p.tg_id: p for p in specs}
    gone = {p.tg_id for p in changes.people_removed}
    # Free every place that moves first: `place` is unique, and the person who takes a
    # place over may be written before the one who leaves it.
    freed = False
    for tg_id, person in rows.items():
        spec = wanted.get(tg_id)
        if person.place is not None and (
            tg_id in gone or (spec is not None and spec.place != person.place)
        ):
            person.place = None
            session.add(person)
            freed = True
    for tg_id in gone:
        person = rows[tg_id]
        person.listed = False
        session.add(person)
    if freed:
        await session.flush()
    for tg_id, spec in wanted.items():
        found = rows.get(tg_id)
        if found is None:
            found = rows[tg_id] = Person(tg_id=tg_id, name=spec.name)
        person = found
        if person.name != spec.name:
            person.name = spec.name
        if person.place != spec.place:
            person.place = spec.place
        if not person.listed:
            person.listed = True
        session.add(person)
    await session.flush()
    return rows


async def _apply_memberships(
    session: AsyncSession,
    changes: ScenarioChanges,
    people: dict[int, Person],
    grids: dict[str, Grid],
    roles: dict[str, Role],
    membership_ids: dict[tuple[int, str, str], int],
    now: datetime,
    actor_tg_id: int | None,
) -> list[tuple[EndedMembership, int]]:
    """Add the new memberships and end the removed ones: each ended one is deleted and
    kept in the audit log (``membership_end``). Returns the ended ones with their grid id."""
    for m in changes.memberships_added:
        person_id, grid_id = people[m.tg_id].id, grids[m.grid_code].id
        role_id = roles[m.role_key].id
        assert person_id is not None and grid_id is not None and role_id is not None
        session.add(Membership(person_id=person_id, grid_id=grid_id, role_id=role_id))
    ended: list[tuple[EndedMembership, int]] = []
    ids: list[int] = []
    for m in changes.memberships_removed:
        mid = membership_ids.get((m.tg_id, m.grid_code, m.role_key))
        person, grid, role = people.get(m.tg_id), grids.get(m.grid_code), roles.get(m.role_key)
        if mid is None or person is None or grid is None or role is None:
            continue
        assert person.id is not None and grid.id is not None
        ids.append(mid)
        ended.append(
            (
                EndedMembership(
                    person_id=person.id,
                    tg_id=m.tg_id,
                    name=person.name,
                    grid_code=m.grid_code,
                    role_key=m.role_key,
                    leader=role.is_leader,
                ),
                grid.id,
            )
        )
        session.add(
            AuditEntry(
                at=now,
                actor_tg_id=actor_tg_id,
                action="membership_end",
                target=f"{m.tg_id}@{m.grid_code}",
                detail={
                    "person_id": person.id,
                    "tg_id": m.tg_id,
                    "name": person.name,
                    "grid": m.grid_code,
                    "grid_id": grid.id,
                    "role": m.role_key,
                    "leader": role.is_leader,
                    "ended_at": now.isoformat(),
                    "by": "import",
                },
            )
        )
    for chunk in _chunks(ids):
        await session.exec(delete(Membership).where(col(Membership.id).in_(chunk)))
    await session.flush()
    return ended


async def _left_cases(
    session: AsyncSession, ended: list[tuple[EndedMembership, int]]
) -> tuple[LeftCase, ...]:
    """The open cases the ended memberships leave without the person they waited on, and
    who must reassign each. A handful of grouped queries, whatever the roster's size."""
    ended_people = sorted({e.person_id for e, _ in ended})
    still: set[int] = set()
    for chunk in _chunks(ended_people):
        holding = await session.exec(
            select(Membership.person_id)
            .join(Grid, col(Grid.id) == Membership.grid_id)
            .where(col(Membership.person_id).in_(chunk), col(Grid.archived_at).is_(None))
        )
        still.update(int(r) for r in holding)
    gone = set(ended_people) - still
    leaders_gone: dict[int, list[int]] = {}
    for e, grid_id in ended:
        if e.leader:
            leaders_gone.setdefault(grid_id, []).append(e.person_id)
    if not gone and not leaders_gone:
        return ()

    conditions = []
    if gone:
        conditions.append(
            col(Case.status).in_([s.value for s in HELD_BY_PERSON])
            & col(Case.assignee_person_id).in_(sorted(gone))
        )
    if leaders_gone:
        conditions.append(
            col(Case.status).in_([s.value for s in WAITING_ON_LEADERS])
            & col(Case.grid_id).in_(sorted(leaders_gone))
        )
    cases = (
        await session.exec(
            select(Case, Grid)
            .join(Grid, col(Grid.id) == Case.grid_id)
            .where(or_(*conditions))
            .order_by(col(Case.id))
        )
    ).all()
    found = []
    for case, grid in cases:
        assert case.id is not None
        leaver = left_by(
            OpenCase(case.id, CaseStatus(case.status), case.grid_id, case.assignee_person_id),
            gone=gone,
            leaders_gone=leaders_gone,
        )
        if leaver is not None:
            found.append((case, grid, leaver))
    if not found:
        return ()

    above = sorted({gid for _, grid, _ in found for gid in grid.ancestor_ids()})
    leaders: dict[int, list[Leader]] = {}
    codes: dict[int, str] = {}
    for chunk in _chunks(above):
        held = await session.exec(
            select(Grid.id, Grid.code, Person)
            .join(Membership, col(Membership.grid_id) == Grid.id)
            .join(Role, col(Role.id) == Membership.role_id)
            .join(Person, col(Person.id) == Membership.person_id)
            .where(
                col(Grid.id).in_(chunk),
                col(Grid.archived_at).is_(None),
                col(Role.is_leader).is_(True),
            )
            .order_by(col(Grid.id), col(Person.id))
        )
        for led_grid, code, person in held:
            assert led_grid is not None and person.id is not None
            codes[led_grid] = code
            leaders.setdefault(led_grid, []).append(
                Leader(person.id, person.tg_id, person.name, person.language)
            )
    led = {g: [x.person_id for x in ls] for g, ls in leaders.items()}
    ended_by_person = {e.person_id: e for e, _ in ended}
    out = []
    for case, grid, leaver_id in found:
        assert case.id is not None
        who = ended_by_person[leaver_id]
        target = reassigning_grid(grid.ancestor_ids(), led)
        out.append(
            LeftCase(
                case_id=case.id,
                code=case.code,
                status=case.status,
                description=case.description,
                grid_code=grid.code,
                leaver=Leader(leaver_id, who.tg_id, who.name, None),
                reassign_grid_code=codes[target] if target is not None else None,
                told=tuple(leaders[target]) if target is not None else (),
            )
        )
    return tuple(out)
