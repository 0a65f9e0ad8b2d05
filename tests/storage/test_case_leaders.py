"""A step's leaders and the grids they lead, read together (`storage.cases
.leaders_with_led_grids`): what `leaders_of` and then `led_grids_of` answer, for one grid,
for a grid with its ancestors (an urgent case's card), and for none."""

from __future__ import annotations

from sqlmodel import select

from storage import cases as q
from storage.db import Database
from storage.models import Grid
from tests.storage.case_world import fire, grid_id

__all__ = ["fire"]


async def test_leaders_with_their_led_grids_are_the_two_queries_answers(fire: Database) -> None:
    async with fire.reading() as s:
        grid = (await s.exec(select(Grid).where(Grid.id == await grid_id(s, "LH-01-1")))).one()
        every = [g.id for g in await s.exec(select(Grid)) if g.id is not None]
        asked: list[list[int]] = [[grid.id or 0], list(grid.ancestor_ids()), every, [], [-1]]
        found = []
        for grids in asked:
            leaders, led = await q.leaders_with_led_grids(s, grids)
            expected = await q.leaders_of(s, grids)
            assert [(g, p.id) for g, p in leaders] == [(g, p.id) for g, p in expected]
            assert led == await q.led_grids_of(s, {p.id or 0 for _g, p in expected})
            found.append(len(leaders))
    assert found[0] > 0 and found[1] > found[0] and found[2] >= found[1] and found[3:] == [0, 0]
