"""Fixtures for the admin and group service tests: a fresh migrated database per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from storage.db import Database
from storage.models import Deployment, Grid, Person, Role

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = 5_000_000_001


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def seeded(db: Database) -> Database:
    """Two roles, level labels, and a small tree: D ─ S1 ─ C1 ─ B1, D ─ S2."""
    from services.admin import add_grid

    async with db.session() as s:
        s.add(Deployment(levels=["区", "街道", "社区", "片区", "楼院"]))
        s.add(Role(key="leader", label="网格长", is_leader=True))
        s.add(Role(key="member", label="网格员", quota_period="month", quota_count=5))
        await s.flush()
        for parent, code, name in [
            ("-", "D", "某区"),
            ("D", "S1", "一街道"),
            ("S1", "C1", "一社区"),
            ("C1", "B1", "一片区"),
            ("D", "S2", "二街道"),
        ]:
            await add_grid(s, parent_code=parent, code=code, name=name, actor_tg_id=ADMIN)
        s.add(Person(tg_id=7_500_000_001, name="张三", username="zhangsan"))
    return db


async def grid(db: Database, code: str) -> Grid:
    from storage.grids import grid_by_code

    async with db.session() as s:
        found = await grid_by_code(s, code, include_archived=True)
        assert found is not None
        return found
