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
    photo: str | bytes | None = None,
    album: Sequence[str] = (),
    edit_of: str | None = None,
    document_name: str | None = None,
    document_body: str | bytes | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
) -> bool:
    """Queue a push unless one with this key exists. True when queued now.

    `album`: photos sent as one album with `text` as its caption (at most `ALBUM_MAX`; the
    caller splits longer lists). A single photo goes out as a photo with that caption.

    `photo`: a file id or URL (str), or an image to upload (bytes: a PNG chart).
    `document_body`: the file named `document_name`, as text (sent as UTF-8) or as bytes (an
    XLSX, a PNG sent as a file)."""
    if len(album) > ALBUM_MAX or (album and (photo or reply_markup or edit_of)):
        raise ValueError("an album holds 1 to 10 photos and nothing else")
    if (document_body is not None and document_name is None) or (
        document_name is not None and (photo is not None or album or edit_of)
    ):
        raise ValueError("a document needs its name and goes alone (no photo, album or edit)")
    document_bytes: bytes | None = None
    if isinstance(document_body, bytes):
        document_bytes, document_body = document_body, None
    if isinstance(photo, bytes):
        if edit_of is not None:
            raise ValueError("an edit cannot upload a photo")
        document_bytes, photo = photo, None
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
            document_bytes=document_bytes,
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
