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
