"""A unit of work (storage.db `Writing`): it commits at the end, rolls back what its body or
its commit broke, lets the next writer have its turn whatever happened, and is the task's
`Database.current()` only while it runs."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from storage.db import Database
from storage.models import ProcessedUpdate


async def _stored(db: Database) -> int:
    async with db.reading() as s:
        return (await s.exec(select(func.count()).select_from(ProcessedUpdate))).one()


async def test_the_body_is_committed_and_joinable_only_inside(db: Database) -> None:
    assert Database.current() is None
    async with db.unit_of_work() as session:
        assert Database.current() is session
        session.add(ProcessedUpdate(bot_id=1, update_id=1))
    assert Database.current() is None
    assert await _stored(db) == 1
    async with db.session() as session:
        assert Database.current() is None, "a plain session is not joinable"
        session.add(ProcessedUpdate(bot_id=1, update_id=2))
    assert await _stored(db) == 2


async def test_a_failing_body_is_rolled_back_and_the_turn_given_back(db: Database) -> None:
    with pytest.raises(RuntimeError, match="handler broke"):
        async with db.unit_of_work() as session:
            session.add(ProcessedUpdate(bot_id=1, update_id=3))
            await session.flush()
            raise RuntimeError("handler broke")
    assert Database.current() is None
    assert await _stored(db) == 0
    # The next writer gets its turn at once (SQLite: the turn was released).
    async with asyncio.timeout(10), db.taking_turns() as session:
        session.add(ProcessedUpdate(bot_id=1, update_id=4))
    assert await _stored(db) == 1


async def test_a_failing_commit_is_rolled_back_and_raised(db: Database) -> None:
    def refuse(_session: object) -> None:
        raise RuntimeError("commit refused")

    with pytest.raises(RuntimeError, match="commit refused"):
        async with db.unit_of_work() as session:
            event.listen(session.sync_session, "before_commit", refuse)
            session.add(ProcessedUpdate(bot_id=1, update_id=5))
            await session.flush()
    assert Database.current() is None
    assert await _stored(db) == 0
    async with asyncio.timeout(10), db.unit_of_work() as session:
        session.add(ProcessedUpdate(bot_id=1, update_id=6))
    assert await _stored(db) == 1


async def test_a_cancelled_body_gives_the_turn_back(db: Database) -> None:
    entered = asyncio.Event()

    async def writer() -> None:
        async with db.unit_of_work() as session:
            session.add(ProcessedUpdate(bot_id=1, update_id=7))
            await session.flush()
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(writer())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(10), db.unit_of_work() as session:
        session.add(ProcessedUpdate(bot_id=1, update_id=8))
    assert await _stored(db) == 1


async def test_a_stop_during_the_commit_gives_the_turn_back(db: Database) -> None:
    committing, hold = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.unit_of_work() as session:
            session.add(ProcessedUpdate(bot_id=1, update_id=9))
            real_commit = session.commit

            async def slow_commit() -> None:
                committing.set()
                await hold.wait()
                await real_commit()

            session.commit = slow_commit  # type: ignore[method-assign]

    task = asyncio.create_task(writer())
    await committing.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with asyncio.timeout(10), db.unit_of_work() as session:
        session.add(ProcessedUpdate(bot_id=1, update_id=10))
    assert await _stored(db) == 1, "the stopped unit wrote nothing"
