"""Statements of a conversation's steps, sent straight to the database's driver.

Every update runs its first statement (storage/update_opening.py) and, most steps of a
conversation, its state's write (storage/fsm.py); a step's own work runs a few more (the
check-in's scene, a new row, the case code, the outbox row). Through SQLAlchemy's async Core
a statement costs about 120 µs of CPU here besides the database's own work (SQLite's
`SELECT 1`: 173 µs, against 56 µs sent straight), more than most of that work: the
compiled-cache lookup, the binds' and columns' processing, the execution context and result
objects, a hop between greenlets, a trip to the driver's thread of its own. Here a statement
(each a module's constant, built once) is compiled once per dialect, its binds' and columns'
processors taken from its types then (so the values are exactly SQLAlchemy's), and sent:
- on SQLite, on storage/sqlite_driver.py's connection: `first_values`, `first_row` and
  `all_values` in one trip, the rows processed as SQLAlchemy would; `write_on_next_trip`
  held for the next trip, the commit's;
- on any other driver (PostgreSQL's asyncpg), through the driver's DBAPI cursor, the one
  SQLAlchemy's execute uses (it starts the transaction and keeps the prepared statements
  as it does for SQLAlchemy), at once: about 60 µs less per statement there.
A statement SQLAlchemy completes at execution (a list bound to IN, a default computed in
Python) or whose reading needs the driver's word on a column's type (PostgreSQL's floats) is
SQLAlchemy's to run, as before.

Engine listeners still see each statement (`before_cursor_execute`, as SQLAlchemy fires it:
storage/sql_tally.py counts it; the engine's echo does not print it), and a failure comes out
as SQLAlchemy's exception for it (OperationalError, IntegrityError, StatementError...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Select, TextualSelect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import BindParameter, ClauseElement, ColumnElement

from storage.sqlite_driver import OneTripConnection

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, _Processor, BindParameter[Any]], ...]
    """Each bind in the order the SQL takes them, with its type's processor and itself (for
    a value the statement carries: a LIMIT's)."""
    columns: tuple[tuple[str, _Processor], ...]
    """The columns it gives back, with their types' processors."""
    defaults: dict[str, Any]
    """The constant defaults of the columns an INSERT was not given."""

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        return [
            value if process is None else process(value)
            for name, process, bind in self.binds
            for value in (values[name] if name in values else self._carried(bind),)
        ]

    def _carried(self, bind: BindParameter[Any]) -> Any:
        if bind.key in self.defaults:
            return self.defaults[bind.key]
        if bind.required:
            raise KeyError(f"a value is required for bind parameter {bind.key!r}")
        return bind.effective_value

    def values(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        # A list first: a generator's every step is a call of its own, 30 for the update's
        # first statement.
        return tuple(
            [
                value if process is None else process(value)
                for (_name, process), value in zip(self.columns, raw, strict=True)
            ]
        )


def _returned(statement: Executable) -> Sequence[ColumnElement[Any]]:
    if isinstance(statement, (Select, TextualSelect)):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)  # its RETURNING columns, if any
    return []


@lru_cache(maxsize=64)
def _compiled(
    statement: Executable, dialect: Dialect, keys: tuple[str, ...] | None
) -> _Compiled | None:
    """Per statement (each a module's constant, built once), dialect and, for an INSERT or
    UPDATE, the columns given (as SQLAlchemy compiles it per set of keys). None: not one
    to send straight, and SQLAlchemy runs it: one whose SQL is completed at execution (a
    list bound to IN, a column default computed in Python), or one whose reading depends on
    what the driver says of a column (PostgreSQL's floats and numerics)."""
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=list(keys or ()))
    assert isinstance(compiled, SQLCompiler) and compiled.positional, "binds taken in order"
    if compiled.literal_execute_params or compiled.post_compile_params or compiled.update_prefetch:
        return None
    # A column not given takes its default, SQLAlchemy's to compute at execution; a constant
    # one (an outbox row's status) is carried here.
    defaults: dict[str, Any] = {}
    for prefetched in compiled.insert_prefetch:
        default = prefetched.default
        if default is None or not default.is_scalar:
            return None
        defaults[prefetched.key] = default.arg  # type: ignore[attr-defined]
    binds = tuple(
        (name, bind.type.dialect_impl(dialect).bind_processor(dialect), bind)
        for name in compiled.positiontup or ()
        for bind in (compiled.binds[name],)
    )
    try:
        columns = tuple(
            (str(column.key), column.type.dialect_impl(dialect).result_processor(dialect, None))
            for column in _returned(statement)
        )
    except Exception:  # the processor needs the driver's word on the column's type
        return None
    return _Compiled(compiled.string, binds, columns, defaults)


