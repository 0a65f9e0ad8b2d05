"""The ledger (台账) is append-only in the database itself, not only by the code's habit.

A case and its events are written through the real services; then raw SQL, as a careless
script or a future bug would send it, tries to edit and delete the events. The database's
triggers (migration 0002) refuse, on SQLite and on PostgreSQL, and the rows stay as written.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from domain.cases import CaseAction
from domain.scenario import parse_scenario
from services import cases as svc
from services import reporting
from services.reporting import Draft
from storage.db import Database
from storage.importer import apply_import
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Case
from tests.conftest import scenario_path
from tests.storage.case_world import GUARD, NOW, PIANQU_LEADER, PlainTexts, grid_id, who

PG_URL = os.environ.get("GRIDBOT_TEST_PG_URL")
REFUSED = "case_event is append-only"
TEXTS = PlainTexts()
_no_pg = pytest.mark.skipif(PG_URL is None, reason="no PostgreSQL server (GRIDBOT_TEST_PG_URL)")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=_no_pg),
]


@pytest.fixture
async def fresh(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database of the backend the test is parametrized with."""
    if request.param == "sqlite":
        database = Database(db_url)
        try:
            yield database
        finally:
            await database.dispose()
        return
    assert PG_URL is not None
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(PG_URL)
    async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        await upgrade(database)
        yield database
    finally:
        await database.dispose()
        async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}"'))
        await admin.dispose()


async def _case_with_two_events(db: Database) -> Case:
    """fire-safety-5-level.yaml imported; a guard reports a hazard and the leader accepts it."""
    scenario = parse_scenario(
        scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"), source="fire"
    )
    async with db.session() as s:
        await apply_import(s, scenario, now=NOW)
    async with db.session() as s:
        draft = Draft(
            grid_id=await grid_id(s, "LH-01-1"),
            category="用电隐患",
            description="配电箱电线老化",
            photos=["p1"],
            lat=23.1291,
            lon=113.2644,
            address=None,
            severity="general",
        )
        cfg = await svc.load_config(s)
        case = await reporting.submit(
            s, reporter=await who(s, GUARD), draft=draft, now=NOW, texts=TEXTS, cfg=cfg
        )
        assert isinstance(case, Case) and case.id is not None
    async with db.session() as s:
        leader = svc.actor_of(await who(s, PIANQU_LEADER))
        done = await svc.perform(
            s, case_id=case.id, actor=leader, action=CaseAction.ACCEPT, now=NOW,
            texts=TEXTS, cfg=await svc.load_config(s), params=svc.StepInput(),
        )  # fmt: skip
        assert isinstance(done, svc.Done)
    return case


async def _ledger(db: Database, case_id: int) -> list[tuple[Any, ...]]:
    async with db.reading() as s:
        rows = await s.execute(
            text(
                "SELECT id, case_id, at, actor_id, kind, status_after, grid_id, note "
                "FROM case_event WHERE case_id = :case ORDER BY id"
            ),
            {"case": case_id},
        )
        return [tuple(r) for r in rows]


async def _refused(db: Database, sql: str, **params: Any) -> str:
    """Run one raw statement in a unit of work; return the database's refusal."""
    with pytest.raises(DBAPIError) as refused:
        async with db.session() as s:
            await s.execute(text(sql), params)
    return str(refused.value.orig)


@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
async def test_the_database_refuses_to_edit_or_delete_a_ledger_entry(fresh: Database) -> None:
    case = await _case_with_two_events(fresh)
    assert case.id is not None
    before = await _ledger(fresh, case.id)
    assert [row[4] for row in before] == ["reported", "accepted"]
    first = before[0][0]

    attempts = [
        ("UPDATE case_event SET note = 'rewritten' WHERE id = :id", {"id": first}),
        ("UPDATE case_event SET kind = 'rejected' WHERE case_id = :c", {"c": case.id}),
        ("DELETE FROM case_event WHERE id = :id", {"id": first}),
        ("DELETE FROM case_event", {}),
    ]
    if fresh.engine.dialect.name == "postgresql":
        attempts.append(("TRUNCATE case_event CASCADE", {}))
    for sql, params in attempts:
        assert REFUSED in await _refused(fresh, sql, **params), sql

    assert await _ledger(fresh, case.id) == before
    # The case row itself is the ledger's running sum and may change; new steps still append.
    async with fresh.session() as s:
        edit = "UPDATE \"case\" SET description = 'x' WHERE id = :c"
        await s.execute(text(edit), {"c": case.id})
    assert await _ledger(fresh, case.id) == before


def _downgrade_to(db: Database, revision: str) -> Any:
    config = alembic_config(db.url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    return run


@pytest.mark.parametrize("fresh", BACKENDS, indirect=True)
async def test_migration_0002_downgrades_and_upgrades_again(fresh: Database) -> None:
    case = await _case_with_two_events(fresh)
    assert case.id is not None
    async with fresh.engine.begin() as conn:
        await conn.run_sync(_downgrade_to(fresh, "0001"))
    assert await current_revision(fresh) == "0001"
    # Below 0002 the guard is gone: the same edit the triggers refuse now goes through,
    # which is what the test above would meet without them.
    async with fresh.session() as s:
        edit = "UPDATE case_event SET note = 'edited' WHERE case_id = :c"
        await s.execute(text(edit), {"c": case.id})
    async with fresh.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    assert "quarantined_update" not in tables

    await upgrade(fresh)
    assert await current_revision(fresh) == head_revision()
    assert REFUSED in await _refused(fresh, "DELETE FROM case_event WHERE case_id = :c", c=case.id)
    async with fresh.reading() as s:
        kept = (await s.execute(text("SELECT count(*) FROM case_event"))).scalar_one()
        quarantine = (await s.execute(text("SELECT count(*) FROM quarantined_update"))).scalar_one()
    assert (kept, quarantine) == (2, 0)
