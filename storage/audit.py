"""The admin audit log: every change an admin makes, appended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEntry


async def record_audit(
    session: AsyncSession,
    *,
    actor_tg_id: int | None,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    entry = AuditEntry(actor_tg_id=actor_tg_id, action=action, target=target, detail=detail or {})
    if at is not None:  # the caller's clock (tests run on a ManualClock)
        entry.at = at
    session.add(entry)
