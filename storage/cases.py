"""Queries about hazard cases: codes, the ledger, subtree lists, duplicates, what waits.

Nothing here commits; the caller's unit of work does. Subtrees use the grid's materialized
path (`Grid.path LIKE '/1/4/%'`), never recursion over the tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import UNDER_DEADLINE, EventKind

# The codes and the duplicates have modules of their own; their callers read them here.
from storage.case_candidates import candidate_cases_for as candidate_cases_for
from storage.case_codes import next_case_code as next_case_code
from storage.case_duplicates import DuplicateLine as DuplicateLine
from storage.case_duplicates import grid_name_and_duplicates as grid_name_and_duplicates
from storage.case_duplicates import possible_duplicates as possible_duplicates
from storage.case_inserts import INSERT_EVENT, event_row, new_event
from storage.loaded import held
from storage.models import (
    Case,
    CaseEvent,
    Delivery,
    Department,
    Grid,
    Membership,
    Person,
    Role,
)
from storage.speaker_row import attach_held_speaker

PAGE_SIZE = 8


async def case_by_code(session: AsyncSession, code: str) -> Case | None:
    # Codes are issued upper-case, so the typed code is normalised instead of the column:
    # the unique index on case.code then finds it without reading the ledger.
    query = select(Case).where(Case.code == code.strip().upper())
    return (await session.exec(query)).first()


async def events_of(session: AsyncSession, case_id: int) -> Sequence[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
    return (await session.exec(query)).all()


async def case_version(session: AsyncSession, case_id: int) -> int:
    """The id of the case's last step that changed it (comments do not count).

    Buttons carry it, so a press on a card drawn before the case moved is recognised.
    """
    query = select(func.max(CaseEvent.id)).where(
        CaseEvent.case_id == case_id, CaseEvent.kind != EventKind.COMMENTED.value
    )
    return int((await session.exec(query)).first() or 0)


async def append_event(
    session: AsyncSession,
    *,
    case: Case,
    kind: str,
    at: datetime,
    actor_id: int | None,
    actor_department_id: int | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Add one step to the ledger (the only way events are written; they are never changed)."""
    event = new_event(
        case=case,
        kind=kind,
        at=at,
        actor_id=actor_id,
        actor_department_id=actor_department_id,
        note=note,
        data=data,
    )
    # What the unit of work holds goes first (the case's own changes, as one flush wrote
    # them before the event), then the event by a plain insert: the ORM's flush of a new
    # row cost more than the rest of the step. The event is handed back as built, with its
    # id, as a flush would leave it; nothing changes an event once written.
    await session.flush()
    event.id = (await session.execute(INSERT_EVENT, event_row(event))).scalar_one()
    return event


async def grids_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, Grid]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.exec(select(Grid).where(col(Grid.id).in_(wanted)))
    return {g.id: g for g in rows if g.id is not None}


async def people_by_id(session: AsyncSession, ids: Iterable[int | None]) -> dict[int, Person]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    held = _held_people(session, wanted)
    if held is not None:
        return held
    rows = await session.exec(select(Person).where(col(Person.id).in_(wanted)))
    return {p.id: p for p in rows if p.id is not None}


def _held_people(session: AsyncSession, ids: set[int]) -> dict[int, Person] | None:
    """The people when the unit of work already holds every one of them, loaded and not
    expired: what the query would give back (it hands out the held objects as they are), in
    its order (the primary key's). None when any is missing. The speaker's row, carried by the
    update's first statement, counts as held (storage/speaker_row.py)."""
    found: dict[int, Person] = {}
    marked = session.deleted  # deleted, not yet flushed: the query's flush would drop them
    for i in sorted(ids):
        attach_held_speaker(session.sync_session, i)
        p = held(session, Person, i)
        if not isinstance(p, Person):
            return None
        state = instance_state(p)
        if state.expired_attributes or state.deleted or state.was_deleted or p in marked:
            return None
        found[i] = p
    return found


