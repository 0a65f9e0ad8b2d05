"""A statement run on the unit of work's connection rather than through the session's
execute, whose bookkeeping (its events, its bind lookup, the ORM's compile state) costs more
than a small read: what the session's execute would have done first is done here."""

from __future__ import annotations

from weakref import ref

from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

_KEPT = "gridbot_connection"


async def unit_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection (its transaction begun), its pending changes written first as
    its autoflush writes them before a statement naming a mapped class's columns."""
    if session.autoflush:
        await session.flush()
    return await transaction_connection(session)


async def transaction_connection(session: AsyncSession) -> AsyncConnection:
    """`session.connection()`: the connection of the session's transaction (begun if there is
    none), kept by the session for as long as that transaction lasts. Asking the session for
    it again costs more calls than most statements run on it, and an update asks several
    times."""
    sync = session.sync_session
    kept = sync.info.get(_KEPT)
    # A commit or a rollback ends the transaction (the next one is another object) and a
    # failed flush leaves it inactive until it is rolled back: the session is asked then, and
    # answers, or refuses, as it always did. The transaction is kept weakly: held, it would
    # keep its session alive, by a cycle, after the session's end.
    if kept is not None:
        current = sync.get_transaction()
        if current is not None and kept[0]() is current and sync.is_active:
            connection: AsyncConnection = kept[1]
            return connection
    connection = await session.connection()
    transaction = sync.get_transaction()
    assert transaction is not None, "begun by the session's connection"
    sync.info[_KEPT] = (ref(transaction), connection)
    return connection
