"""The outbox: every push the bot makes, recorded before it is sent (exactly once)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from storage.models._columns import stamped_now, telegram_id, timestamp


class Delivery(SQLModel, table=True):
    """`key` is (kind, recipient, period) spelled as one string; it is unique, so the same nag
    or digest can never be queued twice, whatever restarts or retries.

    `photo` sends a photo with `text` as its caption; `album` sends 2 to 10 photos as one
    album (sendMediaGroup) with `text` as the first one's caption (an album carries no
    buttons); `edit_of` names the key of an earlier delivery whose message is edited in place
    instead of sending a new one.

    A file goes as `document_name` with its content in `document_body` (text, sent as UTF-8)
    or `document_bytes` (binary: an XLSX, a PNG). `document_bytes` without a `document_name`
    is an uploaded photo (a chart), sent with `text` as its caption.

    `message_thread_id` sends into that forum topic of the group (a case's card into the
    case's topic); None is the General topic, and a topic deleted since is sent to General
    instead (the notifier then clears it here)."""

    __table_args__ = (Index("ix_delivery_status_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=255)
    kind: str = Field(max_length=32, index=True)
    chat_id: int = telegram_id(nullable=False)
    message_thread_id: int | None = telegram_id()
    person_id: int | None = Field(default=None, foreign_key="person.id")
    text: str
    reply_markup: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    photo: str | None = Field(default=None, max_length=256)
    album: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    edit_of: str | None = Field(default=None, max_length=255)
    document_name: str | None = Field(default=None, max_length=128)
    document_body: str | None = None
    document_bytes: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    urgent: bool = False
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    not_before: datetime = stamped_now()
    created_at: datetime = stamped_now()
    sent_at: datetime | None = timestamp()
    message_id: int | None = telegram_id()
