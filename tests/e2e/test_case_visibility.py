"""Seeing a case is a permission: crafted view presses from people who may not see it.

A case reported in 林和东第1片区 (LH-01-1). Its card's 台账 button and the open-card button of
/cases and /my carry only the case id, and case ids are sequential: anyone can send that
callback data. An outsider (not on the roster), a guard of the sibling 片区 LH-01-2 and the
leader of another street (珠玑街道) each press both → a polite refusal, and nothing else.
"""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from bot.render.case_buttons import CardTool, CaseTool
from storage.models import Delivery, Grid, Membership, Person, Role
from tests.e2e.case_steps import (
    GUARD,
    PIANQU_LEADER,
    card,
    case_row,
    crafted_press,
    meet,
    report,
)
from tests.e2e.harness import World

OUTSIDER = 700000001  # on nobody's roster
OTHER_STREET_LEADER = 800000040  # 珠玑街道主任
REFUSED = "找不到该隐患，或您无权查看"
VIEW_BUTTONS = (CardTool.HISTORY, CardTool.OPEN)  # 台账 (the ledger), open the card


async def _tg_of(world: World, grid_code: str, role_key: str) -> int:
    """The first person holding `role_key` in the grid (auto-numbered people have no fixed id
    to write down here)."""
    async with world.db.session() as s:
        rows = await s.exec(
            select(Person.tg_id)
            .join(Membership, col(Membership.person_id) == Person.id)
            .join(Grid, col(Grid.id) == Membership.grid_id)
            .join(Role, col(Role.id) == Membership.role_id)
            .where(Grid.code == grid_code, Role.key == role_key)
            .order_by(col(Person.id))
        )
        tg_id = rows.first()
    assert tg_id is not None
    return int(tg_id)


async def _outbox_for(world: World, tg_id: int) -> int:
    async with world.db.session() as s:
        rows = await s.exec(select(Delivery.id).where(Delivery.chat_id == tg_id))
        return len(list(rows))


async def test_people_who_may_not_see_a_case_get_a_refusal_and_nothing_else(
    world: World,
) -> None:
    sibling_guard = await _tg_of(world, "LH-01-2", "guard")
    await meet(world, GUARD, PIANQU_LEADER, sibling_guard, OTHER_STREET_LEADER)
    code = await report(world)
    case_id = (await case_row(world, code)).id or 0

    outsider = world.user(OUTSIDER)
    await outsider.send("/start")
    await outsider.expect_reply()
    for tg_id in (OUTSIDER, sibling_guard, OTHER_STREET_LEADER):
        u = world.user(tg_id)
        await u.send("/help")
        on = await u.expect_reply()
        queued = await _outbox_for(world, tg_id)
        for a in VIEW_BUTTONS:
            happened = await crafted_press(world, u, on, CaseTool(id=case_id, a=a).pack())
            kinds = [e.kind for e in happened]
            assert kinds == ["press", "callback_answer"], (tg_id, a, u.transcript_text())
            answer = happened[-1].detail
            assert REFUSED in (answer.get("text") or "") and answer.get("show_alert"), answer
        assert await _outbox_for(world, tg_id) == queued
        # /case, the typed way to the same card, refuses them as well.
        await u.send(f"/case {code}")
        assert "无权查看" in (await u.expect_reply()).text

    # Those who may see it still do: the 片区 leader gets the ledger and the card.
    leader = world.user(PIANQU_LEADER)
    await card(leader, code, "已上报")  # the notice of the new case, pushed through the outbox
    await leader.send("/help")
    on = await leader.expect_reply()
    for a, shows in ((CardTool.HISTORY, "台账"), (CardTool.OPEN, "状态：已上报")):
        happened = await crafted_press(world, leader, on, CaseTool(id=case_id, a=a).pack())
        sent = [e for e in happened if e.kind == "sent"]
        assert len(sent) == 1 and code in (sent[0].text or "") and shows in (sent[0].text or "")


@pytest.mark.parametrize("a", VIEW_BUTTONS)
async def test_a_press_for_a_case_that_does_not_exist_looks_like_any_refusal(
    world: World, a: CardTool
) -> None:
    """Sequential ids make existence itself a leak: a missing case is refused in the same words
    as a hidden one."""
    await meet(world, OTHER_STREET_LEADER)
    u = world.user(OTHER_STREET_LEADER)
    await u.send("/help")
    on = await u.expect_reply()
    happened = await crafted_press(world, u, on, CaseTool(id=987654, a=a).pack())
    assert [e.kind for e in happened] == ["press", "callback_answer"]
    assert REFUSED in (happened[-1].detail.get("text") or "")
