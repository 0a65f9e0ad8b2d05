"""Conversation state lives in the database: a new process sees the flow where it was."""

from __future__ import annotations

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func
from sqlalchemy.exc import StatementError
from sqlmodel import select

from storage.db import Database
from storage.fsm import DatabaseStorage
from storage.models import FsmRecord
from storage.sql_tally import SqlTally


class Flow(StatesGroup):
    describing = State()


KEY = StorageKey(bot_id=7000000001, chat_id=7500000123, user_id=7500000123)


async def test_state_and_data_survive_a_new_engine(db_url: str) -> None:
    first = Database(db_url)
    storage = DatabaseStorage(first)
    await storage.set_state(KEY, Flow.describing)
    await storage.set_data(KEY, {"photos": ["AgAD1", "AgAD2"], "category": "用电隐患"})
    await first.dispose()

    second = Database(db_url)
    again = DatabaseStorage(second)
    assert await again.get_state(KEY) == "Flow:describing"
    assert await again.get_data(KEY) == {"photos": ["AgAD1", "AgAD2"], "category": "用电隐患"}
    await again.set_state(KEY, None)
    await again.set_data(KEY, {})
    assert await again.get_state(KEY) is None
    assert await again.get_data(KEY) == {}
    await second.dispose()


async def test_writes_join_the_unit_of_work_and_roll_back_with_it(db: Database) -> None:
    storage = DatabaseStorage(db)
    await storage.set_state(KEY, Flow.describing)
    try:
        async with db.unit_of_work():
            await storage.update_data(KEY, {"description": "配电箱裸露"})
            raise RuntimeError("the handler failed")
    except RuntimeError:
        pass
    assert await storage.get_data(KEY) == {}
    assert await storage.get_state(KEY) == "Flow:describing"


async def test_keys_are_per_user_and_chat(db: Database) -> None:
    storage = DatabaseStorage(db)
    other = StorageKey(bot_id=KEY.bot_id, chat_id=-1001234567890, user_id=KEY.user_id)
    await storage.set_state(KEY, Flow.describing)
    assert await storage.get_state(other) is None


async def test_a_step_reads_once_and_writes_once_at_commit(db: Database) -> None:
    storage = DatabaseStorage(db)
    tally = SqlTally.install(db.engine)
    try:
        with SqlTally.counting() as cost:
            async with db.unit_of_work():
                assert await storage.get_state(KEY) is None
                await storage.set_state(KEY, Flow.describing)
                await storage.update_data(KEY, {"category": "用电隐患"})
                await storage.update_data(KEY, {"photos": ["AgAD1"]})
                assert await storage.get_state(KEY) == "Flow:describing"
                data = await storage.get_data(KEY)
                data["photos"].append("not stored: the handler's own copy")
    finally:
        tally.remove()
    assert cost.statements == 2, cost.sql  # the read, then one upsert
    assert (cost.transactions, cost.commits) == (1, 1)
    assert await storage.get_state(KEY) == "Flow:describing"
    assert await storage.get_data(KEY) == {"category": "用电隐患", "photos": ["AgAD1"]}


async def test_a_finished_flow_leaves_no_row_and_an_untouched_one_writes_nothing(
    db: Database,
) -> None:
    storage = DatabaseStorage(db)
    await storage.set_state(KEY, Flow.describing)
    tally = SqlTally.install(db.engine)
    try:
        with SqlTally.counting() as untouched:
            async with db.unit_of_work():
                assert await storage.get_state(KEY) == "Flow:describing"
        with SqlTally.counting() as finished:
            async with db.unit_of_work():
                await storage.set_state(KEY, None)
                await storage.set_data(KEY, {})
    finally:
        tally.remove()
    assert untouched.statements == 1, untouched.sql
    assert finished.statements == 2 and finished.sql[-1].startswith("DELETE"), finished.sql
    async with db.reading() as session:
        assert (await session.exec(select(func.count()).select_from(FsmRecord))).one() == 0


async def test_the_handlers_dicts_never_share_with_the_stored_data(db: Database) -> None:
    storage = DatabaseStorage(db)
    given = {"draft": {"photos": ["AgAD1"], "where": [23.1, 113.2]}, "n": 1}
    async with db.unit_of_work():
        await storage.set_data(KEY, given)
        given["draft"]["photos"].append("changed after set_data")  # type: ignore[index]
        read = await storage.get_data(KEY)
        read["draft"]["photos"].append("changed after get_data")
        assert await storage.get_data(KEY) == {
            "draft": {"photos": ["AgAD1"], "where": [23.1, 113.2]},
            "n": 1,
        }
    assert await storage.get_data(KEY) == {
        "draft": {"photos": ["AgAD1"], "where": [23.1, 113.2]},
        "n": 1,
    }


async def test_data_json_cannot_hold_is_copied_and_fails_when_written(db: Database) -> None:
    storage = DatabaseStorage(db)
    marker = object()
    with pytest.raises(StatementError) as failed:
        async with db.unit_of_work():
            await storage.set_data(KEY, {"thing": marker})
            kept = await storage.get_data(KEY)
            assert kept["thing"] is not marker  # a deep copy, as before
    assert isinstance(failed.value.orig, TypeError)  # JSON cannot hold it: the write fails
    assert await storage.get_data(KEY) == {}
