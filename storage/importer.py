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

Writes are batched per table (``importer_tree``, ``importer_roster``): a city of 20,000
grids is a few dozen statements, and a file that changes nothing writes nothing but the
deployment row. The steps live in ``importer_snapshot`` (reading), ``importer_tree``
(rules and grids), ``importer_roster`` (people and memberships) and ``importer_leavers``
(the cases leavers leave behind); this module is what callers import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.scenario import Scenario, ScenarioChanges, Snapshot, diff, settle_places
from storage.audit import record_audit
from storage.importer_leavers import Leader, LeftCase, left_cases
from storage.importer_roster import EndedMembership, apply_memberships, apply_people
from storage.importer_snapshot import load
from storage.importer_tree import apply_departments, apply_grids, apply_roles, apply_settings
from storage.models import Department, Grid, Membership, Role

__all__ = [
    "EndedMembership",
    "ImportResult",
    "Leader",
    "LeftCase",
    "active_totals",
    "apply_import",
    "plan_import",
    "snapshot",
]


@dataclass(frozen=True)
class ImportResult:
    changes: ScenarioChanges
    totals: dict[str, int]  # what the database holds (active) after the import
    ended: tuple[EndedMembership, ...] = ()
    left_cases: tuple[LeftCase, ...] = ()


async def snapshot(session: AsyncSession) -> Snapshot:
    """What the database holds, in the file's shapes."""
    return (await load(session)).snapshot


async def plan_import(session: AsyncSession, scenario: Scenario) -> ScenarioChanges:
    return diff(await snapshot(session), scenario)


async def apply_import(
    session: AsyncSession, scenario: Scenario, *, now: datetime, actor_tg_id: int | None = None
) -> ImportResult:
    """Bring the database to what `scenario` says. The caller's unit of work commits."""
    loaded = await load(session)
    scenario = settle_places(loaded.snapshot, scenario)
    changes = diff(loaded.snapshot, scenario)
    await apply_settings(session, scenario)
    roles = await apply_roles(session, scenario.roles, changes.roles_removed)
    await apply_departments(session, changes, now)
    grids = await apply_grids(session, scenario, changes, loaded.grids, now)
    people = await apply_people(session, scenario.people, changes, loaded.people)
    ended = await apply_memberships(
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
    left = await left_cases(session, ended) if ended else ()
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
