"""Writers of one process take turns (storage.db `taking_turns`): an update's unit of work
that arrives while a job streams short write transactions gets the very next turn, instead
of polling SQLite's lock from its busy handler and missing every free moment."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import func, select

from storage.db import Database
from storage.models import ProcessedUpdate


@pytest.mark.sqlite_only("turns are SQLite's one writer: PostgreSQL writers do not wait")
async def test_an_update_gets_the_next_turn_behind_a_stream_of_job_transactions(
    db: Database,
) -> None:
    started = asyncio.Event()
    seen_by_update: list[int] = []

    async def job() -> None:
        for n in range(1, 21):
            async with db.taking_turns() as s:
                s.add(ProcessedUpdate(bot_id=1, update_id=n))
                await s.flush()
                started.set()

    async def update() -> None:
        await started.wait()
        async with db.unit_of_work() as s:
            done = (await s.exec(select(func.count()).select_from(ProcessedUpdate))).one()
            seen_by_update.append(int(done))
            s.add(ProcessedUpdate(bot_id=2, update_id=1))

    await asyncio.gather(job(), update())
    # it waited for the transaction in progress, not for the rest of the stream
    assert seen_by_update == [1]
    async with db.reading() as s:
        assert (await s.exec(select(func.count()).select_from(ProcessedUpdate))).one() == 21


@pytest.mark.sqlite_only("turns are SQLite's one writer: PostgreSQL writers do not wait")
async def test_an_update_goes_before_a_job_that_asked_earlier(db: Database) -> None:
    """While one update writes, the job asks for its turn, then a second update does: the
    second update writes first (a job's write waits for the updates, not the reverse)."""
    first_in = asyncio.Event()
    go_on = asyncio.Event()
    order: list[str] = []

    async def first_update() -> None:
        async with db.unit_of_work() as s:
            s.add(ProcessedUpdate(bot_id=2, update_id=1))
            await s.flush()
            first_in.set()
            await go_on.wait()
        order.append("update 1")

    async def job() -> None:
        await first_in.wait()
        async with db.taking_turns(background=True) as s:
            s.add(ProcessedUpdate(bot_id=1, update_id=1))
        order.append("job")

    async def second_update() -> None:
        await first_in.wait()
        for _ in range(3):  # the job asks first
            await asyncio.sleep(0)
        async with db.unit_of_work() as s:
            s.add(ProcessedUpdate(bot_id=2, update_id=2))
        order.append("update 2")

    async def release() -> None:
        await first_in.wait()
        for _ in range(6):  # both have asked
            await asyncio.sleep(0)
        go_on.set()

    await asyncio.gather(first_update(), job(), second_update(), release())
    assert order == ["update 1", "update 2", "job"]
