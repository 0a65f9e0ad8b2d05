"""A statement run on the unit of work's connection rather than through the session's
execute, whose bookkeeping (its events, its bind lookup, the ORM's compile state) costs more
than a small read: what the session's execute would have done first is done here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession


async def unit_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection (its transaction begun), its pending changes written first as
    its autoflush writes them before a statement naming a mapped class's columns."""
    if session.autoflush:
        await session.flush()
    return await session.connection()
