"""A new case and its ledger steps are written by plain inserts (storage.cases.add_case,
append_event): the case is then held by the unit of work as a flush would leave it."""

from __future__ import annotations

from sqlmodel import select

from domain.cases import EventKind
from storage import cases as q
from storage.db import Database
from storage.models import Case, CaseEvent
from tests.storage.case_world import NOW, fire
from tests.storage.test_cases import open_case

__all__ = ["fire"]


async def test_a_case_written_by_insert_is_held_and_its_changes_are_flushed(
    fire: Database,
) -> None:
    case = await open_case(fire)
    async with fire.session() as s:
        held = await s.get(Case, case.id)
        assert held is not None
        fresh = Case(**{k: v for k, v in held.model_dump().items() if k not in ("id", "code")})
        fresh.code = "H999999-001"
        await q.add_case(s, fresh)
        assert fresh.id is not None and fresh in s and fresh not in s.new
        assert await s.get(Case, fresh.id) is fresh  # the unit of work's own, no new object
        fresh.status = "accepted"  # a change after the insert is tracked and written
        event = await q.append_event(
            s, case=fresh, kind=EventKind.ACCEPTED.value, at=NOW, actor_id=None, data={"a": [1]}
        )
        await s.commit()
    async with fire.session() as s:
        row = await s.get(Case, fresh.id)
        assert row is not None and row.status == "accepted" and row.code == "H999999-001"
        stored = (await s.exec(select(CaseEvent).where(CaseEvent.id == event.id))).one()
        assert stored.model_dump() == event.model_dump()
        assert stored.status_after == "accepted" and stored.data == {"a": [1]}
