"""Numbers no database column can hold are bad input: a crafted press carrying an id beyond
64 bits gets the stale-button answer, logs no error and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from tests.e2e.case_steps import PIANQU_LEADER, crafted_press, meet
from tests.e2e.harness import World

HUGE = "99999999999999999999"  # > 2**64
STALE = "这个按钮已失效"


async def _dump(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows but the replay-protection marks (every handled update leaves one)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with world.db.session() as s:
        for table in SQLModel.metadata.sorted_tables:
            if table.name != "processed_update":
                rows = await s.execute(select(table))
                out[table.name] = sorted(map(tuple, rows.all()), key=repr)
    return out


@pytest.mark.parametrize(
    "data",
    [
        f"ct:{HUGE}:h:0",  # a case card's 台账
        f"c:{HUGE}:acc:0",  # a case card's 立案
        f"cl:all:{HUGE}",  # a /cases page
        f"pl:{HUGE}:202603:0:0",  # a page of a grid's patrol ledger
        f"ct:-{HUGE}:o:0",  # below -2**63 as well
    ],
)
async def test_a_press_carrying_a_number_beyond_64_bits_is_a_stale_button(
    world: World, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    await meet(world, PIANQU_LEADER)  # a leader: /cases and the patrol ledger are theirs
    leader = world.user(PIANQU_LEADER)
    await leader.send("/help")
    on = await leader.expect_reply()
    before = await _dump(world)
    caplog.clear()

    happened = await crafted_press(world, leader, on, data)

    assert [e.kind for e in happened] == ["press", "callback_answer"]
    assert STALE in (happened[-1].detail.get("text") or "")
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    assert await _dump(world) == before
