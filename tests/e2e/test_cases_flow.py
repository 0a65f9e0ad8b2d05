"""Hazard cases through the emulator: the closed loop on fire-safety-5-level.yaml."""

from __future__ import annotations

from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    PIANQU_LEADER,
    card,
    case_row,
    events,
    meet,
    press_on,
    report,
    tap,
)
from tests.e2e.harness import World


async def test_happy_path_to_a_good_rating(world: World) -> None:
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world)
    leader = world.user(PIANQU_LEADER)
    first = await card(leader, code, "已上报")
    await press_on(leader, first, "立案")
    accepted = await card(leader, code, "已立案")
    await press_on(leader, accepted, "派遣")
    await leader.expect_reply(contains="请选择承办人")
    await tap(leader, "林和东第1片区 · 保安巡查员2")
    await leader.expect_reply(contains="整改期限")
    await tap(leader, "确认")
    await leader.expect_reply(contains="当前状态：已派遣")

    guard2 = world.user(GUARD2)
    assigned = await card(guard2, code, "已派遣")
    await press_on(guard2, assigned, "签收")
    progress = await card(guard2, code, "处理中")
    await press_on(guard2, progress, "处理反馈")
    await guard2.expect_reply(contains="描述处理情况")
    await guard2.send("杂物已清理")
    await guard2.expect_reply(contains="上传处理后的照片")
    await guard2.send_photo()
    await guard2.expect_reply(contains="已收到 1 张")
    await tap(guard2, "完成")
    await guard2.expect_reply(contains="待核查")

    to_verify = await card(leader, code, "待核查")
    await press_on(leader, to_verify, "核查通过")
    await leader.expect_reply(contains="核查通过并结案")
    await tap(leader, "✅ 确认结案")
    await leader.expect_reply(contains="当前状态：已结案")  # the confirmation, edited
    closed = await card(leader, code, "已结案")
    await press_on(leader, closed, "综合评价")
    await leader.expect_reply(contains="请选择综合评价")
    await tap(leader, "好")
    await leader.expect_reply(contains="已评价")

    row = await case_row(world, code)
    assert row.status == "rated" and row.rating == "good"
    assert await events(world, code) == [
        "reported", "accepted", "assigned", "acknowledged", "feedback_given", "verified", "rated",
    ]  # fmt: skip
    reporter = world.user(GUARD)
    await reporter.expect_reply(contains="综合评价")
