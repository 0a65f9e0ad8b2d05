"""Which row goes next: the first, in id order, that may go now.

Each chat's rows go in id order, so only the first unsent row of each chat (its head) is ever
considered: while it waits (for its chat's or group's bucket, for a retry after a 5xx, for the
message an edit changes), the chat's later rows wait behind it, and the other chats' heads go
past it. A group waiting on its 20 a minute, or a chat on its one a second, holds back
nothing but its own later rows. Pure: the notifier gives the time and the state."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.notifier.limits import Buckets
from storage.models import Delivery
from storage.outbox import PENDING, SENDING


@dataclass
class _Row:
    """A delivery as the notifier holds it between reading it and sending it."""

    id: int
    key: str
    chat_id: int
    person_id: int | None
    text: str
    reply_markup: dict[str, Any] | None
    photo: str | None
    edit_of: str | None
    document_name: str | None
    document_body: str | None
    attempts: int
    album: list[str] | None = None
    document_bytes: bytes | None = None
    message_thread_id: int | None = None  # a forum topic of the group; None: General

    @classmethod
    def of(cls, d: Delivery) -> _Row:
        assert d.id is not None
        return cls(
            d.id, d.key, d.chat_id, d.person_id, d.text, d.reply_markup, d.photo, d.edit_of,
            d.document_name, d.document_body, d.attempts, d.album, d.document_bytes,
            d.message_thread_id,
        )  # fmt: skip

    @property
    def cost(self) -> int:
        """How many messages Telegram counts for this send (an album: one per photo)."""
        return max(len(self.album or ()), 1)


@dataclass
class EditTarget:
    """The message an edit changes, as far as the notifier knows it."""

    chat_id: int
    message_id: int | None
    status: str
    captioned: bool  # a photo, an album or a file: the edit changes the caption

    @classmethod
    def of(cls, d: Delivery) -> EditTarget:
        captioned = bool(d.photo or d.album or d.document_name or d.document_bytes)
        return cls(d.chat_id, d.message_id, d.status, captioned)

    @property
    def unsent(self) -> bool:
        return self.status in (PENDING, SENDING)


def next_row(
    rows: Sequence[_Row],
    now: float,
    *,
    buckets: Buckets,
    busy: Collection[int] = (),
    retry_at: Mapping[int, float] | None = None,
    targets: Mapping[str, EditTarget | None] | None = None,
) -> tuple[_Row | None, float]:
    """The first row (`rows` in id order) that may go at `now`, or None and the seconds until
    one may (infinite when only something else can free them: a send under way, an edit's
    message being sent). `busy`: chats with a send under way."""
    soonest = math.inf
    seen: set[int] = set()
    for row in rows:
        chat = row.chat_id
        if chat in seen or chat in busy:
            continue
        seen.add(chat)  # this is the chat's head: its later rows wait for it
        retry = (retry_at or {}).get(row.id)
        if retry is not None and retry > now:
            soonest = min(soonest, retry - now)
            continue
        if row.edit_of is not None:
            target = (targets or {}).get(row.edit_of)
            if target is not None and target.unsent:
                continue  # the message to edit is not sent yet
        wait = buckets.chat_wait(chat, now, row.cost)
        if wait <= 0:
            return row, 0.0
        soonest = min(soonest, wait)
    return None, soonest
