"""The nag job at the city's scale of locking: it reads in a read-only unit of work and
writes its pushes a chunk per short transaction, and a run cut off after its first chunk and
run again ends with exactly the outbox (and the climbs) an uninterrupted run leaves: nothing
missing, nothing twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from bot.i18n import Translator
from domain.cases import CaseStatus
from domain.scenario import parse_scenario
from services.chasing import ChasingTexts, Rules, run_daily
from storage.db import Database
from storage.importer import apply_import
from storage.migrate import upgrade
from storage.models import Case, CaseEvent, Delivery, Grid, Person
from tests.conftest import scenario_path
from tests.storage.case_world import GUARD, NOW, SHANGHAI, PlainTexts

NAG = datetime(2026, 3, 10, 9, 30, tzinfo=SHANGHAI)  # a Tuesday, at the nag time
CHUNK = 3
RULES = Rules(tz=SHANGHAI)
TEXTS = ChasingTexts(t=Translator("zh").t, default_language="zh", cases=PlainTexts())


class Cut(Exception):
    """The process dying between two chunks."""


async def city(db: Database) -> None:
    """fire-safety-5-level.yaml with four cases the job acts on: one overdue for days (it
    climbs), one due tomorrow, one report waiting 3 hours (its leader is reminded) and one
    waiting 30 hours (it climbs); the guards' quotas give the patrol nags and shortfalls."""
    scenario = parse_scenario(
        scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"), source="fire"
    )
    async with db.session() as s:
        await apply_import(s, scenario, now=NOW)
    async with db.session() as s:
        leaf = (await s.exec(select(Grid).where(Grid.code == "LH-02-1"))).one()
        block = (await s.exec(select(Grid).where(Grid.code == "ZJ-01-2"))).one()
        guard = (await s.exec(select(Person).where(Person.tg_id == GUARD))).one()
        assert leaf.id and block.id and guard.id
        reporter = guard.id

        def case(n: int, grid_id: int, status: CaseStatus, created: datetime, **kw: Any) -> Case:
            return Case(
                code=f"T{n:04d}",
                grid_id=grid_id,
                origin_grid_id=grid_id,
                reporter_id=reporter,
                category="消防",
                description=f"隐患{n}",
                severity="一般",
                status=status.value,
                created_at=created,
                **kw,
            )

        long_ago = NAG - timedelta(days=10)
        s.add(case(1, leaf.id, CaseStatus.ASSIGNED, long_ago, assignee_person_id=guard.id,
                   assigned_at=long_ago, deadline_at=NAG - timedelta(days=6)))  # fmt: skip
        s.add(case(2, leaf.id, CaseStatus.IN_PROGRESS, long_ago, assignee_person_id=guard.id,
                   assigned_at=long_ago, deadline_at=NAG + timedelta(days=1)))  # fmt: skip
        s.add(case(3, block.id, CaseStatus.REPORTED, NAG - timedelta(hours=3)))
        s.add(case(4, block.id, CaseStatus.REPORTED, NAG - timedelta(hours=30)))


Row = tuple[str, str, int, str, bool, datetime]


async def outbox(db: Database) -> list[Row]:
    async with db.reading() as s:
        rows = (await s.exec(select(Delivery).order_by(col(Delivery.key)))).all()
    return [(d.key, d.kind, d.chat_id, d.text, d.urgent, d.not_before) for d in rows]


async def climbs(db: Database) -> list[tuple[str, str, int, int]]:
    async with db.reading() as s:
        cases = (await s.exec(select(Case).order_by(col(Case.code)))).all()
        events = (await s.exec(select(CaseEvent).where(CaseEvent.kind == "escalated"))).all()
    per_case = {c.id: 0 for c in cases}
    for e in events:
        per_case[e.case_id] += 1
    return [(c.code, c.status, c.escalation_count, per_case[c.id]) for c in cases]


@dataclass
class Unit:
    read_only: bool
    sql: list[str] = field(default_factory=list)


