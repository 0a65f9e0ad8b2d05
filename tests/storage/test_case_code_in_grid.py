"""A report's submit draws its code and reads its grid in one statement
(storage.case_codes.next_case_code_in): the same codes as `next_case_code`, the grid as
`session.get` would load it, and no number drawn for a grid that is gone or archived."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from storage import cases as q
from storage.case_codes import next_case_code_in
from storage.db import Database
from storage.models import Grid
from tests.storage.case_world import NOW, fire, grid_id

__all__ = ["fire"]


def _looks(grid: Grid) -> dict[str, Any]:
    """What the object carries: its columns' values with their types, and its ORM state."""
    state = inspect(grid)
    values = {k: (type(v), v) for k, v in grid.__dict__.items() if k != "_sa_instance_state"}
    return {
        "values": values,
        "fields_set": grid.__pydantic_fields_set__,
        "persistent": state.persistent,
        "modified": state.modified,
        "committed": dict(state.committed_state),
        "expired": set(state.expired_attributes),
        "unloaded": set(state.unloaded),
    }


async def _prepare(db: Database) -> int:
    async with db.session() as s:
        gid = await grid_id(s, "LH-01-1")
        grid = await s.get(Grid, gid)
        assert grid is not None
        # A JSON column, a big chat id and a stamp are read as their types read them.
        grid.geofence = {"type": "circle", "lat": 23.1, "lon": 113.2, "radius_m": 300}
        grid.group_chat_id = -1001234567890
    return gid


async def test_the_grid_read_with_the_code_is_as_a_get_loads_it(fire: Database) -> None:
    gid = await _prepare(fire)
    async with fire.session() as s:
        drawn = await next_case_code_in(s, day="260310", grid_id=gid)
        assert drawn is not None
        code, grid = drawn
        assert code == "H260310-001"
        assert await s.get(Grid, gid) is grid  # the unit of work's own: no second load
        ours = _looks(grid)
    async with fire.session() as s:
        loaded = await s.get(Grid, gid)
        assert loaded is not None
        assert ours == _looks(loaded)
        assert ours["values"]["geofence"][1]["radius_m"] == 300
        assert ours["values"]["created_at"][1].tzinfo is not None


async def test_the_codes_follow_those_next_case_code_draws(fire: Database) -> None:
    gid = await _prepare(fire)
    async with fire.session() as s:
        first = await next_case_code_in(s, day="260310", grid_id=gid)
        second = await q.next_case_code(s, day="260310")
        third = await next_case_code_in(s, day="260310", grid_id=gid)
        other_day = await next_case_code_in(s, day="260311", grid_id=gid)
    assert first is not None and third is not None and other_day is not None
    assert [first[0], second, third[0], other_day[0]] == [
        "H260310-001",
        "H260310-002",
        "H260310-003",
        "H260311-001",
    ]


async def test_a_grid_held_already_is_handed_back_as_it_is(fire: Database) -> None:
    gid = await _prepare(fire)
    async with fire.session() as s:
        held = await s.get(Grid, gid)
        assert held is not None
        held.name = "改了名，还没写"
        drawn = await next_case_code_in(s, day="260310", grid_id=gid)
        assert drawn is not None and drawn[1] is held and held.name == "改了名，还没写"
        s.expire(held)
        drawn = await next_case_code_in(s, day="260310", grid_id=gid)
        assert drawn is not None and drawn[1] is held and not inspect(held).expired_attributes


async def test_no_number_is_drawn_for_an_archived_or_missing_grid(fire: Database) -> None:
    gid = await _prepare(fire)
    async with fire.session() as s:
        assert await next_case_code_in(s, day="260310", grid_id=987654) is None
        grid = await s.get(Grid, gid)
        assert grid is not None
        grid.archived_at = NOW
    async with fire.session() as s:
        assert await next_case_code_in(s, day="260310", grid_id=gid) is None
        # Nothing was drawn: the day's first code is still free.
        assert await q.next_case_code(s, day="260310") == "H260310-001"
