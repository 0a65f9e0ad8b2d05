"""Schema versions, UTC timestamps, WAL mode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from storage.db import Database
from storage.migrate import SchemaBehind, current_revision, ensure_current, head_revision, upgrade
from storage.models import AuditEntry


async def test_start_up_refuses_a_database_that_is_behind(new_db_url: Callable[[str], str]) -> None:
    db = Database(new_db_url("old"))
    with pytest.raises(SchemaBehind, match="gridbot db upgrade"):
        await ensure_current(db)
    await upgrade(db)
    await ensure_current(db)
    assert await current_revision(db) == head_revision()
    await db.dispose()


async def test_times_come_back_aware_utc(db: Database) -> None:
    beijing = timezone(timedelta(hours=8))
    async with db.session() as session:
        session.add(AuditEntry(action="t", at=datetime(2026, 3, 10, 9, 30, tzinfo=beijing)))
    async with db.reading() as session:
        entry = (await session.exec(select(AuditEntry))).one()
    assert entry.at == datetime(2026, 3, 10, 1, 30, tzinfo=UTC)
    assert entry.at.tzinfo is not None and entry.at.utcoffset() == timedelta(0)


async def test_a_naive_time_is_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.session() as session:
            session.add(AuditEntry(action="t", at=datetime(2026, 3, 10, 9, 30)))


@pytest.mark.sqlite_only("reads SQLite's own settings (PRAGMA journal_mode, busy_timeout)")
async def test_sqlite_runs_in_wal_with_a_busy_timeout(db: Database) -> None:
    async with db.reading() as session:
        mode = (await session.execute(text("PRAGMA journal_mode"))).scalar_one()
        timeout = (await session.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert str(mode).lower() == "wal"
    assert int(timeout) >= 5000


async def test_replay_protection_forgets_updates_after_a_week(db: Database) -> None:
    from storage.housekeeping import forget_old_updates
    from storage.models import ProcessedUpdate

    now = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    async with db.session() as session:
        session.add(ProcessedUpdate(bot_id=1, update_id=1, at=now - timedelta(days=8)))
        session.add(ProcessedUpdate(bot_id=1, update_id=2, at=now - timedelta(days=6)))
    async with db.session() as session:
        assert await forget_old_updates(session, now=now) == 1
    async with db.reading() as session:
        kept = (await session.exec(select(ProcessedUpdate.update_id))).all()
    assert list(kept) == [2]
