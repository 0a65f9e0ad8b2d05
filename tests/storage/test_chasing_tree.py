"""The chasing reads the city's tree a slice at a time (storage.chasing `grid_nodes`,
`holdings`, `people`), giving way between slices, and reads exactly what the digest's
whole-list reads give (storage.digest)."""

from __future__ import annotations

import math

import pytest

from storage import chasing as cq
from storage import digest as q
from storage.db import Database
from tests.storage.test_chasing_chunks import city

SLICE = 7


async def test_the_tree_read_in_slices_is_the_tree(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await city(db)
    monkeypatch.setattr(cq, "SLICE_ROWS", SLICE)
    breaths = 0

    async def between() -> None:
        nonlocal breaths
        breaths += 1

    async with db.reading() as s:
        grids, holdings, people = (
            await cq.grid_nodes(s, between),
            await cq.holdings(s, between),
            await cq.people(s, between),
        )
        whole = (await q.grid_nodes(s), await q.holdings(s), await q.people(s))

    assert sorted(grids) == sorted(whole[0])
    assert holdings == whole[1]  # in the same order (by membership)
    assert people == whole[2]
    assert len(holdings) > 3 * SLICE
    slices = sum(math.ceil(len(rows) / SLICE) for rows in (grids, holdings, people))
    assert breaths == slices  # once after every slice