async def people_by_chat(session: AsyncSession, chat_ids: Iterable[int]) -> list[Person]:
    """The people whose private chats are among `chat_ids` (group chats are skipped)."""
    ids = [c for c in chat_ids if c > 0]
    if not ids:
        return []
    return list(await session.exec(select(Person).where(col(Person.tg_id).in_(ids))))


async def leaders_of(session: AsyncSession, grid_ids: Iterable[int]) -> list[tuple[int, Person]]:
    """(grid id, person) for every leader of the given grids."""
    wanted = set(grid_ids)
    if not wanted:
        return []
    rows = await session.exec(
        select(Membership.grid_id, Person)
        .join(Person, col(Person.id) == Membership.person_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(col(Membership.grid_id).in_(wanted), col(Role.is_leader).is_(True))
        .order_by(col(Membership.grid_id), col(Person.id))
    )
    return [(int(g), p) for g, p in rows]


@cache
def _leaders_with_led_grids_query() -> Any:
    """Built once (with the grids bound): building it cost more than running it."""
    other, other_role = aliased(Membership), aliased(Role)
    return (
        select(Membership.id, Membership.grid_id, Person, other.grid_id)
        .join(Person, col(Person.id) == Membership.person_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .join(other, col(other.person_id) == Membership.person_id)
        .join(other_role, col(other_role.id) == other.role_id)
        .where(
            col(Membership.grid_id).in_(bindparam("grid_ids", expanding=True)),
            col(Role.is_leader).is_(True),
            col(other_role.is_leader).is_(True),
        )
        .order_by(col(Membership.grid_id), col(Person.id), col(Membership.id))
    )


async def leaders_with_led_grids(
    session: AsyncSession, grid_ids: Iterable[int]
) -> tuple[list[tuple[int, Person]], dict[int, frozenset[int]]]:
    """`leaders_of` the given grids, and `led_grids_of` those leaders, in one statement: each
    leader's membership joined to every grid they lead."""
    wanted = set(grid_ids)
    if not wanted:
        return [], {}
    rows = await session.exec(_leaders_with_led_grids_query(), params={"grid_ids": sorted(wanted)})
    leaders: dict[int, tuple[int, Person]] = {}
    led: dict[int, set[int]] = {}
    for membership_id, grid_id, person, led_grid_id in rows:
        assert person.id is not None
        leaders.setdefault(int(membership_id or 0), (int(grid_id), person))
        led.setdefault(person.id, set()).add(int(led_grid_id))
    return list(leaders.values()), {p: frozenset(g) for p, g in led.items()}


@dataclass(frozen=True)
class MemberChoice:
    person_id: int
    name: str
    grid_id: int
    grid_name: str
    role_label: str


async def members_in_subtree(
    session: AsyncSession, *, path: str, offset: int = 0, limit: int = PAGE_SIZE
) -> tuple[list[MemberChoice], int]:
    """People holding any role in the subtree at `path` (shallowest grids first), one page,
    and how many there are."""
    base = (
        select(Membership, Person, Grid, Role)
        .join(Person, col(Person.id) == Membership.person_id)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(col(Grid.path).startswith(path), col(Grid.archived_at).is_(None))
    )
    total_q = select(func.count()).select_from(base.subquery())
    total = int((await session.exec(total_q)).one())
    rows = await session.exec(
        base.order_by(col(Grid.level), col(Grid.code), col(Role.is_leader).desc(), col(Person.id))
        .offset(offset)
        .limit(limit)
    )
    return [
        MemberChoice(
            person_id=p.id or 0,
            name=p.name,
            grid_id=g.id or 0,
            grid_name=g.name,
            role_label=r.label,
        )
        for _m, p, g, r in rows
    ], total


async def in_subtree(session: AsyncSession, *, path: str, person_id: int) -> bool:
    """The person holds a role somewhere in the subtree at `path`."""
    query = (
        select(Membership.id)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .where(
            Membership.person_id == person_id,
            col(Grid.path).startswith(path),
            col(Grid.archived_at).is_(None),
        )
    )
    return (await session.exec(query)).first() is not None


async def live_departments(session: AsyncSession) -> Sequence[Department]:
    query = select(Department).where(col(Department.archived_at).is_(None))
    return (await session.exec(query.order_by(col(Department.code)))).all()


async def departments_of_chat(session: AsyncSession, chat_id: int) -> frozenset[int]:
    query = select(Department.id).where(
        Department.chat_id == chat_id, col(Department.archived_at).is_(None)
    )
    return frozenset(int(i) for i in (await session.exec(query)) if i is not None)


@dataclass(frozen=True)
class CaseFilter:
    """What `/cases` asks for. `statuses` empty means all; `overdue` needs `now`."""

    statuses: tuple[str, ...] = ()
    severity: str | None = None
    overdue: bool = False


async def cases_in_subtrees(
    session: AsyncSession,
    *,
    paths: Sequence[str],
    flt: CaseFilter,
    now: datetime,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> tuple[list[Case], int]:
    """Cases whose current grid lies under any of `paths`, newest first; one page and the
    total count."""
    if not paths:
        return [], 0
    query = (
        select(Case)
        .join(Grid, col(Grid.id) == Case.grid_id)
        .where(or_(*(col(Grid.path).startswith(p) for p in paths)))
    )
    if flt.statuses:
        query = query.where(col(Case.status).in_(flt.statuses))
    if flt.severity:
        query = query.where(Case.severity == flt.severity)
    if flt.overdue:
        query = query.where(
            col(Case.status).in_([s.value for s in UNDER_DEADLINE]),
            col(Case.deadline_at) < now,
        )
    total = int((await session.exec(select(func.count()).select_from(query.subquery()))).one())
    rows = await session.exec(
        query.order_by(col(Case.created_at).desc(), col(Case.id).desc()).offset(offset).limit(limit)
    )
    return list(rows), total


async def cases_of_grids(
    session: AsyncSession, *, grid_ids: Iterable[int], status: str, limit: int = 30
) -> list[Case]:
    """The cases in `status` that these grids hold (not their subtrees), oldest first."""
    ids = set(grid_ids)
    if not ids:
        return []
    query = (
        select(Case)
        .where(col(Case.grid_id).in_(ids), col(Case.status) == status)
        .order_by(col(Case.id))
        .limit(limit)
    )
    return list(await session.exec(query))


async def leads_grid(session: AsyncSession, *, person_id: int, grid_id: int) -> bool:
    query = (
        select(Membership.id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(
            Membership.person_id == person_id,
            Membership.grid_id == grid_id,
            col(Role.is_leader).is_(True),
        )
    )
    return (await session.exec(query)).first() is not None


async def card_chats(session: AsyncSession, case_id: int) -> dict[int, str]:
    """Chats that already show the case's card: chat id → the key of the live card there,
    the newest one sent (a hand-off sends a new card; edits name it as `edit_of`)."""
    prefix = f"card:{case_id}:"
    rows = await session.exec(
        select(Delivery.chat_id, Delivery.key)
        .where(col(Delivery.key).startswith(prefix), col(Delivery.edit_of).is_(None))
        .order_by(col(Delivery.id))
    )
    return {int(chat): key for chat, key in rows}


async def led_grids_of(
    session: AsyncSession, person_ids: Iterable[int]
) -> dict[int, frozenset[int]]:
    """person id → the grids where they hold a leader role."""
    wanted = set(person_ids)
    if not wanted:
        return {}
    rows = await session.exec(
        select(Membership.person_id, Membership.grid_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(col(Membership.person_id).in_(wanted), col(Role.is_leader).is_(True))
    )
    out: dict[int, set[int]] = {p: set() for p in wanted}
    for pid, gid in rows:
        out[int(pid)].add(int(gid))
    return {p: frozenset(g) for p, g in out.items()}


async def latest_events(
    session: AsyncSession, case_id: int, kinds: Iterable[str]
) -> dict[str, CaseEvent]:
    """kind → the case's latest ledger entry of that kind, for the given kinds."""
    wanted = set(kinds)
    rows = await session.exec(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, col(CaseEvent.kind).in_(wanted))
        .order_by(col(CaseEvent.id))
    )
    return {e.kind: e for e in rows}
