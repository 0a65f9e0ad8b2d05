"""A case's category in the reader's language (fire-safety-5-level.yaml: its categories come
from its checklist, 安全疏散 → 消防通道堵塞 / Blocked fire exit). The case keeps the Chinese
label; whoever chose /lang en reads the English one on the pushed card, the card they open
and the /cases list; a Chinese reader still reads the Chinese one."""

from __future__ import annotations

from typing import Any

from tests.e2e.case_steps import GUARD, PIANQU_LEADER, case_row, report
from tests.e2e.harness import World

ZH, EN = "消防通道堵塞", "Blocked fire exit"


async def in_english(u: Any) -> None:
    await u.send("/lang en")
    await u.expect_reply(contains="Choose a language")
    await u.press("English")
    await u.expect_answer()


async def english_card(u: Any, code: str) -> Any:
    """The next card of `code` here, as the English UI draws it."""
    while True:
        msg = await u.expect_reply(contains=code)
        if "Hazard " in msg.text:
            return msg


async def test_the_category_is_shown_in_the_readers_language(world: World) -> None:
    world.everyone_opened_the_bot()
    leader = world.user(PIANQU_LEADER)
    await in_english(leader)
    code = await report(world, category=ZH)
    assert (await case_row(world, code)).category == ZH  # the ledger keeps the Chinese label

    pushed = await english_card(leader, code)  # the report's card, pushed to the leader
    assert f"Category: {EN}" in pushed.text and ZH not in pushed.text

    await leader.send(f"/case {code}")
    opened = await english_card(leader, code)
    assert f"Category: {EN}" in opened.text and ZH not in opened.text
    await leader.expect_reply(contains="Ledger of case")

    await leader.send("/cases")
    listed = await leader.expect_reply(contains="Cases in your grids")
    line = next(x for x in listed.text.splitlines() if code in x)
    assert EN in line and ZH not in line

    # The reporter reads Chinese: the same case, the Chinese label.
    guard = world.user(GUARD)
    await guard.send(f"/case {code}")
    while True:
        mine = await guard.expect_reply(contains=code)
        if "⚠️ 隐患" in mine.text:
            break
    assert f"类别：{ZH}" in mine.text and EN not in mine.text
