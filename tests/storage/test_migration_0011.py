"""Migration 0011: the outbox row's forum topic (`delivery.message_thread_id`).

It only adds a nullable column, as a rolling upgrade needs: rows queued before it, and rows
an instance still on the old code writes after it, go to the General topic (NULL); a row can
carry a thread; the column is the model's; downgrading takes it away again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import select

from storage.db import Database
from storage.migrate import alembic_config, current_revision, upgrade
from storage.models import Delivery

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
OLD_ROW = text(
    "INSERT INTO delivery (key, kind, chat_id, text, urgent, status, attempts, not_before,"
    " created_at) VALUES (:key, 'case_card', -100, 'card', false, 'pending', 0, :now, :now)"
)


async def _migrate(db: Database, verb: str, revision: str) -> None:
    config = alembic_config(db.url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def _columns(db: Database) -> dict[str, str]:
    def read(connection: Connection) -> dict[str, str]:
        found = sa.inspect(connection).get_columns("delivery")
        return {c["name"]: str(c["type"]) for c in found}

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def test_thread_column_added_without_touching_old_rows(
    new_db_url: Callable[[str], str],
) -> None:
    db = Database(new_db_url("m0011"))
    await _migrate(db, "upgrade", "0010")
    async with db.engine.begin() as conn:
        await conn.execute(OLD_ROW, {"key": "before", "now": NOW})
    assert "message_thread_id" not in await _columns(db)

    await upgrade(db)
    assert await current_revision(db) == "0011"
    assert (await _columns(db))["message_thread_id"] == "BIGINT"
    async with db.engine.begin() as conn:  # the old code's insert, naming no thread
        await conn.execute(OLD_ROW, {"key": "old code", "now": NOW})
    async with db.session() as s:
        s.add(
            Delivery(key="topic", kind="case_card", chat_id=-100, text="card", message_thread_id=42)
        )
    async with db.reading() as s:
        rows = {d.key: d.message_thread_id for d in (await s.exec(select(Delivery))).all()}
    assert rows == {"before": None, "old code": None, "topic": 42}

    await _migrate(db, "downgrade", "0010")
    assert "message_thread_id" not in await _columns(db)
    async with db.engine.connect() as conn:
        kept = (await conn.execute(text("SELECT count(*) FROM delivery"))).scalar_one()
    assert kept == 3
    await db.dispose()
