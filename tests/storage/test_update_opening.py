"""An update's first statement: it claims the update once, and reads the same state and the
same speaker as the plain queries do, on SQLite and (when GRIDBOT_TEST_PG_URL is set) on
PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import text
from sqlmodel import select

from storage.db import Database
from storage.deployment_row import deployment_to_read
from storage.fsm import DatabaseStorage
from storage.migrate import upgrade
from storage.models import Deployment, Grid, Membership, Person
from storage.people import speaker
from storage.speaker_row import attach_person
from storage.sql_tally import SqlTally
from storage.types import utcnow
from storage.update_opening import open_update
from tests.storage.patrol_db import import_fire_safety

PG_URL = os.environ.get("GRIDBOT_TEST_PG_URL")
BOT = 7000000001
LEADER_AND_STAFF = 800000020  # 林和东书记, leader of LH-01
GUARD = 810000001
CHIEF = 800000001  # 区长, an admin by settings here
STRANGER = 7500000123


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db(request: pytest.FixtureRequest, db_url: str) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        db = Database(db_url)
        await import_fire_safety(db)
        yield db
        await db.dispose()
        return
    if PG_URL is None:
        pytest.skip("no PostgreSQL server (GRIDBOT_TEST_PG_URL)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(PG_URL)
    async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = Database(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    await upgrade(db)
    await import_fire_safety(db)
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}"'))
        await admin.dispose()


async def test_an_update_is_claimed_once(any_db: Database) -> None:
    async with any_db.session() as s:
        first = await open_update(s, bot_id=BOT, update_id=41, fsm_key=None, tg_id=None)
    async with any_db.session() as s:
        again = await open_update(s, bot_id=BOT, update_id=41, fsm_key=None, tg_id=None)
        other_bot = await open_update(s, bot_id=BOT + 1, update_id=41, fsm_key=None, tg_id=None)
    assert first is not None and again is None and other_bot is not None


async def test_two_transactions_racing_on_one_update_one_wins(any_db: Database) -> None:
    winner_claimed = asyncio.Event()
    release = asyncio.Event()
    outcomes: list[str] = []

    async def first() -> None:
        async with any_db.session() as s:
            got = await open_update(s, bot_id=BOT, update_id=42, fsm_key=None, tg_id=GUARD)
            outcomes.append("first claimed" if got else "first skipped")
            winner_claimed.set()
            await release.wait()

    async def second() -> None:
        await winner_claimed.wait()
        async with any_db.session() as s:
            got = await open_update(s, bot_id=BOT, update_id=42, fsm_key=None, tg_id=GUARD)
            outcomes.append("second claimed" if got else "second skipped")

    racing = asyncio.gather(first(), second())
    await winner_claimed.wait()
    for _ in range(20):  # the second one is now waiting on the first one's transaction
        await asyncio.sleep(0)
    assert outcomes == ["first claimed"]
    release.set()
    await racing
    assert outcomes == ["first claimed", "second skipped"]


async def test_a_rolled_back_claim_leaves_the_update_to_the_next_one(any_db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with any_db.session() as s:
            assert await open_update(s, bot_id=BOT, update_id=43, fsm_key=None, tg_id=None)
            raise RuntimeError("the handler failed")
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=43, fsm_key=None, tg_id=None)


@pytest.mark.parametrize("tg_id", [LEADER_AND_STAFF, GUARD, CHIEF, STRANGER])
async def test_the_speaker_is_who_the_plain_query_says(any_db: Database, tg_id: int) -> None:
    admins = frozenset({CHIEF})
    async with any_db.session() as s:
        plain = await speaker(s, tg_id, default_language="zh", admin_ids=admins)
    async with any_db.session() as s:
        opening = await open_update(s, bot_id=BOT, update_id=tg_id, fsm_key=None, tg_id=tg_id)
        assert opening is not None
        if plain is None:
            assert opening.person is None and opening.holdings == ()
            return
        person, me = plain
        assert opening.person is not None
        attached = attach_person(s, opening.person)
        assert attached.model_dump() == person.model_dump()
        assert opening.holdings == me.holdings
        assert me.holdings, "everyone chosen here holds a role"


async def test_an_archived_grid_grants_nothing_and_a_change_is_written(any_db: Database) -> None:
    async with any_db.session() as s:
        plain = await speaker(s, GUARD, default_language="zh", admin_ids=frozenset())
        assert plain is not None
        grid_id = plain[1].holdings[0].grid_id
        grid = (await s.exec(select(Grid).where(Grid.id == grid_id))).one()
        grid.archived_at = utcnow()
        s.add(grid)
    async with any_db.session() as s:
        opening = await open_update(s, bot_id=BOT, update_id=44, fsm_key=None, tg_id=GUARD)
        assert opening is not None and opening.person is not None
        assert all(h.grid_id != grid_id for h in opening.holdings)
        # The attached person is written by the flush, as a loaded one would be.
        attach_person(s, opening.person).language = "en"
    async with any_db.reading() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == GUARD))).one()
        assert person.language == "en"
        held = await s.exec(select(Membership).where(Membership.person_id == person.id))
        assert any(m.grid_id == grid_id for m in held), "the membership itself is kept"


async def test_the_state_comes_with_the_claim(any_db: Database) -> None:
    storage = DatabaseStorage(any_db)
    key = StorageKey(bot_id=BOT, chat_id=GUARD, user_id=GUARD)
    await storage.set_state(key, "Report:photos")
    await storage.set_data(key, {"photos": ["AgAD1"], "category": "用电隐患"})
    name = storage.key_name(key)
    async with any_db.session() as s:
        opening = await open_update(s, bot_id=BOT, update_id=45, fsm_key=name, tg_id=None)
        missing = await open_update(
            s, bot_id=BOT, update_id=46, fsm_key=name + ":other", tg_id=None
        )
    assert opening is not None and missing is not None
    assert opening.fsm_state == "Report:photos"
    assert opening.fsm_data == {"photos": ["AgAD1"], "category": "用电隐患"}
    assert missing.fsm_state is None and missing.fsm_data is None


async def _loaded_deployment(db: Database) -> dict[str, Any]:
    """The deployment's row as an ORM load gives it, in a session of its own."""
    async with db.reading() as s:
        deployment = await s.get(Deployment, 1)
        assert deployment is not None
        return deployment.model_dump()


