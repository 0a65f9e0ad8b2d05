"""The statements every update runs, straight to the driver (storage/direct_sql.py): the same
values as SQLAlchemy's execute gives, a held write sent with the commit (or dropped by a
rollback), seen by the engine's listeners, failing as SQLAlchemy's exceptions. On PostgreSQL
the same calls go through the driver's DBAPI cursor: the tests without a marker run there
too."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import NoneType
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    column,
    insert,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, StatementError

from storage.db import Database
from storage.direct_sql import (
    all_values,
    first_row,
    first_values,
    one_values,
    write_on_next_trip,
)
from storage.sql_tally import SqlTally
from storage.types import UTCDateTime
from storage.update_opening import _statement
from tests.storage.patrol_db import import_fire_safety

GUARD = 810000001
SOMEONE = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)

READ = text("SELECT i, flag, at, data, note FROM thing WHERE i = :i").columns(
    column("i", Integer()),
    column("flag", Boolean()),
    column("at", UTCDateTime()),
    column("data", JSON()),
    column("note", Text()),
)
MISSING = text("SELECT i FROM no_such_table").columns(column("i", Integer()))
WRITE = text(
    "INSERT INTO thing (i, flag, at, data, note) VALUES (:i, :flag, :at, :data, :note)"
).bindparams(
    bindparam("flag", type_=Boolean()),
    bindparam("at", type_=UTCDateTime()),
    bindparam("data", type_=JSON()),
)


# The same table for SQLAlchemy's Core statements.
THING = Table(
    "thing",
    MetaData(),
    Column("i", Integer(), primary_key=True, autoincrement=False),
    Column("flag", Boolean(), nullable=False),
    Column("at", UTCDateTime()),
    Column("data", JSON()),
    Column("note", Text(), default="无"),  # a constant: carried by the direct path
    Column("score", Float(), default=lambda: 0.25),  # computed: SQLAlchemy's to run
)


@pytest.fixture
async def things(db: Database) -> AsyncIterator[Database]:
    async with db.session() as s:
        await s.execute(
            text(
                "CREATE TABLE thing (i INTEGER PRIMARY KEY, flag BOOLEAN NOT NULL,"
                " at TIMESTAMP WITH TIME ZONE, data JSON, note TEXT, score FLOAT)"
                if db.engine.dialect.name == "postgresql"
                else "CREATE TABLE thing (i INTEGER PRIMARY KEY, flag BOOLEAN NOT NULL,"
                " at DATETIME, data JSON, note TEXT, score FLOAT)"
            )
        )
    yield db


def _values(i: int, **changed: Any) -> dict[str, Any]:
    values = {"i": i, "flag": True, "at": SOMEONE, "data": {"photos": ["AgAD1"], "n": 2},
              "note": "楼道堆放杂物"}  # fmt: skip
    return {**values, **changed}


async def _write(db: Database, values: dict[str, Any]) -> None:
    async with db.session() as s:
        connection = await s.connection()

        def write(sync: Connection) -> None:
            write_on_next_trip(sync, WRITE, values)

        await connection.run_sync(write)


def _typed(row: Any) -> dict[str, tuple[type, Any]]:
    # 1 == True in Python: the types are compared too.
    return {k: (type(v), v) for k, v in dict(row).items()}


async def test_a_row_written_and_read_is_what_sqlalchemy_writes_and_reads(
    things: Database,
) -> None:
    await _write(things, _values(1))
    await _write(things, _values(2, flag=False, at=None, data=None, note=None))
    async with things.session() as s:
        await s.execute(WRITE, _values(3))  # SQLAlchemy's own write, to compare with
        connection = await s.connection()
        for i in (1, 2, 3):
            plain = (await connection.execute(READ, {"i": i})).mappings().first()
            direct = await first_row(connection, READ, {"i": i})
            assert direct is not None and plain is not None
            assert _typed(direct) == _typed(plain)
        assert await first_row(connection, READ, {"i": 4}) is None
    assert _typed(direct) == _typed(_values(3))


async def test_core_statements_read_as_sqlalchemys_execute_reads(things: Database) -> None:
    """An INSERT ... RETURNING compiled for the columns given, a SELECT with a LIMIT (a bound
    value the statement carries), one with a list bound to IN and one reading a float
    (those two are SQLAlchemy's to run on PostgreSQL, whose floats' reading depends on
    what the driver says of the column): each gives what SQLAlchemy's execute gives."""
    added = insert(THING).returning(THING.c.i, THING.c.at, THING.c.data)
    newest = (
        select(THING.c.i, THING.c.flag, THING.c.at, THING.c.data, THING.c.note)
        .where(THING.c.i >= bindparam("least"))
        .order_by(THING.c.i.desc())
        .limit(2)
    )
    among = select(THING.c.i, THING.c.score).where(THING.c.i.in_(bindparam("ids", expanding=True)))
    async with things.session() as s:
        connection = await s.connection()
        direct = await first_values(connection, added, _values(1) | {"score": 0.5})
        plain = (await connection.execute(added, _values(2) | {"score": 1.25})).first()
        assert direct is not None and plain is not None
        assert direct[0] == 1 and plain[0] == 2
        assert _typed_tuple(direct[1:]) == _typed_tuple(tuple(plain)[1:])
        await first_values(
            connection, added, _values(3, flag=False, at=None, data=None, score=None)
        )
        for statement, values in ((newest, {"least": 2}), (among, {"ids": [1, 3, 9]})):
            direct_rows = await all_values(connection, statement, values)
            plain_rows = [tuple(r) for r in await connection.execute(statement, values)]
            assert len(direct_rows) == 2 and sorted(map(_typed_tuple, direct_rows)) == sorted(
                map(_typed_tuple, plain_rows)
            )
        assert await all_values(connection, newest, {"least": 4}) == []
        assert await first_values(connection, newest, {"least": 4}) is None
        # Columns not given take their defaults, the constant one and the computed one.
        assert await first_values(connection, added, {"i": 4, "flag": True}) is not None
        assert await first_values(connection, added, {"i": 5, "flag": True, "score": 2.0})
        defaulted = select(THING.c.note, THING.c.score).where(THING.c.i >= 4).order_by(THING.c.i)
        assert [tuple(r) for r in await connection.execute(defaulted)] == [
            ("无", 0.25),
            ("无", 2.0),
        ]
    assert sorted(map(_typed_tuple, direct_rows)) == [
        ((int, 1), (float, 0.5)),
        ((int, 3), (NoneType, None)),
    ]


