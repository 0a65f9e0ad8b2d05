"""Keeping the bookkeeping tables small."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ProcessedUpdate

# Telegram keeps an unconfirmed update for 24 hours; a week covers any redelivery.
UPDATE_MEMORY = timedelta(days=7)


async def forget_old_updates(session: AsyncSession, *, now: datetime) -> int:
    """Drop replay-protection rows older than any redelivery can be. Returns how many."""
    result = await session.exec(  # type: ignore[call-overload]
        delete(ProcessedUpdate).where(col(ProcessedUpdate.at) < now - UPDATE_MEMORY)
    )
    return int(result.rowcount or 0)
