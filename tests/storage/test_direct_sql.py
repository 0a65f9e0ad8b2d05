"""The statements every update runs, straight to the driver (storage/direct_sql.py): the same
values as SQLAlchemy's execute gives, a held write sent with the commit (or dropped by a
rollback), seen by the engine's listeners, failing as SQLAlchemy's exceptions. On PostgreSQL
the same calls go through the driver's DBAPI cursor: the tests without a marker run there
too."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import JSON, Boolean, Connection, Integer, Text, bindparam, column, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, StatementError

from storage.db import Database
from storage.direct_sql import first_row, write_on_next_trip
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


@pytest.fixture
async def things(db: Database) -> AsyncIterator[Database]:
    async with db.session() as s:
        await s.execute(
            text(
                "CREATE TABLE thing (i INTEGER PRIMARY KEY, flag BOOLEAN NOT NULL,"
                " at TIMESTAMP WITH TIME ZONE, data JSON, note TEXT)"
                if db.engine.dialect.name == "postgresql"
                else "CREATE TABLE thing (i INTEGER PRIMARY KEY, flag BOOLEAN NOT NULL,"
                " at DATETIME, data JSON, note TEXT)"
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