def _typed_tuple(row: tuple[Any, ...]) -> tuple[tuple[type, Any], ...]:
    return tuple((type(v), v) for v in row)


async def test_the_first_statement_of_an_update_reads_as_sqlalchemy_does(db: Database) -> None:
    await import_fire_safety(db)
    async with db.session() as s:
        connection = await s.connection()
        statement = _statement(connection.dialect, fsm=True, person=True)
        await connection.execute(
            text(
                "INSERT INTO fsm_state (key, state, data, updated_at) VALUES (:k, :s, :d, :at)"
            ).bindparams(bindparam("d", type_=JSON()), bindparam("at", type_=UTCDateTime())),
            {"k": "k1", "s": "Report:photos", "d": {"photos": ["A"]}, "at": SOMEONE},
        )
        rows: list[Any] = []
        for update_id, read in ((1, first_row), (2, None)):
            values = {"bot_id": 1, "update_id": update_id, "at": SOMEONE, "fsm_key": "k1",
                      "tg_id": GUARD}  # fmt: skip
            if read is None:
                rows.append((await connection.execute(statement, values)).mappings().first())
            else:
                rows.append(await read(connection, statement, values))
    direct, plain = (_typed(r) | {"update_id": None} for r in rows)
    assert direct == plain
    assert direct["person_tg_id"] == (int, GUARD) and direct["fsm_data"] == (
        dict,
        {"photos": ["A"]},
    )


async def test_the_engines_listeners_see_both(things: Database) -> None:
    tally = SqlTally.install(things.engine)
    try:
        with SqlTally.counting() as cost:
            await _write(things, _values(1))
            async with things.session() as s:
                assert await first_row(await s.connection(), READ, {"i": 1}) is not None
    finally:
        tally.remove()
    assert cost.statements == 2 and cost.transactions == 2
    assert cost.sql[0].startswith("INSERT INTO thing") and cost.sql[1].startswith("SELECT i")


