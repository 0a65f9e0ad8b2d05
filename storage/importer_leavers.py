"""Who leaving the roster leaves work behind: the open cases that waited on someone whose
memberships an import ended, and the leaders who must reassign each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from domain.roster import (
    HELD_BY_PERSON,
    WAITING_ON_LEADERS,
    OpenCase,
    left_by,
    reassigning_grid,
)
from storage.importer_roster import EndedMembership, chunks
from storage.models import Case, Grid, Membership, Person, Role


@dataclass(frozen=True)
class Leader:
    person_id: int
    tg_id: int | None
    name: str
    language: str | None


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


async def left_cases(
    session: AsyncSession, ended: list[tuple[EndedMembership, int]]
) -> tuple[LeftCase, ...]:
    """The open cases the ended memberships leave without the person they waited on, and
    who must reassign each. A handful of grouped queries, whatever the roster's size."""
    ended_people = sorted({e.person_id for e, _ in ended})
    still: set[int] = set()
    for chunk in chunks(ended_people):
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
    for chunk in chunks(above):
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
