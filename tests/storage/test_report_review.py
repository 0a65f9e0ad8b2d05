"""A report's summary reads the grid's name and the possible duplicates in one statement
(`storage.cases.grid_name_and_duplicates`): the same cases, in the same order, as
`possible_duplicates`, the most recent three, for every kind of neighbour."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage import cases as q
from storage.db import Database
from storage.models import Grid
from tests.storage.case_world import NOW, fire, grid_id
from tests.storage.test_cases import HERE, open_case

__all__ = ["fire"]


async def test_the_summary_s_duplicates_are_possible_duplicates(fire: Database) -> None:
    for n in range(5):
        await open_case(fire, at=NOW + timedelta(minutes=n), lat=HERE[0] + n * 0.0001)
    await open_case(fire, at=NOW, category="燃气隐患")
    await open_case(fire, at=NOW, lat=None)
    async with fire.reading() as s:
        here, there = await grid_id(s, "LH-01-1"), await grid_id(s, "LH-01-2")
        names = {g.id: g.name for g in await s.exec(select(Grid))}
        asked = [
            (here, "火灾隐患", HERE[0], HERE[1], NOW + timedelta(hours=1)),
            (here, "火灾隐患", None, None, NOW + timedelta(days=6)),
            (here, "火灾隐患", None, None, NOW + timedelta(days=8)),
            (there, "火灾隐患", HERE[0] + 0.0002, HERE[1], NOW + timedelta(days=8)),
            (there, "火灾隐患", HERE[0] + 0.01, HERE[1], NOW),
            (there, "燃气隐患", HERE[0], HERE[1], NOW),
            (-1, "火灾隐患", HERE[0], HERE[1], NOW),
        ]
        seen = []
        for gid, category, lat, lon, now in asked:
            kw = {"grid_id": gid, "category": category, "lat": lat, "lon": lon, "now": now}
            cases = await q.possible_duplicates(s, **kw)  # type: ignore[arg-type]
            found, lines = await q.grid_name_and_duplicates(s, **kw)  # type: ignore[arg-type]
            assert [(c.id, c.code, c.description, c.status) for c in cases] == [
                tuple(line) for line in lines
            ]
            assert found == names.get(gid)
            seen.append(len(lines))
    assert seen == [3, 3, 0, 3, 0, 1, 3]
