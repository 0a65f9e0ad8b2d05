"""aiosqlite with one trip to its thread per statement.

aiosqlite runs every sqlite3 call on a thread of its own, and SQLAlchemy's adapter makes four
calls for a statement: open a cursor, execute, fetch the rows, close the cursor; then the
connection pool rolls back each connection it gets back, committed or not. Each call is a trip
to that thread and back (a queue, a wake-up, a callback onto the event loop): about 35 µs of
CPU and more of waiting, and an update made twenty of them.

Here a statement is one trip: the cursor is opened, executed, read to the end and closed on
the thread, and what SQLAlchemy reads afterwards (the rows, the description, the row count,
the last row id) comes back with it. A rollback when no transaction is open (the pool's, after
a commit) is answered at once: sqlite3 would do nothing either. Everything else is aiosqlite's
own. Results are read whole, as SQLAlchemy's adapter already does for every cursor but a
streaming one, which gridbot does not use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import aiosqlite

_Description = tuple[tuple[Any, ...], ...] | None


def _run(
    conn: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[_Description, int, int | None, list[Any]]:
    """On aiosqlite's thread: the statement from cursor to close."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor:
    """What SQLAlchemy's aiosqlite adapter uses of aiosqlite's Cursor."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _trip(self, sql: str, parameters: Any, many: bool) -> OneTripCursor:
        conn = self._connection
        self.description, self.rowcount, self.lastrowid, self._rows = await conn._execute(
            _run, conn._conn, sql, parameters, many
        )
        return self

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        return await self._trip(sql, parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        return await self._trip(sql, parameters, True)

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []

    async def setinputsizes(self, *_sizes: Any) -> None:
        return None

    async def nextset(self) -> None:
        return None


class _Opening:
    """`connection.cursor()`: awaited or entered, as aiosqlite's is; no trip."""

    def __init__(self, cursor: OneTripCursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Any:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> OneTripCursor:
        return self._cursor

    async def __aexit__(self, *_exc: object) -> None:
        await self._cursor.close()


class OneTripConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._in_transaction = True
        """As sqlite3 last said after a call on the thread; True until it has said."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def call() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._note_transaction()

        return await super()._execute(call)

    def _note_transaction(self) -> None:
        """On the thread, after each call: whether a transaction is open now."""
        try:
            if self._connection is not None:
                self._in_transaction = self._connection.in_transaction
        except sqlite3.ProgrammingError:  # closed by this very call
            pass

    def cursor(self) -> Any:  # aiosqlite's is awaitable and an async context manager
        return _Opening(OneTripCursor(self))

    async def rollback(self) -> None:
        if self._in_transaction:
            await super().rollback()


def connect(database: Any, *, iter_chunk_size: int = 64, **kwargs: Any) -> OneTripConnection:
    """As aiosqlite.connect, for SQLAlchemy's adapter (`async_creator_fn`)."""
    where = database if isinstance(database, str | bytes) else str(database)
    connection = OneTripConnection(partial(sqlite3.connect, where, **kwargs), iter_chunk_size)
    connection._thread.daemon = True  # as SQLAlchemy makes aiosqlite's
    return connection


def use_one_trip(cparams: dict[str, Any]) -> None:
    """Have SQLAlchemy's aiosqlite adapter connect with `connect` (a `do_connect` listener
    passes the connection's parameters here)."""
    cparams["async_creator_fn"] = connect
