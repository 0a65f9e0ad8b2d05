"""The webhook inbox: keep an update before its 200, take the waiting ones, mark them handled.

The only writer of `inbox_update`. PostgreSQL workers take one row each with
`FOR UPDATE SKIP LOCKED` and hold it for as long as its handler runs: another worker (in
this process or another) passes over it, and a worker that dies drops its lock with its
connection, so the row waits for the next one. SQLite has no row locks: one process at a
time takes rows (bot/inbox_worker.py holds a file lock for that) and remembers which are in
its hands.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import InboxUpdate

ERROR_LIMIT = 1000  # the column's width
# A handled row is kept a while for the operator's eye (what came in, what failed), then dropped.
DONE_MEMORY = timedelta(days=2)


async def keep_update(
    session: AsyncSession, *, bot_id: int, update_id: int, raw: str, now: datetime
) -> bool:
    """Write an update to the inbox; False when it is there already (Telegram sent it again)."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    statement = (
        insert(InboxUpdate)
        .values(bot_id=bot_id, update_id=update_id, raw=raw, received_at=now)
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id"])
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return bool(result.rowcount)


def _waiting(bot_id: int) -> SelectOfScalar[InboxUpdate]:
    return (
        select(InboxUpdate)
        .where(col(InboxUpdate.done_at).is_(None), col(InboxUpdate.bot_id) == bot_id)
        .order_by(col(InboxUpdate.received_at), col(InboxUpdate.update_id))
    )


async def take_locked(session: AsyncSession, *, bot_id: int) -> InboxUpdate | None:
    """PostgreSQL: the oldest waiting row nobody holds, locked until `session` ends."""
    statement = _waiting(bot_id).limit(1).with_for_update(skip_locked=True)
    return (await session.exec(statement)).first()


async def waiting_updates(
    session: AsyncSession, *, bot_id: int, skip: Collection[int], limit: int
) -> Sequence[InboxUpdate]:
    """SQLite: the oldest waiting rows, leaving out the update ids already in hand."""
    statement = _waiting(bot_id)
    if skip:
        statement = statement.where(col(InboxUpdate.update_id).not_in(skip))
    return (await session.exec(statement.limit(limit))).all()


async def mark_done(
    session: AsyncSession, *, bot_id: int, update_id: int, now: datetime, error: str | None = None
) -> None:
    """The dispatcher is through with the update (`error`: its handler failed, logged)."""
    await session.exec(  # type: ignore[call-overload]
        update(InboxUpdate)
        .where(
            col(InboxUpdate.bot_id) == bot_id,
            col(InboxUpdate.update_id) == update_id,
            col(InboxUpdate.done_at).is_(None),
        )
        .values(done_at=now, error=None if error is None else error[:ERROR_LIMIT])
    )


async def count_waiting(session: AsyncSession) -> int:
    """How many updates wait to be handled, all bots."""
    statement = select(func.count()).where(col(InboxUpdate.done_at).is_(None))
    return int((await session.exec(statement)).one())


async def forget_done(session: AsyncSession, *, now: datetime) -> int:
    """Drop rows handled longer ago than DONE_MEMORY. Returns how many."""
    result = await session.exec(  # type: ignore[call-overload]
        delete(InboxUpdate).where(col(InboxUpdate.done_at) < now - DONE_MEMORY)
    )
    return int(result.rowcount or 0)
