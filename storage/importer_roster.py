"""Applying a file's people and memberships, in bulk.

People: the places that move are freed first (``place`` is unique and the person taking a
place over may be written before the one leaving it), then the changed people in one
executemany, then the new ones in multi-row INSERTs that return their ids with their tg_ids.
Memberships: the new ones in one executemany, the ended ones deleted in chunks and
each kept in the audit log (``membership_end``), also in one executemany.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.scenario import PersonSpec, ScenarioChanges
from storage.importer_snapshot import GridRow, PersonRow, executemany
from storage.models import AuditEntry, Membership, Person, Role

CHUNK = 500  # ids per IN (...): well under every driver's limit on bound parameters
T = TypeVar("T")


def chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


@dataclass(frozen=True)
class EndedMembership:
    person_id: int
    tg_id: int
    name: str
    grid_code: str
    role_key: str
    leader: bool


async def apply_people(
    session: AsyncSession,
    specs: tuple[PersonSpec, ...],
    changes: ScenarioChanges,
    rows: dict[int, PersonRow],
) -> dict[int, PersonRow]:
    """Add and rename the file's people, mark them listed and record their places; the
    people the file dropped are no longer listed and give their place up. ``rows`` (everyone
    with a tg_id) is updated in place and returned."""
    wanted = {p.tg_id: p for p in specs}
    gone = {p.tg_id for p in changes.people_removed}
    released = []
    for tg_id, row in rows.items():
        spec = wanted.get(tg_id)
        frees = row.place is not None and (
            tg_id in gone or (spec is not None and spec.place != row.place)
        )
        if frees or tg_id in gone:
            row.place = None if frees else row.place
            row.listed = row.listed and tg_id not in gone
            released.append({"pid": row.id, "place": row.place, "listed": row.listed})
    await executemany(
        session,
        update(Person)
        .where(col(Person.id) == bindparam("pid"))
        .values(place=bindparam("place"), listed=bindparam("listed")),
        released,
    )
    changed = []
    added: list[PersonSpec] = []
    for tg_id, spec in wanted.items():
        found = rows.get(tg_id)
        if found is None:
            added.append(spec)
            continue
        row = found
        if (row.name, row.place, row.listed) != (spec.name, spec.place, True):
            row.name, row.place, row.listed = spec.name, spec.place, True
            changed.append({"pid": row.id, "name": row.name, "place": row.place})
    await executemany(
        session,
        update(Person)
        .where(col(Person.id) == bindparam("pid"))
        .values(name=bindparam("name"), place=bindparam("place"), listed=True),
        changed,
    )
    if added:
        conn = await session.connection()
        result = await conn.execute(
            insert(Person).returning(col(Person.id), col(Person.tg_id)),
            [{"tg_id": p.tg_id, "name": p.name, "place": p.place, "listed": True} for p in added],
        )
        ids: dict[int, int] = {}
        for pid, tg in result.all():
            assert pid is not None and tg is not None
            ids[tg] = pid
        for spec in added:
            rows[spec.tg_id] = PersonRow(ids[spec.tg_id], spec.tg_id, spec.name, spec.place, True)
    return rows


async def apply_memberships(
    session: AsyncSession,
    changes: ScenarioChanges,
    people: dict[int, PersonRow],
    grids: dict[str, GridRow],
    roles: dict[str, Role],
    membership_ids: dict[tuple[int, str, str], int],
    now: datetime,
    actor_tg_id: int | None,
) -> list[tuple[EndedMembership, int]]:
    """Add the new memberships and end the removed ones: each ended one is deleted and
    kept in the audit log (``membership_end``). Returns the ended ones with their grid id."""
    added = []
    for m in changes.memberships_added:
        role_id = roles[m.role_key].id
        assert role_id is not None
        added.append(
            {
                "person_id": people[m.tg_id].id,
                "grid_id": grids[m.grid_code].id,
                "role_id": role_id,
            }
        )
    await executemany(session, insert(Membership), added)
    ended: list[tuple[EndedMembership, int]] = []
    ids: list[int] = []
    audit: list[dict[str, Any]] = []
    for m in changes.memberships_removed:
        mid = membership_ids.get((m.tg_id, m.grid_code, m.role_key))
        person, grid, role = people.get(m.tg_id), grids.get(m.grid_code), roles.get(m.role_key)
        if mid is None or person is None or grid is None or role is None:
            continue
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
        audit.append(
            {
                "at": now,
                "actor_tg_id": actor_tg_id,
                "action": "membership_end",
                "target": f"{m.tg_id}@{m.grid_code}",
                "detail": {
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
            }
        )
    await executemany(session, insert(AuditEntry), audit)
    for chunk in chunks(ids):
        await session.exec(delete(Membership).where(col(Membership.id).in_(chunk)))
    return ended
