"""A new case and its ledger steps are written by plain inserts (storage.case_inserts
add_new_case, storage.cases.append_event): the case is then held by the unit of work as a
flush would leave it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import EventKind
from storage import cases as q
from storage.case_inserts import add_new_case
from storage.db import Database
from storage.models import Case, CaseEvent
from tests.storage.case_world import NOW, fire
from tests.storage.row_looks import looks
from tests.storage.test_cases import open_case

__all__ = ["fire"]


async def _values_of(s: AsyncSession, case: Case, *, left_out: tuple[str, ...]) -> dict[str, Any]:
    """The stored case's values but `left_out`, to build another case from."""
    held = await s.get(Case, case.id)
    assert held is not None
    return {k: v for k, v in held.model_dump().items() if k not in left_out}


async def test_a_case_written_by_insert_is_held_and_its_changes_are_flushed(
    fire: Database,
) -> None:
    case = await open_case(fire)
    async with fire.session() as s:
        values = await _values_of(s, case, left_out=("id", "code"))
        fresh = await add_new_case(s, **values, code="H999999-001")
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


async def _insert_constructed(session: AsyncSession, case: Case) -> None:
    """The reference: the constructor's case written by the same plain insert and made
    persistent, as add_new_case does with the case it builds itself."""
    table: Any = Case.__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(case, c.name) for c in table.columns if c.name != "id"}
    case.id = (await session.execute(insert(table).returning(table.c.id), values)).scalar_one()
    make_transient_to_detached(case)
    session.add(case)


def _looks(obj: Case) -> dict[str, object]:
    """Everything a case object carries, the id and the code left out (they differ)."""
    return looks(
        obj,
        left_out=("id", "code"),
        repr_as=lambda text: text.replace("H999999-002", "H999999-001"),
    )


async def test_a_case_built_by_add_new_case_is_as_the_constructor_leaves_it(
    fire: Database,
) -> None:
    case = await open_case(fire)
    async with fire.session() as s:
        # Some columns left to their defaults, the rest given.
        left = ("id", "code", "rating", "closed_at", "rework_count", "extension_hours")
        values = await _values_of(s, case, left_out=left)
        by_constructor = Case(**values, code="H999999-001")
        await _insert_constructed(s, by_constructor)
        built = await add_new_case(s, **values, code="H999999-002")
        assert built.id == (by_constructor.id or 0) + 1 and built in s and built not in s.new
        assert await s.get(Case, built.id) is built
        assert _looks(built) == _looks(by_constructor)
        built.status = by_constructor.status = "accepted"
        await s.commit()
    async with fire.session() as s:
        rows = {c.code: c.model_dump() for c in (await s.exec(select(Case))).all()}
    a, b = rows["H999999-001"], rows["H999999-002"]
    assert a.pop("id") + 1 == b.pop("id") and a.pop("code") and b.pop("code")
    assert a == b and a["status"] == "accepted"


async def test_an_appended_event_is_as_the_constructor_leaves_it(fire: Database) -> None:
    case = await open_case(fire)
    async with fire.session() as s:
        held = await s.get(Case, case.id)
        assert held is not None
        event = await q.append_event(
            s, case=held, kind=EventKind.ACCEPTED.value, at=NOW, actor_id=None, note="n"
        )
        by_constructor = CaseEvent(
            case_id=held.id or 0,
            at=NOW,
            actor_id=None,
            actor_department_id=None,
            kind=EventKind.ACCEPTED.value,
            status_after=held.status,
            grid_id=held.grid_id,
            note="n",
            data={},
        )
        by_constructor.id = event.id
        assert event not in s and inspect(event).transient
        skip = "_sa_instance_state"
        assert [k for k in event.__dict__ if k != skip] == [
            k for k in by_constructor.__dict__ if k != skip
        ]
        assert event.model_dump() == by_constructor.model_dump()
        assert repr(event) == repr(by_constructor)
        assert event.__pydantic_fields_set__ == by_constructor.__pydantic_fields_set__
        assert event.__pydantic_extra__ is None and event.__pydantic_private__ is None