async def test_the_deployment_comes_with_the_claim(any_db: Database) -> None:
    loaded = await _loaded_deployment(any_db)
    assert loaded["categories"] and loaded["levels"], "the import filled the JSON columns"
    tally = SqlTally.install(any_db.engine)
    try:
        async with any_db.session() as s:
            assert await open_update(s, bot_id=BOT, update_id=47, fsm_key=None, tg_id=None)
            with SqlTally.counting() as cost:
                deployment = await s.get(Deployment, 1)
                again = await s.get(Deployment, 1)
    finally:
        tally.remove()
    assert cost.statements == 0, cost.sql
    assert deployment is not None and again is deployment
    assert deployment.model_dump() == loaded
    dumped = deployment.model_dump()
    # The same types as a load gives: a boolean is a bool, not SQLite's 0 or 1.
    assert [type(dumped[k]) for k in loaded] == [type(v) for v in loaded.values()]


async def test_a_changed_deployment_is_the_next_updates(any_db: Database) -> None:
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=48, fsm_key=None, tg_id=None)
        deployment = await s.get(Deployment, 1)
        assert deployment is not None
        # Changed in place, as no writer should: the next update's row is still the stored one.
        deployment.levels.append("楼栋")
        deployment.nag_time = "10:15"  # a change is written by the flush, as a loaded row's
        deployment.patrol_companions_count = True
    loaded = await _loaded_deployment(any_db)
    assert loaded["nag_time"] == "10:15" and loaded["patrol_companions_count"] is True
    assert "楼栋" not in loaded["levels"], "in-place changes of JSON are not tracked"
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=49, fsm_key=None, tg_id=None)
        deployment = await s.get(Deployment, 1)
        assert deployment is not None and deployment.model_dump() == loaded
        deployment.nag_time = "09:30"
        deployment.patrol_companions_count = False
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=50, fsm_key=None, tg_id=None)
        deployment = await s.get(Deployment, 1)
        assert deployment is not None
        assert deployment.nag_time == "09:30" and deployment.patrol_companions_count is False


