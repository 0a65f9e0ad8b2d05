"""The closed loop's harder paths through the emulator (fire-safety-5-level.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.case_steps import (
    COMMUNITY_LEADER,
    DISTRICT_LEADERS,
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    STREET_LEADER,
    accept_and_assign,
    accept_and_transfer,
    card,
    case_row,
    events,
    give_feedback,
    meet,
    press_on,
    report,
    set_chat,
    tap,
)
from tests.e2e.conftest import SHANGHAI
from tests.e2e.harness import World


async def test_a_rejection_is_recorded_and_the_reporter_told(world: World) -> None:
    await meet(world, GUARD, PIANQU_LEADER)
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    first = await card(leader, code, "已上报")
    await press_on(leader, first, "不予立案")
    await leader.expect_reply(contains="不予立案的原因")
    await tap(leader, "不属于隐患")
    await leader.expect_reply(contains="请确认")
    await tap(leader, "✅ 确认不予立案")
    await leader.expect_reply(contains="当前状态：不予立案")
    rejected = await card(leader, code, "不予立案")
    assert "立案" not in rejected.button_texts
    assert (await case_row(world, code)).status == "rejected"
    await world.user(GUARD).expect_reply(contains="不属于隐患")


async def test_rework_twice_then_closure(world: World) -> None:
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world)
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    leader = world.user(PIANQU_LEADER)
    for round_ in (1, 2):
        await give_feedback(world, GUARD2, code, f"第{round_}次整改")
        msg = await card(leader, code, "待核查")
        await press_on(leader, msg, "返工")
        await leader.expect_reply(contains="核查未通过的原因")
        await leader.send("出口仍有杂物")
        await leader.expect_reply(contains="当前状态：处理中")
    await give_feedback(world, GUARD2, code, "第3次整改，已全部清理")
    msg = await card(leader, code, "待核查")
    assert "返工次数：2" in msg.text
    await press_on(leader, msg, "核查通过")
    await leader.expect_reply(contains="核查通过并结案")
    await tap(leader, "✅ 确认结案")
    row = await case_row(world, code)
    assert row.status == "closed" and row.rework_count == 2
    assert (await events(world, code)).count("sent_back") == 2


async def test_an_extension_granted_and_one_refused(world: World) -> None:
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world)
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    before = (await case_row(world, code)).deadline_at
    guard2, leader = world.user(GUARD2), world.user(PIANQU_LEADER)
    msg = await card(guard2, code)
    for answer in ("同意延期", "不同意延期"):
        while "申请延期" not in msg.button_texts:
            msg = await card(guard2, code)
        await press_on(guard2, msg, "申请延期")
        await guard2.expect_reply(contains="需要延期多久")
        await tap(guard2, "3 个工作日")
        await guard2.expect_reply(contains="申请延期的原因")
        await guard2.send("需要等物业配合")
        await guard2.expect_reply(contains="申请延期")
        pending = await card(leader, code, "延期申请待审批")
        await press_on(leader, pending, answer)
        granted = (await case_row(world, code)).deadline_at if answer == "同意延期" else None
        msg = await card(guard2, code, "同意")  # the answer, on a new card
        assert msg.kind == "sent"
        if granted is not None and before is not None:  # the new deadline and the old
            was, now = (f"{d.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" for d in (before, granted))
            assert f"整改期限延至 {now}（原 {was}）" in msg.text, msg.text
    row = await case_row(world, code)
    assert before is not None and row.deadline_at is not None
    assert row.deadline_at > before  # granted once: three more working days
    kinds = await events(world, code)
    assert kinds.count("extension_approved") == 1 and kinds.count("extension_refused") == 1


async def test_escalation_over_two_levels(world: World) -> None:
    await meet(world, GUARD, PIANQU_LEADER, COMMUNITY_LEADER, STREET_LEADER)
    code = await report(world)
    msg = await card(world.user(PIANQU_LEADER), code, "已上报")
    for who, next_one in ((PIANQU_LEADER, COMMUNITY_LEADER), (COMMUNITY_LEADER, STREET_LEADER)):
        u = world.user(who)
        await press_on(u, msg, "逐级上报")
        await u.expect_reply(contains="上报上级的原因")
        await u.send("本级无法协调")
        await u.expect_reply(contains="逐级上报")
        msg = await card(world.user(next_one), code, "已上报")
        assert "立案" in msg.button_texts
    row = await case_row(world, code)
    assert row.escalation_count == 2
    street = world.user(STREET_LEADER)
    await street.send(f"/case {code}")
    await street.expect_reply(contains="林和街道")


async def test_a_transfer_answered_by_the_department(world: World) -> None:
    await meet(world, GUARD, PIANQU_LEADER)
    officer = 800000011
    group = world.emu.create_group("区消防大队值班群", members=[officer])
    await set_chat(world, dept_code="XFDD", chat_id=group.id)
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    deadline = await accept_and_transfer(world, code, PIANQU_LEADER, "区消防大队")
    assert "确认后填写移交说明" in deadline.text
    await tap(leader, "确认")
    await leader.expect_reply(contains="移交说明")
    await leader.send("占用消防通道，需消防部门执法")
    await leader.expect_reply(contains="已移交")

    dept = world.user(officer).in_group(group.id)
    dcard = await card(dept, code, "已移交")
    record = await dept.expect_reply(contains="隐患移交单")
    assert record.document is not None
    written = record.document_bytes().decode("utf-8")
    assert code in written and "说明：占用消防通道，需消防部门执法" in written
    await press_on(dept, dcard, "部门签收")
    dcard = await card(dept, code, "处理中")
    await press_on(dept, dcard, "部门反馈")
    prompt = await dept.expect_reply(contains="描述处理情况")
    await dept.send("已到场整改，消防通道已打通", reply_to=prompt)
    await dept.expect_reply(contains="上传处理后的照片")
    await tap(dept, "完成")
    await dept.expect_reply(contains="待核查")
    msg = await card(leader, code, "待核查")
    await press_on(leader, msg, "核查通过")
    await leader.expect_reply(contains="核查通过并结案")
    await tap(leader, "✅ 确认结案")
    assert (await case_row(world, code)).status == "closed"
    assert "dept_feedback_given" in await events(world, code)


async def test_a_critical_case_reaches_every_leader_up_to_the_root(world: World) -> None:
    chain = (PIANQU_LEADER, COMMUNITY_LEADER, STREET_LEADER, *DISTRICT_LEADERS)
    await meet(world, GUARD, *chain)
    code = await report(world, severity="重大", description="配电房冒烟，有火灾危险")
    for who in chain:
        msg = await card(world.user(who), code, "重大")
        assert "立案" in msg.button_texts
    # A leader of another street hears nothing.
    other = world.user(800000040)
    await meet(world, 800000040)
    await other.expect_silence()


async def test_a_member_pressing_a_leaders_button_changes_nothing(world: World) -> None:
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    group = world.emu.create_group("林和东第1片区群", members=[GUARD, GUARD2, PIANQU_LEADER])
    await set_chat(world, grid_code="LH-01-1", chat_id=group.id)
    code = await report(world)
    member = world.user(GUARD2).in_group(group.id)
    posted = await card(member, code, "已上报")
    answer = await press_on(member, posted, "立案")
    assert answer.show_alert and "无权" in (answer.text or "")
    assert (await case_row(world, code)).status == "reported"
    boss = world.user(PIANQU_LEADER).in_group(group.id)
    await press_on(boss, posted, "立案")
    assert (await case_row(world, code)).status == "accepted"
    edited = await card(member, code, "已立案")
    assert edited.edited


async def test_a_stale_card_is_refused_politely(world: World) -> None:
    await meet(world, GUARD, PIANQU_LEADER)
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    pushed = await card(leader, code, "已上报")
    await leader.send(f"/case {code}")
    old = await card(leader, code, "已上报")
    await leader.expect_reply(contains="台账")
    await press_on(leader, pushed, "立案")
    answer = await press_on(leader, old, "不予立案")
    assert answer.show_alert and "过时" in (answer.text or "")
    assert await events(world, code) == ["reported", "accepted"]


async def test_the_same_update_delivered_twice_makes_one_event(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await meet(world, GUARD, PIANQU_LEADER)
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    pushed = await card(leader, code, "已上报")
    seen: list[dict[str, Any]] = []
    original = world.emu.enqueue

    def record(bot: Any, kind: str, payload: dict[str, Any]) -> None:
        original(bot, kind, payload)
        if kind == "callback_query":
            seen.append(bot.updates[-1])

    monkeypatch.setattr(world.emu, "enqueue", record)
    await press_on(leader, pushed, "立案")
    monkeypatch.setattr(world.emu, "enqueue", original)
    assert world.dp is not None and world.bot is not None
    await world.dp.feed_raw_update(world.bot, seen[-1])
    assert await events(world, code) == ["reported", "accepted"]