async def test_failures_are_sqlalchemys(things: Database) -> None:
    with pytest.raises(DBAPIError) as missing:
        async with things.session() as s:
            await first_row(await s.connection(), MISSING, {})
    if things.is_sqlite:
        assert isinstance(missing.value, OperationalError)  # as SQLAlchemy's execute says it
        assert isinstance(missing.value.orig, sqlite3.OperationalError)
    with pytest.raises(IntegrityError):
        await _write(things, _values(1, flag=None))  # NOT NULL
    with pytest.raises(StatementError) as failed:
        await _write(things, _values(1, data={"x": object()}))
    assert isinstance(failed.value.orig, TypeError)  # JSON cannot hold it
    async with things.session() as s:
        assert await first_row(await s.connection(), READ, {"i": 1}) is None


@pytest.mark.sqlite_only("counts the trips to SQLite's driver thread")
async def test_a_held_write_goes_with_the_commit(things: Database, trips: list[str]) -> None:
    await _write(things, _values(1))  # the pool's connection made
    trips.clear()
    async with things.session() as s:
        connection = await s.connection()
        assert await first_row(connection, READ, {"i": 1}) is not None
        await connection.run_sync(lambda sync: write_on_next_trip(sync, WRITE, _values(2)))
    assert trips == ["_first_row", "commit"]
    trips.clear()
    await _write(things, _values(3))  # BEGIN, the write and the commit: one trip
    assert trips == ["commit"]
    async with things.session() as s:
        got = [await first_row(await s.connection(), READ, {"i": i}) for i in (2, 3)]
    assert [r["i"] for r in got if r is not None] == [2, 3]


@pytest.mark.sqlite_only("counts the trips to SQLite's driver thread")
async def test_a_rollback_drops_a_held_write_unsent(things: Database, trips: list[str]) -> None:
    with pytest.raises(RuntimeError):
        async with things.session() as s:
            connection = await s.connection()
            await connection.run_sync(lambda sync: write_on_next_trip(sync, WRITE, _values(1)))
            raise RuntimeError("the handler failed")
    assert trips == []  # nothing was sent: no BEGIN, no write
    async with things.session() as s:
        assert await first_row(await s.connection(), READ, {"i": 1}) is None
    raw = sqlite3.connect(str(things.engine.url.database))
    try:
        assert raw.execute("SELECT count(*) FROM thing").fetchone() == (0,)
    finally:
        raw.close()


@pytest.mark.sqlite_only("counts the trips to SQLite's driver thread")
async def test_core_statements_go_straight_unless_completed_at_execution(
    things: Database, trips: list[str]
) -> None:
    added = insert(THING).returning(THING.c.i)
    newest = select(THING.c.i).order_by(THING.c.i.desc()).limit(2)
    among = select(THING.c.i).where(THING.c.i.in_(bindparam("ids", expanding=True)))
    await _write(things, _values(1))  # the pool's connection made
    trips.clear()
    async with things.session() as s:
        connection = await s.connection()
        assert await first_values(connection, added, _values(2) | {"score": 1.0}) == (2,)
        assert await first_values(connection, added, {"i": 3, "flag": True, "score": 1.0})
        assert await all_values(connection, newest, {}) == [(3,), (2,)]
        assert await all_values(connection, among, {"ids": [1, 2]}) in ([(1,), (2,)], [(2,), (1,)])
        assert await first_values(connection, added, {"i": 4, "flag": True}) == (4,)
    # What SQLAlchemy completes at execution (a list bound to IN, a default computed in
    # Python) goes on its cursor's trip; a constant default does not need it.
    assert trips == ["_first_row", "_first_row", "_all_rows", "_run", "_run", "commit"]


async def test_one_values_is_the_row_an_insert_gives_back_and_fails_without_one(
    things: Database,
) -> None:
    added = insert(THING).returning(THING.c.i)
    nothing = select(THING.c.i).where(THING.c.i == bindparam("i"))
    async with things.session() as s:
        connection = await s.connection()
        assert await one_values(connection, added, _values(7) | {"score": 1.0}) == (7,)
        with pytest.raises(LookupError):
            await one_values(connection, nothing, {"i": 8})
