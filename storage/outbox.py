"""The outbox: every push is a `Delivery` row written in the caller's unit of work.

Writing the row in the same transaction as the change it announces means a push is never
lost (the change committed, so the row did) and never doubled (the key is unique). The
notifier (`bot/notifier.py`) sends pending rows after the commit, within Telegram's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Delivery

ALBUM_MAX: Final = 10
"""Telegram's most photos in one album (sendMediaGroup takes 2 to 10)."""


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
    album: Sequence[str] = (),
    edit_of: str | None = None,
    document_name: str | None = None,
    document_body: str | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
) -> bool:
    """Queue a push unless one with this key exists. True when queued now.

    `album`: photos sent as one album with `text` as its caption (at most `ALBUM_MAX`; the
    caller splits longer lists). A single photo goes out as a photo with that caption."""
    if len(album) > ALBUM_MAX or (album and (photo or reply_markup or edit_of)):
        raise ValueError("an album holds 1 to 10 photos and nothing else")
    if len(album) == 1:
        photo, album = album[0], ()
    if await queued(session, key):
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
            album=list(album) or None,
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


async def queued(session: AsyncSession, key: str) -> bool:
    """A push with this key was queued (whatever became of it since)."""
    return (await session.exec(select(Delivery.id).where(Delivery.key == key))).first() is not None


async def enqueue_albums(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    chat_id: int,
    caption: str,
    photos: Sequence[str],
    now: datetime,
    person_id: int | None = None,
) -> None:
    """Any number of photos as albums of up to `ALBUM_MAX`, `caption` on the first; the
    albums' keys are `key` and their place (`key:0`, `key:1` ...)."""
    for n, start in enumerate(range(0, len(photos), ALBUM_MAX)):
        await enqueue(
            session,
            key=f"{key}:{n}",
            kind=kind,
            chat_id=chat_id,
            person_id=person_id,
            text=caption if n == 0 else "",
            album=photos[start : start + ALBUM_MAX],
            now=now,
        )
