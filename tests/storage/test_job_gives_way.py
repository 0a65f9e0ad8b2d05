"""A chasing job computes in the handlers' event loop, so between two slices of computing it
gives way to the updates in flight (storage.turns.lull): an update holds SQLite's write lock
from its first statement to its commit, and a slice the job computed while the update waited
on the driver would be added to it and to every update queued behind it."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import func, select

from services.chasing import job as chasing_job
from services.chasing import run_daily
from storage.db import Database
from storage.models import Person, ProcessedUpdate
from storage.turns import lull
from tests.storage.test_chasing_chunks import NAG, RULES, TEXTS, city

SQLITE_ONLY = "turns are SQLite's one writer: on PostgreSQL no update waits for a turn"
GUARD_S = 10.0
"""Only a guard against a hang: every wait below ends on an event long before."""


@pytest.mark.sqlite_only(SQLITE_ONLY)
async def test_lull_waits_for_the_updates_in_flight_not_for_later_ones(db: Database) -> None:
    first_in, first_go, second_go = asyncio.Event(), asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def update(n: int, entered: asyncio.Event | None, go: asyncio.Event) -> None:
        async with db.unit_of_work() as s:
            s.add(ProcessedUpdate(bot_id=2, update_id=n))
            await s.flush()
            if entered is not None:
                entered.set()
            await go.wait()
        order.append(f"update {n}")

    first = asyncio.create_task(update(1, first_in, first_go))
    await first_in.wait()
    lulled = asyncio.create_task(lull())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not lulled.done()  # the first update is still in flight
    second = asyncio.create_task(update(2, None, second_go))  # arrives after the job asked
    for _ in range(5):
        await asyncio.sleep(0)
    first_go.set()
    await asyncio.wait_for(lulled, GUARD_S)  # not held up by the second one
    order.append("job")
    second_go.set()
    await asyncio.wait_for(asyncio.gather(first, second), GUARD_S)
    assert order == ["update 1", "job", "update 2"]


@pytest.mark.sqlite_only(SQLITE_ONLY)
async def test_lull_inside_a_write_turn_does_not_wait_for_the_updates_behind_it(
    db: Database,
) -> None:
    async def update() -> None:
        async with db.unit_of_work() as s:
            s.add(ProcessedUpdate(bot_id=2, update_id=1))

    async with db.taking_turns(background=True) as s:
        s.add(ProcessedUpdate(bot_id=1, update_id=1))
        waiting = asyncio.create_task(update())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()  # it waits for this turn
        async with asyncio.timeout(GUARD_S):  # in this task: wait_for would make another
            await lull()  # and this turn does not wait for it
    await asyncio.wait_for(waiting, GUARD_S)


@pytest.mark.sqlite_only(SQLITE_ONLY)
async def test_the_nag_job_computes_nothing_while_an_update_waits_on_the_database(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job gives way after every slice of its reads and at every row of its loops here
    (no slice is too short): from its first slice on, it waits while an update that came in
    before it runs five statements, and goes on once that update has committed."""
    await city(db)
    monkeypatch.setattr(chasing_job, "SLICE_S", 0.0)
    monkeypatch.setattr(chasing_job, "CHECK_EVERY", 1)
    breaths = 0
    computing = asyncio.Event()
    real_breathe = chasing_job.breathe

    async def counted() -> None:
        nonlocal breaths
        breaths += 1
        computing.set()
        await real_breathe()

    monkeypatch.setattr(chasing_job, "breathe", counted)
    async with db.unit_of_work() as s:
        s.add(ProcessedUpdate(bot_id=2, update_id=1))
        await s.flush()
        job = asyncio.create_task(run_daily(db, now=NAG, rules=RULES, texts=TEXTS))
        await asyncio.wait_for(computing.wait(), GUARD_S)
        at_first_slice = breaths
        for _ in range(5):
            (await s.exec(select(func.count()).select_from(Person))).one()
        breaths_while_update_ran = breaths - at_first_slice
    outcome = await asyncio.wait_for(job, GUARD_S)
    assert breaths_while_update_ran == 0
    assert breaths > 10  # the job went on, slice after slice, afterwards
    assert any(k.startswith("nag:patrol:") for k in outcome.queued)
