"""A picked category is answered with its label, as the reader sees it (only the one picked
is worked out now, not the whole list)."""

from __future__ import annotations

from tests.e2e.case_steps import GUARD, meet, tap
from tests.e2e.harness import World


async def test_the_pick_is_answered_with_its_label(world: World) -> None:
    await meet(world, GUARD)
    u = world.user(GUARD)
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    answer = await tap(u, "用电隐患")
    assert answer.text == "用电隐患" and not answer.show_alert
    await u.expect_reply(contains="描述隐患")
