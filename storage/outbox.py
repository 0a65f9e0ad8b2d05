"""The outbox: every push is a `Delivery` row written in the caller's unit of work.

Writing the row in the same transaction as the change it announces means a push is never
lost (the change committed, so the row did) and never doubled (the key is unique). The
notifier (`bot/notifier/`) sends pending rows after the commit, within Telegram's limits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import Table, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.direct_sql import first_values
from storage.models import Delivery, Person
from storage.unit_connection import transaction_connection

PENDING: Final = "pending"
SENDING: Final = "sending"  # the call is (or was, when a process died) in flight
SENT: Final = "sent"
FAILED: Final = "failed"
UNDELIVERABLE: Final = "undeliverable"

DELIVERY_TABLE: Table = Delivery.__table__  # type: ignore[attr-defined]

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
    message_thread_id: int | None = None,
) -> bool:
    """Queue a push unless one with this key exists. True when queued now.

    `album`: photos sent as one album with `text` as its caption (at most `ALBUM_MAX`; the
    caller splits longer lists). A single photo goes out as a photo with that caption.

    `photo`: a file id or URL (str), or an image to upload (bytes: a PNG chart).
    `document_body`: the file named `document_name`, as text (sent as UTF-8) or as bytes (an
    XLSX, a PNG sent as a file).
    `message_thread_id`: the forum topic of the group it goes to (None: General)."""
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
    row = {
        "key": key,
        "kind": kind,
        "chat_id": chat_id,
        "message_thread_id": message_thread_id,
        "person_id": person_id,
        "text": text,
        "reply_markup": reply_markup,
        "photo": photo,
        "album": list(album) or None,
        "edit_of": edit_of,
        "document_name": document_name,
        "document_body": document_body,
        "document_bytes": document_bytes,
        "urgent": urgent,
        "not_before": not_before or now,
        "created_at": now,
    }
    await session.flush()  # what the row refers to (its person) is written before it
    # On the unit of work's connection (storage/unit_connection.py says why), flushed above.
    connection = await transaction_connection(session)
    return await first_values(connection, _insert_new(connection.dialect.name), row) is not None


@cache
def _insert_new(dialect: str) -> Any:
    """One statement that queues a row unless its key was queued before, and says which:
    the id of the new row, or no row. Built once per dialect: asking first and then adding
    through the ORM was two statements and a flush for every push."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(DELIVERY_TABLE)
        .on_conflict_do_nothing(index_elements=[DELIVERY_TABLE.c.key])
        .returning(DELIVERY_TABLE.c.id)
    )


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


# -- the notifier's side ----------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """Pending rows whose `not_before` has come, in id order, at most `per_chat` of each chat.

    `complete`: nothing due was left out (neither the batch nor any chat was cut short)."""

    rows: Sequence[Delivery]
    complete: bool


async def load_due(
    session: AsyncSession,
    *,
    now: datetime,
    batch: int,
    per_chat: int,
    exclude: Collection[int] = (),
) -> Due:
    """The next rows to send: the first `per_chat` due rows of each chat, `batch` in all.

    Capped per chat so a chat with a long backlog (a group at 20 a minute) cannot fill the
    batch and hold back the chats behind it. `exclude`: ids in flight right now."""
    place = func.row_number().over(partition_by=col(Delivery.chat_id), order_by=col(Delivery.id))
    due = [col(Delivery.status) == PENDING, col(Delivery.not_before) <= now]
    if exclude:
        due.append(col(Delivery.id).not_in(list(exclude)))
    firsts = select(col(Delivery.id).label("id"), place.label("place")).where(*due).subquery()
    query = (
        select(Delivery)
        .join(firsts, col(Delivery.id) == firsts.c.id)
        .where(firsts.c.place <= per_chat)
        .order_by(col(Delivery.id))
        .limit(batch)
    )
    rows = (await session.exec(query)).all()
    per = Counter(d.chat_id for d in rows)
    complete = len(rows) < batch and all(n < per_chat for n in per.values())
    return Due(rows, complete)


async def by_keys(session: AsyncSession, keys: Collection[str]) -> dict[str, Delivery]:
    """The deliveries with these keys (the messages that edits change)."""
    if not keys:
        return {}
    found = await session.exec(select(Delivery).where(col(Delivery.key).in_(list(keys))))
    return {d.key: d for d in found.all()}


async def put_back_in_flight(session: AsyncSession) -> list[str]:
    """Rows a dead sender left `sending` go back to `pending`; returns their keys."""
    keys = list((await session.exec(select(Delivery.key).where(Delivery.status == SENDING))).all())
    if keys:
        await session.exec(
            update(Delivery)
            .where(col(Delivery.status) == SENDING)
            .values(status=PENDING, last_error="in flight when the sender stopped")
        )
    return keys


async def set_status(session: AsyncSession, delivery_id: int, status: str) -> None:
    await session.exec(
        update(Delivery).where(col(Delivery.id) == delivery_id).values(status=status)
    )


async def mark_sent(
    session: AsyncSession, delivery_id: int, *, message_id: int | None, attempts: int, at: datetime
) -> None:
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status=SENT, sent_at=at, message_id=message_id, attempts=attempts, last_error=None)
    )


async def mark_done(
    session: AsyncSession, delivery_id: int, *, status: str, attempts: int, error: str
) -> None:
    """An outcome other than `sent` (failed, undeliverable, back to pending for a retry)."""
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(status=status, attempts=attempts, last_error=error[:500])
    )


async def to_general(session: AsyncSession, delivery_id: int, *, error: str) -> None:
    """The row's forum topic is gone: it is sent to the group's General topic instead."""
    await session.exec(
        update(Delivery)
        .where(col(Delivery.id) == delivery_id)
        .values(message_thread_id=None, last_error=f"topic gone, sent to General: {error}"[:500])
    )


async def mark_unreachable(
    session: AsyncSession, *, chat_id: int, person_id: int | None
) -> list[int]:
    """A 403 in a private chat: its person is unreachable. Returns the ids of the people who
    were reachable until now (told once, not per row)."""
    if chat_id <= 0:
        return []
    who = col(Person.tg_id) == chat_id
    if person_id is not None:
        who = who | (col(Person.id) == person_id)
    found = await session.exec(select(Person.id).where(who, col(Person.reachable)))
    newly = [int(pid) for pid in found.all() if pid is not None]
    await session.exec(update(Person).where(who).values(reachable=False))
    return newly


async def move_pending(session: AsyncSession, *, old: int, new: int) -> None:
    """A group became a supergroup: its pending rows go to the new chat id."""
    await session.exec(
        update(Delivery)
        .where(col(Delivery.chat_id) == old, col(Delivery.status) == PENDING)
        .values(chat_id=new)
    )
