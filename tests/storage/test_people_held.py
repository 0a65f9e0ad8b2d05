"""`storage.cases.people_by_id` hands out the people the unit of work already holds without
a query (the query would give those very objects back, unchanged), and asks the database
when any is missing, expired, or marked deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from storage import cases as q
from storage.db import Database
from storage.models import Person
from tests.storage.case_world import GUARD, GUARD2, fire

__all__ = ["fire"]


async def test_people_held_are_not_read_again(fire: Database) -> None:
    statements: list[str] = []

    def _count(*args: Any) -> None:
        statements.append(args[2])

    async with fire.session() as s:
        people = list(await s.exec(select(Person).where(col(Person.tg_id).in_([GUARD, GUARD2]))))
        ids = sorted(p.id or 0 for p in people)
        every = {p.id: p for p in await s.exec(select(Person))}
        event.listen(fire.engine.sync_engine, "before_cursor_execute", _count)
        try:
            held = await q.people_by_id(s, [*ids, None])
            assert statements == []
            assert list(held) == ids and all(held[i] is every[i] for i in ids)
            people[0].name = "改名"  # a change in hand is what the query would give too
            assert (await q.people_by_id(s, ids[:1]))[ids[0]].name == "改名"
            assert statements == []
            s.expire(every[ids[1]])
            again = await q.people_by_id(s, ids)
            assert len(statements) >= 1 and sorted(again) == ids  # the database's own order
            statements.clear()
            assert await q.people_by_id(s, [-5]) == {} and len(statements) == 1
        finally:
            event.remove(fire.engine.sync_engine, "before_cursor_execute", _count)
        await s.rollback()