async def test_no_deployment_row_no_deployment(any_db: Database) -> None:
    async with any_db.session() as s:
        deployment = await s.get(Deployment, 1)
        assert deployment is not None
        await s.delete(deployment)
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=51, fsm_key=None, tg_id=None)
        assert await s.get(Deployment, 1) is None


async def test_the_deployment_to_read_is_the_gets_without_the_session(any_db: Database) -> None:
    loaded = await _loaded_deployment(any_db)
    tally = SqlTally.install(any_db.engine)
    shared: list[Deployment] = []
    try:
        for update_id in (52, 53):
            async with any_db.session() as s:
                assert await open_update(
                    s, bot_id=BOT, update_id=update_id, fsm_key=None, tg_id=None
                )
                with SqlTally.counting() as cost:
                    read = await deployment_to_read(s)
                assert cost.statements == 0, cost.sql
                assert read is not None and read.model_dump() == loaded
                assert read not in s, "read, not held: the session has nothing to write"
                shared.append(read)
    finally:
        tally.remove()
    assert shared[0] is shared[1], "one instance for the updates that read the same row"
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=54, fsm_key=None, tg_id=None)
        writing = await s.get(Deployment, 1)
        assert writing is not None
        writing.nag_time = "08:45"
        assert await deployment_to_read(s) is writing, "the unit of work's own row, changed"
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=55, fsm_key=None, tg_id=None)
        read = await deployment_to_read(s)
        assert read is not None and read.nag_time == "08:45"
        assert shared[0].nag_time == loaded["nag_time"], "the shared row is never changed"
    async with any_db.session() as s:  # no first statement: the get's
        read = await deployment_to_read(s)
        assert read is not None and read.nag_time == "08:45" and read in s
        await s.delete(read)
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=56, fsm_key=None, tg_id=None)
        assert await deployment_to_read(s) is None


async def test_after_a_commit_the_deployment_is_read_again(any_db: Database) -> None:
    async with any_db.session() as s:
        assert await open_update(s, bot_id=BOT, update_id=57, fsm_key=None, tg_id=None)
        await s.commit()
        async with any_db.session() as other:
            changed = await other.get(Deployment, 1)
            assert changed is not None
            changed.nag_time = "07:05"
        read = await deployment_to_read(s)
        assert read is not None and read.nag_time == "07:05" and read in s


FIRST_ORM_USE = """
import asyncio, sys
from storage.db import Database
from storage.deployment_row import deployment_to_read
from storage.speaker_row import attach_person
from storage.update_opening import PERSON

async def main() -> None:
    db = Database(sys.argv[1])
    async with db.unit_of_work() as session:
        values = {column.name: None for column in PERSON.c}
        values.update(id=1, tg_id=5, name="x")
        print(attach_person(session, values).name)
    await db.dispose()

asyncio.run(main())
"""


def test_a_speaker_is_attached_in_a_process_that_has_used_no_query_yet(db_url: str) -> None:
    # An instance without the scheduler meets the ORM first here: its mappers are not set up.
    done = subprocess.run(
        [sys.executable, "-c", FIRST_ORM_USE, db_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "x"


async def test_a_persons_holdings_are_read_once_for_their_updates(any_db: Database) -> None:
    admins = frozenset({CHIEF})
    async with any_db.session() as s:
        plain = await speaker(s, LEADER_AND_STAFF, default_language="zh", admin_ids=admins)
    assert plain is not None
    openings = []
    for update_id in (60, 61):
        async with any_db.session() as s:
            opening = await open_update(
                s, bot_id=BOT, update_id=update_id, fsm_key=None, tg_id=LEADER_AND_STAFF
            )
            assert opening is not None
            openings.append(opening)
    first, second = openings
    assert first.holdings == plain[1].holdings and first.holdings
    assert second.holdings is first.holdings, "one reading of the same text"
