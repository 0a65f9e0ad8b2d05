"""Queries behind the admin commands and group binding: who is in a grid, roles, bound chats."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.deployment_row import deployment_to_read
from storage.models import AuditEntry, Department, Grid, Membership, Person, Role


@dataclass(frozen=True)
class MemberRow:
    person: Person
    role: Role


async def member_counts(session: AsyncSession, grid_ids: Iterable[int]) -> dict[int, int]:
    """How many distinct people hold a role directly in each grid (one grouped query)."""
    ids = list(grid_ids)
    if not ids:
        return {}
    rows = await session.exec(
        select(Membership.grid_id, func.count(func.distinct(Membership.person_id)))
        .where(col(Membership.grid_id).in_(ids))
        .group_by(col(Membership.grid_id))
    )
    return {int(grid_id): int(n) for grid_id, n in rows}


async def all_live_grids(session: AsyncSession) -> list[Grid]:
    return list((await session.exec(select(Grid).where(col(Grid.archived_at).is_(None)))).all())


async def members_of(session: AsyncSession, grid_id: int) -> list[MemberRow]:
    """People holding a role in this grid, leaders first, then by name."""
    rows = await session.exec(
        select(Person, Role)
        .join(Membership, col(Membership.person_id) == Person.id)
        .join(Role, col(Role.id) == Membership.role_id)
        .where(Membership.grid_id == grid_id)
        .order_by(col(Role.is_leader).desc(), col(Role.key), col(Person.name), col(Person.id))
    )
    return [MemberRow(person=p, role=r) for p, r in rows]


async def all_roles(session: AsyncSession) -> Sequence[Role]:
    return (await session.exec(select(Role).order_by(col(Role.id)))).all()


async def role_by_text(session: AsyncSession, text: str) -> Role | None:
    """A role by its key (any case) or its label (exact)."""
    wanted = text.strip()
    query = select(Role).where(
        or_(func.lower(Role.key) == wanted.lower(), col(Role.label) == wanted)
    )
    return (await session.exec(query.order_by(col(Role.id)))).first()


async def memberships_of(
    session: AsyncSession, *, person_id: int, grid_id: int, role_id: int | None = None
) -> Sequence[Membership]:
    query = select(Membership).where(
        Membership.person_id == person_id, Membership.grid_id == grid_id
    )
    if role_id is not None:
        query = query.where(Membership.role_id == role_id)
    return (await session.exec(query)).all()


async def delete_memberships(session: AsyncSession, ids: Iterable[int]) -> None:
    wanted = list(ids)
    if wanted:
        await session.exec(delete(Membership).where(col(Membership.id).in_(wanted)))


async def db_admins(session: AsyncSession, admin_ids: Iterable[int]) -> Sequence[Person]:
    """People flagged admin in the database, or whose Telegram id is in the settings."""
    ids = list(admin_ids)
    condition: ColumnElement[bool] = col(Person.is_admin).is_(True)
    if ids:
        condition = or_(condition, col(Person.tg_id).in_(ids))
    return (await session.exec(select(Person).where(condition).order_by(col(Person.tg_id)))).all()


async def department_by_code(session: AsyncSession, code: str) -> Department | None:
    query = select(Department).where(
        func.upper(Department.code) == code.strip().upper(), col(Department.archived_at).is_(None)
    )
    return (await session.exec(query)).first()


async def any_department_by_code(session: AsyncSession, code: str) -> Department | None:
    query = select(Department).where(func.upper(Department.code) == code.strip().upper())
    return (await session.exec(query)).first()


async def level_labels(session: AsyncSession) -> list[str]:
    """The deployment's level labels, root first (empty when none were imported)."""
    deployment = await deployment_to_read(session)
    return list(deployment.levels) if deployment is not None else []


async def relabel_subtree(session: AsyncSession, *, path: str, labels: list[str]) -> None:
    """Give every grid under `path` the label of its (new) level, where one is known."""
    for level, label in enumerate(labels, start=1):
        await session.execute(
            update(Grid)
            .where(col(Grid.path).startswith(path), col(Grid.level) == level)
            .values(level_label=label)
            .execution_options(synchronize_session=False)
        )


async def grids_bound_to(session: AsyncSession, chat_id: int) -> Sequence[Grid]:
    query = select(Grid).where(Grid.group_chat_id == chat_id, col(Grid.archived_at).is_(None))
    return (await session.exec(query.order_by(col(Grid.code)))).all()


async def departments_bound_to(session: AsyncSession, chat_id: int) -> Sequence[Department]:
    query = select(Department).where(
        Department.chat_id == chat_id, col(Department.archived_at).is_(None)
    )
    return (await session.exec(query.order_by(col(Department.code)))).all()


async def move_chat_id(session: AsyncSession, *, old: int, new: int) -> tuple[int, int]:
    """Rebind everything bound to chat `old` to chat `new`; returns (grids, departments)."""
    grids = await session.execute(
        update(Grid)
        .where(col(Grid.group_chat_id) == old)
        .values(group_chat_id=new)
        .execution_options(synchronize_session=False)
    )
    depts = await session.execute(
        update(Department)
        .where(col(Department.chat_id) == old)
        .values(chat_id=new)
        .execution_options(synchronize_session=False)
    )
    return int(grids.rowcount or 0), int(depts.rowcount or 0)  # type: ignore[attr-defined]


async def audit_entries(
    session: AsyncSession, *, action: str, target: str | None = None
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action == action)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    return (await session.exec(query.order_by(col(AuditEntry.id)))).all()


async def audit_since(session: AsyncSession, since: datetime) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(col(AuditEntry.at) >= since)
    return (await session.exec(query.order_by(col(AuditEntry.id)))).all()