@contextmanager
def units_of_work(db: Database) -> Iterator[list[Unit]]:
    """Every transaction begun on the engine, read-only or not, with its statements."""
    units: list[Unit] = []
    current: dict[int, Unit] = {}

    def begin(conn: Any) -> None:
        unit = Unit(bool(conn.get_execution_options().get("gridbot_read_only", False)))
        units.append(unit)
        current[id(conn.connection)] = unit

    def statement(conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        unit = current.get(id(conn.connection))
        if unit is not None and not sql.lstrip().upper().startswith("BEGIN"):
            unit.sql.append(" ".join(sql.split()))

    sync = db.engine.sync_engine
    event.listen(sync, "begin", begin)
    event.listen(sync, "before_cursor_execute", statement)
    try:
        yield units
    finally:
        event.remove(sync, "begin", begin)
        event.remove(sync, "before_cursor_execute", statement)


def cut_after_first() -> Callable[[int], Any]:
    async def after(written: int) -> None:
        assert written == CHUNK
        raise Cut

    return after


async def test_a_run_cut_off_after_a_chunk_and_run_again_queues_nothing_twice(
    db: Database, new_db_url: Callable[[str], str]
) -> None:
    twin = Database(new_db_url("twin"))
    try:
        await upgrade(twin)
        for d in (db, twin):
            await city(d)
        whole = await run_daily(twin, now=NAG, rules=RULES, texts=TEXTS, chunk=CHUNK)
        expected, expected_climbs = await outbox(twin), await climbs(twin)
    finally:
        await twin.dispose()
    nags = [k for k in whole.queued if k.startswith("nag:")]
    assert len(nags) > 3 * CHUNK  # several chunks
    assert sorted(whole.escalated) and len(whole.escalated) == 2  # T0001 and T0004 climbed
    assert [c[1:] for c in expected_climbs] == [
        (CaseStatus.ACCEPTED.value, 1, 1),
        (CaseStatus.IN_PROGRESS.value, 0, 0),
        (CaseStatus.REPORTED.value, 0, 0),
        (CaseStatus.REPORTED.value, 1, 1),
    ]

    before = len(await outbox(db))
    with pytest.raises(Cut):
        await run_daily(
            db, now=NAG, rules=RULES, texts=TEXTS, chunk=CHUNK, after_chunk=cut_after_first()
        )
    cut_short = await outbox(db)
    # the climbs (with their cards and notices) and the first chunk are in; the rest is not
    assert await climbs(db) == expected_climbs
    assert {r[0] for r in cut_short} < {r[0] for r in expected}
    assert len([r for r in cut_short if r[1] in ("nag", "rollcall")]) == CHUNK
    assert len(cut_short) > before

    again = await run_daily(db, now=NAG, rules=RULES, texts=TEXTS, chunk=CHUNK)
    assert again.escalated == []  # nothing climbs a second level
    assert not {r[0] for r in cut_short} & set(again.queued)  # nothing queued twice
    assert await outbox(db) == expected  # the same rows, texts and times as one whole run
    assert await climbs(db) == expected_climbs

    third = await run_daily(db, now=NAG, rules=RULES, texts=TEXTS, chunk=CHUNK)
    assert third.queued == [] and third.escalated == []


async def test_the_job_reads_in_a_read_only_unit_and_writes_in_short_chunks(
    db: Database,
) -> None:
    await city(db)
    between: list[int] = []

    async def a_handler_writes(written: int) -> None:
        # between two chunks the write lock is free: a handler's unit of work commits
        # (were it still held, SQLite would keep this waiting on its busy timeout)
        async with db.session() as s:
            person = (await s.exec(select(Person).where(Person.tg_id == GUARD))).one()
            person.name = f"改名{written}"
            s.add(person)
        between.append(written)

    with units_of_work(db) as units:
        outcome = await run_daily(
            db, now=NAG, rules=RULES, texts=TEXTS, chunk=CHUNK, after_chunk=a_handler_writes
        )
    pushed = [k for k in outcome.queued if not k.startswith("notice:escalated:")]
    assert between == [min(n, len(pushed)) for n in range(CHUNK, len(pushed) + CHUNK, CHUNK)]

    job = [u for u in units if u.sql]
    reads = [u for u in job if u.read_only]
    writes = [u for u in job if not u.read_only]
    # the city is read once, read-only: the tree, the holdings, the patrol counts, the cases
    assert len(reads) == 1
    assert any("FROM patrol" in s for s in reads[0].sql)
    assert not any(s.split()[0] in ("INSERT", "UPDATE", "DELETE") for s in reads[0].sql)
    # no write transaction reads the city: each is a climb (the case's own rows, its
    # cards and notices) or one chunk of pushes
    for unit in writes:
        assert not any("FROM patrol" in s for s in unit.sql)
    climbs_ = [u for u in writes if any(s.startswith('UPDATE "case"') for s in u.sql)]
    # a climb queues its cards and notices with ON CONFLICT too, one by one
    chunks = [u for u in writes if u not in climbs_ and any("ON CONFLICT" in s for s in u.sql)]
    assert len(chunks) == -(-len(pushed) // CHUNK)
    for unit in chunks:
        assert len(unit.sql) == 2  # the keys already there, then one multi-row INSERT
    assert len(climbs_) == len(outcome.escalated) == 2
    for unit in climbs_:
        assert len(unit.sql) < 40  # one case's climb (22 statements today), not the city's
