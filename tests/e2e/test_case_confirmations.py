"""Irreversible steps are asked once (核查通过 / 结案, 不予立案): a new message with a confirm
and a back button; the confirm press re-checks who presses and the case's version. The
assignee picker names each person's grid, role and name once. fire-safety-5-level.yaml."""

from __future__ import annotations

from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept_and_assign,
    card,
    case_row,
    crafted_press,
    events,
    give_feedback,
    press_on,
    report,
    tap,
)
from tests.e2e.harness import World

CLOSE = ["✅ 确认结案", "↩ 返回"]
REJECT = ["✅ 确认不予立案", "↩ 返回"]


async def test_closing_a_case_is_confirmed_once_and_back_changes_nothing(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world)
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    await give_feedback(world, GUARD2, code, "杂物已清理")
    leader, guard2 = world.user(PIANQU_LEADER), world.user(GUARD2)
    to_verify = await card(leader, code, "待核查")
    own = await card(guard2, code, "待核查")

    await press_on(leader, to_verify, "核查通过")
    asked = await leader.expect_reply(contains="核查通过并结案")
    assert asked.kind == "sent" and asked.button_texts == CLOSE
    assert (await case_row(world, code)).status == "feedback"  # nothing taken yet
    await guard2.expect_silence()  # nobody else hears of a question

    await tap(leader, "↩ 返回", message=asked)
    backed = await leader.expect_reply(contains="未做任何更改")
    assert backed.edited and backed.button_texts == []
    assert (await case_row(world, code)).status == "feedback"
    assert "verified" not in await events(world, code)

    # someone who may not verify forges the confirmation in their own chat: refused
    forged = asked.button_data["✅ 确认结案"]
    await crafted_press(world, guard2, own, forged)
    assert (await case_row(world, code)).status == "feedback"

    await press_on(leader, to_verify, "核查通过")
    again = await leader.expect_reply(contains="核查通过并结案")
    assert again.kind == "sent" and again.button_texts == CLOSE
    await press_on(leader, to_verify, "核查通过")
    twice = await leader.expect_reply(contains="核查通过并结案")
    answer = await tap(leader, "✅ 确认结案", message=again)
    assert not answer.show_alert
    done = await leader.expect_reply(contains="当前状态：已结案")
    assert done.edited and done.button_texts == []
    assert (await case_row(world, code)).status == "closed"

    # the other confirmation was drawn for the case as it was: stale, nothing twice
    stale = await tap(leader, "✅ 确认结案", message=twice)
    assert stale.show_alert and "过时" in (stale.text or "")
    assert (await events(world, code)).count("verified") == 1


async def test_a_rejection_is_confirmed_and_back_returns_to_the_reasons(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    first = await card(leader, code, "已上报")
    await press_on(leader, first, "不予立案")
    await leader.expect_reply(contains="不予立案的原因")
    await tap(leader, "重复上报")
    asked = await leader.expect_reply(contains="原因：重复上报")
    assert asked.kind == "sent" and asked.button_texts == REJECT
    assert (await case_row(world, code)).status == "reported"

    await tap(leader, "↩ 返回", message=asked)
    reasons = await leader.expect_reply(contains="不予立案的原因")
    assert reasons.kind == "sent"
    assert "不属于隐患" in reasons.button_texts
    await tap(leader, "不属于隐患")
    sure = await leader.expect_reply(contains="原因：不属于隐患")
    assert sure.button_texts == REJECT
    await tap(leader, "✅ 确认不予立案", message=sure)
    await leader.expect_reply(contains="当前状态：不予立案")
    assert (await case_row(world, code)).status == "rejected"
    await world.user(GUARD).expect_reply(contains="不属于隐患")


async def test_the_assignee_picker_says_grid_role_and_name_once(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    first = await card(leader, code, "已上报")
    await press_on(leader, first, "立案")
    accepted = await card(leader, code, "已立案")
    await press_on(leader, accepted, "派遣")
    picker = await leader.expect_reply(contains="请选择承办人")
    assert picker.kind == "sent"
    people = [b for b in picker.button_texts if " · " in b]
    assert "林和东第1片区 · 保安巡查员2" in people
    assert "林和东第1片区3号楼院 · 楼院长1" in people
    for label in people:
        grid = label.split(" · ")[0]
        assert label.count(grid) == 1, label
