"""SQLite's one trip per statement (storage/sqlite_driver.py): the trips counted, and the
results the same as aiosqlite's, long ones read in slices included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.sqlite_driver import FIRST_ROWS

pytestmark = pytest.mark.sqlite_only("counts the trips to aiosqlite's thread, SQLite's driver")

ROWS = FIRST_ROWS * 2 + 345


@pytest.fixture
async def sqlite(db_url: str) -> AsyncIterator[Database]:
    db = Database(db_url)
    async with db.session() as s:
        await s.execute(text("CREATE TABLE n (i INTEGER PRIMARY KEY, sq INTEGER)"))
        await s.execute(
            text("INSERT INTO n (i, sq) VALUES (:i, :sq)"),
            [{"i": i, "sq": i * i} for i in range(ROWS)],
        )
    yield db
    await db.dispose()


async def test_a_unit_of_work_is_a_trip_per_statement_and_one_to_commit(
    sqlite: Database, trips: list[str]
) -> None:
    async with sqlite.session() as s:  # warm: the pool's connection made
        await s.execute(text("SELECT 1"))
    trips.clear()
    async with sqlite.session() as s:
        assert (await s.execute(text("SELECT sq FROM n WHERE i = 7"))).scalar_one() == 49
        updated = await s.execute(text("UPDATE n SET sq = -sq WHERE i < 10"))
        assert updated.rowcount == 10  # type: ignore[attr-defined]
    # BEGIN IMMEDIATE went with the SELECT; the pool's rollback after the commit made none.
    assert trips == ["_run", "_run", "commit"]
    trips.clear()
    async with sqlite.session():
        pass  # begun, nothing sent: nothing to end either
    assert trips == []


async def test_a_failed_statement_rolls_back_what_came_before(sqlite: Database) -> None:
    with pytest.raises(Exception, match="UNIQUE"):
        async with sqlite.session() as s:
            await s.execute(text("UPDATE n SET sq = 0 WHERE i = 1"))
            await s.execute(text("INSERT INTO n (i, sq) VALUES (2, 0)"))
    async with sqlite.reading() as s:
        assert (await s.execute(text("SELECT sq FROM n WHERE i = 1"))).scalar_one() == 1


async def test_a_long_result_whole_and_in_slices(sqlite: Database, trips: list[str]) -> None:
    expected = [(i, i * i) for i in range(ROWS)]
    async with sqlite.reading() as s:
        rows = (await s.execute(text("SELECT i, sq FROM n ORDER BY i"))).all()
        assert [tuple(r) for r in rows] == expected
        trips.clear()
        conn = await s.connection()
        result = await conn.stream(text("SELECT i, sq FROM n ORDER BY i"))
        sliced: list[tuple[int, int]] = []
        async for part in result.partitions(700):
            assert len(part) <= 700
            sliced.extend(tuple(r) for r in part)
        assert sliced == expected
        # The statement with its first rows, then more as the slices asked for them: never
        # a trip per row.
        assert trips[0] == "_run" and 2 <= len(trips) <= 2 + ROWS // 700
