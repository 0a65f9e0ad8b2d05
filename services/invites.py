"""Invites: a deep link that binds whoever follows it to a grid and a role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import record_audit
from storage.models import Grid, Invite, Membership, Person, Role

MAX_INVITE_USES = 1000
MAX_INVITE_DAYS = 90


class InviteProblem(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED_UP = "used_up"


@dataclass(frozen=True)
class Redeemed:
    person: Person
    grid: Grid
    role: Role
    already_member: bool


async def create_invite(
    session: AsyncSession,
    *,
    grid: Grid,
    role: Role,
    uses: int,
    days: int,
    now: datetime,
    created_by: int | None,
) -> Invite:
    assert grid.id is not None and role.id is not None
    invite = Invite(
        token="inv_" + secrets.token_urlsafe(12),
        grid_id=grid.id,
        role_id=role.id,
        max_uses=uses,
        expires_at=now + timedelta(days=days),
        created_by=created_by,
    )
    session.add(invite)
    await record_audit(
        session,
        actor_tg_id=created_by,
        action="invite",
        target=f"{grid.code}/{role.key}",
        detail={"uses": uses, "days": days, "token": invite.token},
    )
    await session.flush()
    return invite


async def redeem_invite(
    session: AsyncSession,
    *,
    token: str,
    tg_id: int,
    name: str,
    username: str | None,
    language: str | None,
    now: datetime,
) -> Redeemed | InviteProblem:
    invite = (await session.exec(select(Invite).where(Invite.token == token))).first()
    if invite is None or invite.revoked:
        return InviteProblem.UNKNOWN
    if invite.expires_at <= now:
        return InviteProblem.EXPIRED
    grid = await session.get(Grid, invite.grid_id)
    role = await session.get(Role, invite.role_id)
    if grid is None or role is None or grid.archived_at is not None:
        return InviteProblem.UNKNOWN
    person = (await session.exec(select(Person).where(Person.tg_id == tg_id))).first()
    if person is None:
        person = Person(tg_id=tg_id, name=name, username=username, language=language)
        session.add(person)
        await session.flush()
    assert person.id is not None and grid.id is not None and role.id is not None
    existing = (
        await session.exec(
            select(Membership).where(
                Membership.person_id == person.id,
                Membership.grid_id == grid.id,
                Membership.role_id == role.id,
            )
        )
    ).first()
    if existing is not None:
        return Redeemed(person=person, grid=grid, role=role, already_member=True)
    if invite.used_count >= invite.max_uses:
        return InviteProblem.USED_UP
    invite.used_count += 1
    session.add(invite)
    session.add(Membership(person_id=person.id, grid_id=grid.id, role_id=role.id))
    await record_audit(
        session,
        actor_tg_id=tg_id,
        action="invite_redeemed",
        target=f"{grid.code}/{role.key}",
        detail={"token": token},
    )
    await session.flush()
    return Redeemed(person=person, grid=grid, role=role, already_member=False)
