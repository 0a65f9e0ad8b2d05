"""Queries about transfers (移交) waiting for a department: those held while it has no bound
chat (/today lists them), and those its chat is to receive once bound."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus
from storage.models import Case, Department, Grid


async def held_transfers(
    session: AsyncSession, *, paths: Sequence[str]
) -> list[tuple[Case, Department]]:
    """Cases under `paths` transferred to a department that has no bound chat (the transfer
    is held until one is bound), oldest first."""
    if not paths:
        return []
    query = (
        select(Case, Department)
        .join(Department, col(Department.id) == Case.assignee_department_id)
        .join(Grid, col(Grid.id) == Case.grid_id)
        .where(
            col(Case.status) == CaseStatus.TRANSFERRED.value,
            col(Department.chat_id).is_(None),
            or_(*(col(Grid.path).startswith(p) for p in paths)),
        )
        .order_by(col(Case.id))
    )
    return [(c, d) for c, d in await session.exec(query)]


async def transferred_to(session: AsyncSession, department_id: int) -> list[Case]:
    """The cases waiting for a department to take them up (移交, not yet acknowledged)."""
    query = select(Case).where(
        col(Case.status) == CaseStatus.TRANSFERRED.value,
        col(Case.assignee_department_id) == department_id,
    )
    return list(await session.exec(query.order_by(col(Case.id))))
