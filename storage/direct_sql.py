"""The statements every update runs, sent straight to the database's driver.

Each update runs two statements: its first (storage/update_opening.py) and, most steps of a
conversation, its state's write (storage/fsm.py). Through SQLAlchemy's async Core a statement
costs about 120 µs of CPU here besides the database's own work (SQLite's `SELECT 1`: 173 µs,
against 56 µs sent straight), more than most of that work: the compiled-cache lookup, the
binds' and columns' processing, the execution context and result objects, a hop between
greenlets, a trip to the driver's thread of its own. Here a statement is compiled once per
dialect, its binds' and columns' processors taken from its types then (so the values are
exactly SQLAlchemy's), and sent:
- on SQLite, on storage/sqlite_driver.py's connection: `first_row` in one trip, the row
  processed as SQLAlchemy would; `write_on_next_trip` held for the next trip, the commit's;
- on any other driver (PostgreSQL's asyncpg), through the driver's DBAPI cursor, the one
  SQLAlchemy's execute uses (it starts the transaction and keeps the prepared statements
  as it does for SQLAlchemy), at once: about 60 µs less per statement there.

Engine listeners still see each statement (`before_cursor_execute`, as SQLAlchemy fires it:
storage/sql_tally.py counts it; the engine's echo does not print it), and a failure comes out
as SQLAlchemy's exception for it (OperationalError, IntegrityError, StatementError...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, TextualSelect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from storage.sqlite_driver import OneTripConnection

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, _Processor], ...]
    """Each bind in the order the SQL takes them, with its type's processor."""
    columns: tuple[tuple[str, _Processor], ...]
    """A textual select's columns, with their types' processors."""

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        return [
            value if process is None else process(value)
            for name, process in self.binds
            for value in (values[name],)
        ]

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        return {
            name: value if process is None else process(value)
            for (name, process), value in zip(self.columns, raw, strict=True)
        }


@lru_cache(maxsize=64)
def _compiled(statement: Executable, dialect: Dialect) -> _Compiled:
    """Per statement (each a module's constant, built once) and dialect."""
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler) and compiled.positional, "binds taken in order"
    binds = tuple(
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in compiled.positiontup or ()
    )
    selected: Sequence[ColumnElement[Any]] = (
        list(statement.selected_columns) if isinstance(statement, TextualSelect) else []
    )
    columns = tuple(
        (str(column.key), column.type.dialect_impl(dialect).result_processor(dialect, None))
        for column in selected
    )
    return _Compiled(compiled.string, binds, columns)


def _driver(connection: Connection) -> OneTripConnection | None:
    driver = connection.connection.driver_connection
    return driver if isinstance(driver, OneTripConnection) else None


def _sent(connection: Connection, sql: str, parameters: Sequence[Any]) -> None:
    """What SQLAlchemy tells the engine's listeners before it sends a statement."""
    connection.dispatch.before_cursor_execute(connection, None, sql, parameters, None, False)


def _prepare(
    connection: Connection, statement: Executable, values: Mapping[str, Any]
) -> tuple[_Compiled, list[Any]]:
    compiled = _compiled(statement, connection.dialect)
    try:
        parameters = compiled.parameters(values)
    except Exception as exc:  # a value its type cannot bind: as SQLAlchemy reports it
        raise _wrapped(connection, compiled.sql, values, exc) from exc
    _sent(connection, compiled.sql, parameters)
    return compiled, parameters


def _wrapped(connection: Connection, sql: str, parameters: Any, exc: Exception) -> BaseException:
    dialect = connection.dialect
    return DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error, dialect=dialect)


async def first_row(
    connection: AsyncConnection, statement: TextualSelect, values: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The first row of `statement`, by column name (None: no row), on the connection's
    transaction."""
    sync = connection.sync_connection
    assert sync is not None, "an open connection"
    compiled, parameters = _prepare(sync, statement, values)
    driver = _driver(sync)
    try:
        if driver is not None:
            raw = await driver.first_row(compiled.sql, parameters)
        else:
            raw = await connection.run_sync(_cursor_first_row, compiled.sql, parameters)
    except Exception as exc:
        raise _wrapped(sync, compiled.sql, parameters, exc) from exc
    return None if raw is None else compiled.row(raw)


def _cursor_first_row(
    connection: Connection, sql: str, parameters: Sequence[Any]
) -> Sequence[Any] | None:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        return cursor.fetchone()
    finally:
        cursor.close()


def write_on_next_trip(
    connection: Connection, statement: Executable, values: Mapping[str, Any]
) -> None:
    """Run the write `statement` on the connection's transaction, on the trip after this
    (the commit's, for a write made before a commit); at once on any other driver."""
    compiled, parameters = _prepare(connection, statement, values)
    driver = _driver(connection)
    if driver is not None:
        driver.with_next_trip(compiled.sql, parameters)
        return
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.sql, parameters)
    except Exception as exc:
        raise _wrapped(connection, compiled.sql, parameters, exc) from exc
    finally:
        cursor.close()
