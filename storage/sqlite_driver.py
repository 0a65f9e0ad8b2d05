"""aiosqlite with one trip to its thread per statement.

aiosqlite runs every sqlite3 call on a thread of its own, and SQLAlchemy's adapter makes four
calls for a statement: open a cursor, execute, fetch the rows, close the cursor; then the
connection pool rolls back each connection it gets back, committed or not. Each call is a trip
to that thread and back (a queue, a wake-up, a callback onto the event loop): about 35 µs of
CPU and more of waiting, and an update made twenty of them.

Here a statement is one trip: the cursor is opened and executed on the thread, its first
`FIRST_ROWS` rows read and, when that was all, the cursor closed there too; what SQLAlchemy
reads afterwards (the rows, the description, the row count, the last row id) comes back with
it. A longer result (a job's slices of a city, from a server-side cursor) is read on later
trips, as SQLAlchemy asks for it. The transaction's BEGIN (storage/db.py) goes on the trip of
its first statement. A commit or rollback when no transaction is open (the pool's rollback
after a commit) is answered at once: sqlite3 would do nothing either. The rest is aiosqlite's.

storage/direct_sql.py sends a conversation's statements straight here: `first_row` and
`all_rows` are one trip each, and `with_next_trip` holds a write whose result nobody reads (the
conversation state's) for the next trip, the commit's, where it runs first: a rollback drops
it unsent.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

_Description = tuple[tuple[Any, ...], ...] | None
FIRST_ROWS = 1000
"""Rows that come back with the statement; a longer result (a job's slices of a city, read
from a server-side cursor) is read on further trips, as many rows as asked each time."""


def _run(
    conn: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[_Description, int, int | None, list[Any], sqlite3.Cursor | None]:
    """On aiosqlite's thread: the statement and its first rows; the cursor stays open (and
    comes back) only when there may be more."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchmany(FIRST_ROWS) if description else []
    except BaseException:
        cursor.close()
        raise
    counted, last = cursor.rowcount, cursor.lastrowid
    if len(rows) < FIRST_ROWS:
        cursor.close()
        return description, counted, last, rows, None
    return description, counted, last, rows, cursor


def _first_row(conn: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> Any:
    """On the thread: a statement's first row (None: it gave none)."""
    cursor = conn.execute(sql, parameters)
    try:
        return cursor.fetchone()
    finally:
        cursor.close()


def _all_rows(conn: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> list[Any]:
    """On the thread: every row of a statement."""
    cursor = conn.execute(sql, parameters)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _more(cursor: sqlite3.Cursor, size: int | None) -> tuple[list[Any], int]:
    """On the thread: more rows of an open cursor (all of them when `size` is None)."""
    rows = cursor.fetchall() if size is None else cursor.fetchmany(size)
    return rows, cursor.rowcount


class OneTripCursor:
    """What SQLAlchemy's aiosqlite adapter uses of aiosqlite's Cursor."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self.description: _Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: deque[Any] = deque()
        self._open: sqlite3.Cursor | None = None
        """The sqlite3 cursor while its result has rows not fetched yet."""

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _trip(self, sql: str, parameters: Any, many: bool) -> OneTripCursor:
        await self.close()
        conn = self._connection
        description, self.rowcount, self.lastrowid, rows, self._open = await conn._execute(
            _run, conn._conn, sql, parameters, many
        )
        self.description = description
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        return await self._trip(sql, parameters, False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        return await self._trip(sql, parameters, True)

    async def _fetch(self, size: int | None) -> list[Any]:
        held = self._rows
        wanted = len(held) if size is None else min(size, len(held))
        rows = [held.popleft() for _ in range(wanted)]
        cursor = self._open
        if cursor is not None and (size is None or len(rows) < size):
            more, self.rowcount = await self._connection._execute(
                _more, cursor, None if size is None else size - len(rows)
            )
            rows.extend(more)
            if size is None or len(rows) < size:
                await self.close()  # read to the end
        return rows

    async def fetchall(self) -> list[Any]:
        return await self._fetch(None)

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return await self._fetch(self.arraysize if size is None else size)

    async def fetchone(self) -> Any:
        rows = await self._fetch(1)
        return rows[0] if rows else None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._each()

    async def _each(self) -> AsyncIterator[Any]:
        while rows := await self._fetch(max(self.arraysize, 64)):
            for row in rows:
                yield row

    async def close(self) -> None:
        self._rows = deque()
        cursor, self._open = self._open, None
        if cursor is not None:
            await self._connection._execute(cursor.close)

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
        self._begin: str | None = None
        self._writes: list[tuple[str, Sequence[Any]]] = []
        """Held by `with_next_trip`, in order, for the next trip."""

    def begin_with_next(self, sql: str) -> None:
        """Send `sql` (the transaction's BEGIN) on the trip of the next call, just before it,
        rather than on a trip of its own. A commit or rollback with nothing sent in between
        has nothing to end: the BEGIN is dropped (SQLite's lock, had it been taken, would
        have been released at once)."""
        self._begin = sql

    def with_next_trip(self, sql: str, parameters: Sequence[Any]) -> None:
        """Send the write `sql` on the next trip, before that trip's own call (after the
        transaction's BEGIN, if that is still to go): a statement whose result nobody reads
        needs no trip of its own. A failure comes out of that trip (the commit's, for the
        conversation state), and the transaction is rolled back as for any failed commit.
        A rollback first drops it: it would have been undone anyway."""
        self._writes.append((sql, parameters))

    async def first_row(self, sql: str, parameters: Sequence[Any]) -> Any:
        """The first row of `sql` (None: none), in one trip; the cursor closed on the thread."""
        return await self._execute(_first_row, self._conn, sql, parameters)

    async def all_rows(self, sql: str, parameters: Sequence[Any]) -> list[Any]:
        """Every row of `sql`, in one trip; for a result that fits in memory."""
        return await self._execute(_all_rows, self._conn, sql, parameters)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        begin, self._begin = self._begin, None
        writes, self._writes = self._writes, []

        def call() -> Any:
            try:
                if begin is not None:
                    self._conn.execute(begin)
                for sql, parameters in writes:
                    self._conn.execute(sql, parameters).close()
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

    async def commit(self) -> None:
        if not self._writes:
            self._begin = None  # nothing sent since: nothing to begin or end
        if self._in_transaction or self._writes:
            await super().commit()

    async def rollback(self) -> None:
        self._begin = None
        self._writes = []
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
