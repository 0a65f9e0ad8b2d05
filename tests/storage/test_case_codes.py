"""Case codes at ledger scale: a per-day counter row, a lookup on the unique index.

On the pass's database (SQLite, or PostgreSQL on the PostgreSQL pass), and on PostgreSQL
when GRIDBOT_TEST_PG_URL is set.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from storage import cases as q
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from tests.storage.case_world import fire
from tests.storage.test_cases import open_case

__all__ = ["fire"]

PG_URL = os.environ.get("GRIDBOT_TEST_PG_URL")


async def _migrate_to(db: Database, revision: str) -> None:
    config = alembic_config(db.url)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def _add_cases(db: Database, codes: list[str]) -> None:
    """Cases as an older version left them: only the columns a code needs to exist, written in
    plain SQL (no model, no counter) in what both SQLite and PostgreSQL accept."""
    at = "'2026-03-01 00:00:00.000000'"
    async with db.session() as s:
        await s.execute(
            text(
                "INSERT INTO grid (id, code, name, parent_id, level, level_label, path,"
                f" roll_call, created_at) VALUES (1, 'G1', '网格', NULL, 1, '', '/1/', FALSE, {at})"
                " ON CONFLICT DO NOTHING"
            )
        )
        await s.execute(
            text(
                "INSERT INTO person (id, tg_id, name, reachable, is_admin, created_at)"
                f" VALUES (1, 7000000001, '网格员', TRUE, FALSE, {at}) ON CONFLICT DO NOTHING"
            )
        )
        for code in codes:
            await s.execute(
                text(
                    'INSERT INTO "case" (code, grid_id, origin_grid_id, reporter_id, category,'
                    " description, photos, severity, status, created_at, updated_at,"
                    " extension_pending, rework_count, escalation_count) VALUES (:code, 1, 1, 1,"
                    f" '用电', '隐患', '[]', 'general', 'reported', {at}, {at}, FALSE, 0, 0)"
                ),
                {"code": code},
            )


async def _codes(db: Database, day: str, n: int) -> list[str]:
    async with db.session() as s:
        return [await q.next_case_code(s, day=day) for _ in range(n)]


async def test_codes_continue_after_the_upgrade_from_the_cases_already_in_the_ledger(
    new_db_url: Callable[[str], str],
) -> None:
    db = Database(new_db_url("old"))
    await _migrate_to(db, "0005")
    await _add_cases(db, ["H260310-001", "H260310-007", "H260309-1002", "C5", "H260308-x1"])
    await upgrade(db)
    assert await _codes(db, "260310", 2) == ["H260310-008", "H260310-009"]
    assert await _codes(db, "260309", 1) == ["H260309-1003"]
    assert await _codes(db, "260311", 2) == ["H260311-001", "H260311-002"]
    await db.dispose()


async def test_a_code_written_by_another_path_is_skipped_not_clashed_with(db: Database) -> None:
    await _add_cases(db, ["H260312-002"])
    assert await _codes(db, "260312", 2) == ["H260312-001", "H260312-003"]


async def test_lower_case_input_finds_the_case(fire: Database) -> None:
    case = await open_case(fire)
    async with fire.reading() as s:
        found = await q.case_by_code(s, f"  {case.code.lower()} ")
        assert found is not None and found.id == case.id
        assert await q.case_by_code(s, "h260310-999") is None


async def test_the_lookup_by_code_searches_the_index_instead_of_scanning(db: Database) -> None:
    seen: list[tuple[str, Any]] = []

    def _capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(db.engine.sync_engine, "before_cursor_execute", _capture)
    async with db.reading() as s:
        assert await q.case_by_code(s, "h260310-001") is None
    event.remove(db.engine.sync_engine, "before_cursor_execute", _capture)
    assert len(seen) == 1
    statement, params = seen[0]
    assert "upper" not in statement.lower()
    async with db.reading() as s:
        conn = await s.connection()
        if db.is_sqlite:
            rows = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
            plan = " ".join(str(row[-1]) for row in rows)
            assert "SEARCH" in plan and "USING INDEX ix_case_code" in plan, plan
            assert "SCAN" not in plan, plan
        else:
            # An empty table is cheapest to scan; forbidding the scan leaves the index, if the
            # statement can use it at all (a scan stays the only plan for upper(code) = ...).
            await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = await conn.exec_driver_sql(f"EXPLAIN {statement}", params)
            plan = " ".join(str(row[0]) for row in rows)
            assert "Index" in plan and "ix_case_code" in plan, plan
            assert "Seq Scan" not in plan, plan


async def _same_second(first: Database, second: Database, n: int) -> list[str]:
    async def report(db: Database) -> str:
        async with db.session() as s:
            return await q.next_case_code(s, day="260310")

    return await asyncio.gather(*(report(first if i % 2 else second) for i in range(n)))


async def test_two_writers_in_the_same_second_never_draw_the_same_code(db_url: str) -> None:
    # Two engines on one file: as two bot instances would be.
    first, second = Database(db_url), Database(db_url)
    codes = await _same_second(first, second, 12)
    assert sorted(codes) == [f"H260310-{i:03d}" for i in range(1, 13)]
    await first.dispose()
    await second.dispose()


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    assert PG_URL is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(PG_URL)
    async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    await upgrade(db)
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}"'))
        await admin.dispose()


@pytest.mark.skipif(PG_URL is None, reason="no PostgreSQL server (GRIDBOT_TEST_PG_URL)")
async def test_postgres_writers_in_the_same_second_never_draw_the_same_code(
    pg: Database,
) -> None:
    other = Database(pg.url)
    codes = await _same_second(pg, other, 12)
    assert sorted(codes) == [f"H260310-{i:03d}" for i in range(1, 13)]
    await other.dispose()
