"""Updates the bot could not parse, kept raw so nothing Telegram sent is lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import QuarantinedUpdate

REASON_LIMIT = 1000  # the column's width


async def quarantine_update(
    session: AsyncSession, *, update_id: int | None, raw: str, reason: str, now: datetime
) -> QuarantinedUpdate | None:
    """Keep an unparsable update; None when it is already kept.

    Telegram delivers at least once (a poll not yet confirmed, a webhook answer that came
    too late), so the same update may come back: it is kept and reported once. An update
    without a usable id is recognised by its raw text.
    """
    same = (
        col(QuarantinedUpdate.update_id) == update_id
        if update_id is not None
        else col(QuarantinedUpdate.update_id).is_(None) & (col(QuarantinedUpdate.raw) == raw)
    )
    kept = (await session.exec(select(QuarantinedUpdate.id).where(same).limit(1))).first()
    if kept is not None:
        return None
    row = QuarantinedUpdate(update_id=update_id, raw=raw, reason=reason[:REASON_LIMIT], at=now)
    session.add(row)
    await session.flush()
    return row


async def quarantined_updates(session: AsyncSession) -> Sequence[QuarantinedUpdate]:
    """Every kept update, oldest first."""
    return (await session.exec(select(QuarantinedUpdate).order_by(col(QuarantinedUpdate.id)))).all()
