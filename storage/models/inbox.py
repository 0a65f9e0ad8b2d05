"""The webhook's inbox: an update is written here before Telegram hears it arrived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from storage.models._columns import stamped_now, timestamp

PENDING = text("done_at IS NULL")


class InboxUpdate(SQLModel, table=True):
    """One webhook update, kept from its 200 until a worker has handled it.

    Keyed like replay protection (bot, update id): Telegram's redelivery of an update it
    already had a 200 for is the same row, not a second one. `done_at` is set once the
    dispatcher is through with it, `error` when its handler failed (it is not retried: the
    polling mode does not retry a failed handler either)."""

    __tablename__ = "inbox_update"
    # Only the waiting rows are ever looked up, and there are few of them at any time.
    __table_args__ = (
        Index(
            "ix_inbox_update_pending",
            "received_at",
            postgresql_where=PENDING,
            sqlite_where=PENDING,
        ),
    )

    bot_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = stamped_now()
    done_at: datetime | None = timestamp()
    error: str | None = Field(default=None, max_length=1000)
