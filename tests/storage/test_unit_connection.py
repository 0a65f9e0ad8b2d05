"""The connection kept for a unit of work's transaction (storage.unit_connection.
transaction_connection): what `session.connection()` answers, for as long as the transaction
lasts; after a commit or a rollback the next transaction's, and after a failed flush the
session's own refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, PendingRollbackError

from storage.db import Database
from storage.models import Person
from storage.unit_connection import transaction_connection

COUNT_A_DAY = text("INSERT INTO case_counter (day, issued) VALUES ('260310', 4)")


async def test_the_kept_connection_is_the_sessions_in_each_transaction(db: Database) -> None:
    async with db.session() as s:
        first = await transaction_connection(s)
        assert first is await s.connection()
        assert await transaction_connection(s) is first
        await s.commit()
        await s.execute(text("SELECT 1"))  # the next transaction, begun by something else
        after_commit = await transaction_connection(s)
        assert after_commit is await s.connection()
        assert after_commit.sync_connection is not first.sync_connection
        await s.rollback()
        await s.execute(text("SELECT 1"))
        after_rollback = await transaction_connection(s)
        assert after_rollback is await s.connection()
        assert after_rollback.sync_connection is not after_commit.sync_connection
        # It is the transaction's: what is written on it is read back through the session.
        await after_rollback.execute(COUNT_A_DAY)
        read = await s.execute(text("SELECT issued FROM case_counter WHERE day = '260310'"))
        assert read.scalar_one() == 4


async def test_after_a_failed_flush_it_is_refused_as_the_session_refuses(db: Database) -> None:
    async with db.session() as s:
        await transaction_connection(s)
        s.add(Person(tg_id=8, name="a"))
        s.add(Person(tg_id=8, name="b"))
        with pytest.raises(IntegrityError):
            await s.flush()
        with pytest.raises(PendingRollbackError):
            await s.connection()
        with pytest.raises(PendingRollbackError):
            await transaction_connection(s)
        await s.rollback()
        assert await transaction_connection(s) is await s.connection()
