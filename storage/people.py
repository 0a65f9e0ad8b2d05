"""Queries about people and the roles they hold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, func, join, outerjoin
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.identity import Holding, Identity
from storage.models import Grid, Membership, Person, Role


async def person_by_tg(session: AsyncSession, tg_id: int) -> Person | None:
    result = await session.exec(select(Person).where(Person.tg_id == tg_id))
    return result.first()


async def person_by_username(session: AsyncSession, username: str) -> Person | None:
    name = username.removeprefix("@").lower()
    result = await session.exec(select(Person).where(func.lower(Person.username) == name))
    return result.first()


async def speaker(
    session: AsyncSession, tg_id: int, *, default_language: str, admin_ids: frozenset[int]
) -> tuple[Person, Identity] | None:
    """The person with this Telegram id and who they are, in one statement; None: a stranger.

    The person outer-joined to their live memberships: a person without any still comes back
    (one row, the membership columns empty).
    """
    held = join(
        Membership,
        Grid,
        and_(col(Grid.id) == Membership.grid_id, col(Grid.archived_at).is_(None)),
    ).join(Role, col(Role.id) == Membership.role_id)
    rows = (
        await session.exec(
            select(Person, Membership, Grid, Role)
            .select_from(outerjoin(Person, held, col(Membership.person_id) == Person.id))
            .where(Person.tg_id == tg_id)
            .order_by(col(Grid.level), col(Grid.code), col(Role.key))
        )
    ).all()
    if not rows:
        return None
    person = rows[0][0]
    holdings = tuple(_holding(m, g, r) for _, m, g, r in rows if m is not None)
    return person, identity_from(
        person, holdings, default_language=default_language, admin_ids=admin_ids
    )


def _holding(m: Membership, g: Grid, r: Role) -> Holding:
    return Holding(
        membership_id=m.id or 0,
        grid_id=g.id or 0,
        grid_code=g.code,
        grid_name=g.name,
        grid_path=tuple(g.ancestor_ids()),
        role_id=r.id or 0,
        role_key=r.key,
        role_label=r.label,
        is_leader=r.is_leader,
        quota_period=r.quota_period,
        quota_count=r.quota_count,
    )


def identity_from(
    person: Person | Mapping[str, Any],
    holdings: tuple[Holding, ...],
    *,
    default_language: str,
    admin_ids: frozenset[int],
) -> Identity:
    """Who `person` is: their row, or its columns' values as a plain statement read them
    (storage/update_opening.py, which leaves the row itself out of the session)."""
    row = person if isinstance(person, Mapping) else {c: getattr(person, c) for c in _WHO}
    assert row["id"] is not None
    tg_id = row["tg_id"]
    return Identity(
        person_id=row["id"],
        tg_id=tg_id,
        name=row["name"],
        language=row["language"] or default_language,
        is_admin=row["is_admin"] or (tg_id is not None and tg_id in admin_ids),
        holdings=holdings,
    )


_WHO = ("id", "tg_id", "name", "language", "is_admin")
"""The person's columns an identity is made of."""


async def holdings_of(session: AsyncSession, person_id: int) -> tuple[Holding, ...]:
    rows = await session.exec(
        select(Membership, Grid, Role)
        .join(Grid, col(Grid.id) == Membership.grid_id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(Membership.person_id == person_id, col(Grid.archived_at).is_(None))
        .order_by(col(Grid.level), col(Grid.code), col(Role.key))
    )
    return tuple(_holding(m, g, r) for m, g, r in rows)


async def identity_of(
    session: AsyncSession, person: Person, *, default_language: str, admin_ids: frozenset[int]
) -> Identity:
    assert person.id is not None
    holdings = await holdings_of(session, person.id)
    return identity_from(person, holdings, default_language=default_language, admin_ids=admin_ids)