def _driver(connection: Connection) -> OneTripConnection | None:
    driver = connection.connection.driver_connection
    return driver if isinstance(driver, OneTripConnection) else None


def _sent(connection: Connection, sql: str, parameters: Sequence[Any]) -> None:
    """What SQLAlchemy tells the engine's listeners before it sends a statement."""
    connection.dispatch.before_cursor_execute(connection, None, sql, parameters, None, False)


def _prepare(
    connection: Connection, statement: Executable, values: Mapping[str, Any]
) -> tuple[_Compiled, list[Any]] | None:
    keys = tuple(values) if isinstance(statement, UpdateBase) else None
    compiled = _compiled(statement, connection.dialect, keys)
    if compiled is None:
        return None
    try:
        parameters = compiled.parameters(values)
    except Exception as exc:  # a value its type cannot bind: as SQLAlchemy reports it
        raise _wrapped(connection, compiled.sql, values, exc) from exc
    _sent(connection, compiled.sql, parameters)
    return compiled, parameters


def _wrapped(connection: Connection, sql: str, parameters: Any, exc: Exception) -> BaseException:
    dialect = connection.dialect
    return DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error, dialect=dialect)


async def first_values(
    connection: AsyncConnection, statement: Executable, values: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The first row `statement` gives back, its values in its columns' order (None: no
    row), on the connection's transaction."""
    found = await _rows(connection, statement, values, first=True)
    return found[0] if found else None


async def one_values(
    connection: AsyncConnection, statement: Executable, values: Mapping[str, Any]
) -> tuple[Any, ...]:
    """The row a statement always gives back (an INSERT ... RETURNING without a condition),
    as `first_values` gives it."""
    found = await first_values(connection, statement, values)
    if found is None:
        raise LookupError("the statement gave no row back")
    return found


async def all_values(
    connection: AsyncConnection, statement: Executable, values: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Every row `statement` gives back, as `first_values` gives the first."""
    return await _rows(connection, statement, values, first=False)


async def first_row(
    connection: AsyncConnection, statement: TextualSelect, values: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The first row of `statement`, by column name (None: no row), on the connection's
    transaction."""
    found = await first_values(connection, statement, values)
    return None if found is None else dict(zip(_names(statement), found, strict=True))


@lru_cache(maxsize=64)
def _names(statement: TextualSelect) -> tuple[str, ...]:
    return tuple(str(column.key) for column in statement.selected_columns)


async def _rows(
    connection: AsyncConnection, statement: Executable, values: Mapping[str, Any], *, first: bool
) -> list[tuple[Any, ...]]:
    sync = connection.sync_connection
    assert sync is not None, "an open connection"
    prepared = _prepare(sync, statement, values)
    if prepared is None:
        result = await connection.execute(statement, dict(values))
        if first:
            row = result.first()
            return [] if row is None else [tuple(row)]
        return [tuple(row) for row in result.all()]
    compiled, parameters = prepared
    driver = _driver(sync)
    if driver is None:
        raw = await connection.run_sync(_on_cursor, compiled.sql, parameters, first)
    else:
        try:
            if first:
                found = await driver.first_row(compiled.sql, parameters)
                raw = [] if found is None else [found]
            else:
                raw = await driver.all_rows(compiled.sql, parameters)
        except Exception as exc:
            raise _wrapped(sync, compiled.sql, parameters, exc) from exc
    return [compiled.values(row) for row in raw]


def _on_cursor(
    connection: Connection, sql: str, parameters: Sequence[Any], first: bool | None
) -> Sequence[Any]:
    """Through the driver's DBAPI cursor: the rows, only the first (`first`), or none (None:
    a write, whose result is not read)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        if first is None:
            return []
        if first:
            row = cursor.fetchone()
            return [] if row is None else [row]
        return cursor.fetchall()
    except Exception as exc:
        raise _wrapped(connection, sql, parameters, exc) from exc
    finally:
        cursor.close()


def write_on_next_trip(
    connection: Connection, statement: Executable, values: Mapping[str, Any]
) -> None:
    """Run the write `statement` on the connection's transaction, on the trip after this
    (the commit's, for a write made before a commit); at once on any other driver."""
    prepared = _prepare(connection, statement, values)
    if prepared is None:
        connection.execute(statement, dict(values))
        return
    compiled, parameters = prepared
    driver = _driver(connection)
    if driver is not None:
        driver.with_next_trip(compiled.sql, parameters)
    else:
        _on_cursor(connection, compiled.sql, parameters, None)
