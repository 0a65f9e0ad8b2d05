"""The same storage on a real PostgreSQL server (the city-scale backend).

`python3 dev.py test` (and so CI) starts a throwaway server and sets GRIDBOT_TEST_PG_URL;
without PostgreSQL on the machine these tests are skipped, and the run says so.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from domain.scenario import parse_scenario
from storage.db import Database
from storage.grids import grid_by_code, move_grid, subtree
from storage.importer import apply_import
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import AuditEntry, Grid, Person
from tests.conftest import scenario_path

PG_URL = os.environ.get("GRIDBOT_TEST_PG_URL")
pytestmark = pytest.mark.skipif(PG_URL is None, reason="no PostgreSQL server (GRIDBOT_TEST_PG_URL)")
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


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


async def _import(db: Database, name: str) -> list[str]:
    scenario = parse_scenario(scenario_path(name).read_text(encoding="utf-8"), source=name)
    async with db.session() as session:
        result = await apply_import(session, scenario, now=NOW)
    return result.changes.summary_lines()


async def test_migrations_reach_head(pg: Database) -> None:
    assert await current_revision(pg) == head_revision()


async def test_import_twice_and_move_a_subtree(pg: Database) -> None:
    await _import(pg, "zijingshan-party-grid.yaml")
    assert await _import(pg, "zijingshan-party-grid.yaml") == ["no changes"]
    async with pg.session() as session:
        assert (await session.exec(select(func.count()).select_from(Person))).one() == 462
        block = await grid_by_code(session, "ZJS-02-1")
        new_parent = await grid_by_code(session, "ZJS-01")
        assert block is not None and new_parent is not None
        await move_grid(session, block, new_parent)
        under = [g.code for g in await subtree(session, new_parent)]
        assert "ZJS-02-1" in under
        assert block.path.startswith(new_parent.path) and block.level == new_parent.level + 1


async def test_fifty_concurrent_writers(pg: Database) -> None:
    async def write(i: int) -> None:
        async with pg.session() as session:
            session.add(AuditEntry(actor_tg_id=7_500_000_000 + i, action="test", target=str(i)))

    await asyncio.gather(*(write(i) for i in range(50)))
    async with pg.reading() as session:
        assert (await session.exec(select(func.count()).select_from(AuditEntry))).one() == 50


async def test_big_telegram_ids_fit(pg: Database) -> None:
    async with pg.session() as session:
        session.add(Person(tg_id=7_999_999_999, name="big"))
        grid = Grid(code="G", name="g", level=1, group_chat_id=-1_009_876_543_210)
        session.add(grid)
    async with pg.reading() as session:
        g = (await session.exec(select(Grid).where(Grid.code == "G"))).one()
        assert g.group_chat_id == -1_009_876_543_210


async def test_one_scheduler_at_a_time_through_an_advisory_lock(pg: Database) -> None:
    from scheduler.lock import AdvisoryLock, lock_for

    first, second = lock_for(pg, "scheduler"), Database(pg.url)
    assert isinstance(first, AdvisoryLock)
    rival = lock_for(second, "scheduler")
    other_job = lock_for(second, "notifier")
    try:
        assert await first.acquire() is True
        assert await first.acquire() is True  # held already: still ours
        assert await rival.acquire() is False  # a second instance stays idle
        assert await other_job.acquire() is True  # another lock name is independent
        await first.release()
        assert await rival.acquire() is True  # released: the next one takes over
    finally:
        await rival.release()
        await other_job.release()
        await first.release()
        await second.dispose()


async def test_the_lock_goes_with_a_dead_connection(pg: Database) -> None:
    from scheduler.lock import AdvisoryLock

    holder, rival = AdvisoryLock(pg, "scheduler"), AdvisoryLock(pg, "scheduler")
    assert await holder.acquire()
    assert not await rival.acquire()
    # The process holding it dies: its connection ends, and the server drops the lock.
    assert holder._conn is not None
    await holder._conn.invalidate()
    holder._conn = None
    assert await rival.acquire()
    await rival.release()
