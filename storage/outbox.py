"""The outbox: every push is a `Delivery` row written in the caller's unit of work.

Writing the row in the same transaction as the change it announces means a push is never
lost (the change committed, so the row did) and never doubled (the key is unique). The
notifier (`bot/notifier.py`) sends pending rows after the commit, within Telegram's limits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    chat_id: int,
    text: str,
    now: datetime,
    person_id: int | None = None,
    reply_markup: dict[str, Any] | None = None,
    photo: str | None = None,
    edit_of: str | None = None,
    document_name: str | None = None,
    document_body: str | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
) -> bool:
    """Queue a push unless one with this key exists. True when queued now."""
    existing = (await session.exec(select(Delivery.id).where(Delivery.key == key))).first()
    if existing is not None:
        return False
    session.add(
        Delivery(
            key=key,
            kind=kind,
            chat_id=chat_id,
            person_id=person_id,
            text=text,
            reply_markup=reply_markup,
            photo=photo,
            edit_of=edit_of,
            document_name=document_name,
            document_body=document_body,
            urgent=urgent,
            not_before=not_before or now,
            created_at=now,
        )
    )
    await session.flush()
    return True
