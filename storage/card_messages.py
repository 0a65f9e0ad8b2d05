"""Which case a message of the bot shows: a card sent through the outbox keeps its key
(`card:<case id>:<chat id>[...]`, services.case_notify) and, once sent, its message id."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery

CARD_PREFIX = "card:"


async def case_of_card(session: AsyncSession, *, chat_id: int, message_id: int) -> int | None:
    """The case whose card is message `message_id` of chat `chat_id`, or None."""
    row = (
        await session.exec(
            select(Delivery.key)
            .where(
                col(Delivery.chat_id) == chat_id,
                col(Delivery.message_id) == message_id,
                col(Delivery.key).startswith(CARD_PREFIX),
                col(Delivery.edit_of).is_(None),
            )
            .order_by(col(Delivery.id).desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    case_id = row.split(":")[1]
    return int(case_id) if case_id.isdigit() else None
