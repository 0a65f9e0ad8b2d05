"""The summary's possible duplicates are the open cases only: every status the domain counts
as open is offered, and a case in any other status is not, by the one-statement read
(`storage.cases.grid_name_and_duplicates`) as by `possible_duplicates`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from domain.cases import OPEN, CaseStatus
from storage import cases as q
from storage.db import Database
from storage.models import Case
from tests.storage.case_world import NOW, fire, grid_id
from tests.storage.test_cases import HERE, open_case

__all__ = ["fire"]


async def test_only_open_cases_are_offered_as_duplicates(fire: Database) -> None:
    case = await open_case(fire, at=NOW)
    offered: dict[CaseStatus, bool] = {}
    for status in CaseStatus:
        async with fire.session() as s:
            await s.execute(update(Case).where(col(Case.id) == case.id).values(status=status.value))
        async with fire.reading() as s:
            kw = {"category": "火灾隐患", "lat": HERE[0], "lon": HERE[1]}
            kw |= {"grid_id": await grid_id(s, "LH-01-1"), "now": NOW + timedelta(hours=1)}
            _name, lines = await q.grid_name_and_duplicates(s, **kw)  # type: ignore[arg-type]
            cases = await q.possible_duplicates(s, **kw)  # type: ignore[arg-type]
        assert [line.id for line in lines] == [c.id for c in cases]
        offered[status] = [line.id for line in lines] == [case.id]
    assert {s for s, yes in offered.items() if yes} == set(OPEN)
    assert len(offered) > len(OPEN)


async def test_a_change_the_unit_of_work_holds_is_read_as_written(fire: Database) -> None:
    """The one-statement read sees the unit of work's own changes, as the ORM query's
    autoflush lets `possible_duplicates` see them."""
    case = await open_case(fire, at=NOW)
    async with fire.session() as s:
        kw = {"category": "火灾隐患", "lat": HERE[0], "lon": HERE[1]}
        kw |= {"grid_id": await grid_id(s, "LH-01-1"), "now": NOW + timedelta(hours=1)}
        held = await s.get(Case, case.id)
        assert held is not None
        held.status = CaseStatus.CLOSED.value  # pending: not flushed yet
        _name, lines = await q.grid_name_and_duplicates(s, **kw)  # type: ignore[arg-type]
        cases = await q.possible_duplicates(s, **kw)  # type: ignore[arg-type]
        await s.rollback()
    assert lines == [] and cases == []
