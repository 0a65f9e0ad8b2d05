"""A report step's `save_data` from the data it has in hand leaves what `update_data`
(which reads the data again) left: the same dict back, the same row stored."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from sqlmodel import select

from handlers.report.flow import save_data
from services.reporting import Draft
from storage.db import Database
from storage.fsm import DatabaseStorage
from storage.models import FsmRecord

OLD = StorageKey(bot_id=7000000001, chat_id=7500000001, user_id=7500000001)
NEW = StorageKey(bot_id=7000000001, chat_id=7500000002, user_id=7500000002)


async def _row(db: Database, storage: DatabaseStorage, key: StorageKey) -> tuple[Any, ...]:
    async with db.reading() as session:
        row = (
            await session.exec(select(FsmRecord).where(FsmRecord.key == storage.key_name(key)))
        ).one()
    return row.state, row.data


async def test_save_data_leaves_what_update_data_left(db: Database) -> None:
    storage = DatabaseStorage(db)
    old, new = FSMContext(storage, OLD), FSMContext(storage, NEW)
    draft = Draft(grid_id=3, category="消防通道堵塞", description="楼道", photos=["AgAD1"])
    draft.lat, draft.lon, draft.severity = 23.123456789, 113.987654321, "一般"
    for editing in (True, False):
        start = {"draft": draft.to_data(), "editing": editing, "albums": ["17"]}
        for ctx in (old, new):
            async with db.unit_of_work():
                await ctx.set_state("Report:severity")
                await ctx.set_data(start)
        async with db.unit_of_work():
            was = await old.update_data(editing=False)
        async with db.unit_of_work():
            now = await save_data(new, current=await new.get_data(), editing=False)
        assert repr(now) == repr(was)
        assert await _row(db, storage, NEW) == await _row(db, storage, OLD)
        async with db.unit_of_work():  # the draft as a step has just written it
            written = {"draft": draft.to_data(), "editing": editing, "albums": ["17"]}
            await new.set_data(written)
            now = await save_data(new, current=written, editing=False)
        assert repr(now) == repr(was)
        assert await _row(db, storage, NEW) == await _row(db, storage, OLD)
