"""Deadlines typed as people write them, on the assignment's deadline screen and when a
leader moves the deadline; a new case is due at the end of a working day (18:00).
fire-safety-5-level.yaml, Tuesday 2026-03-10 09:00."""

from __future__ import annotations

from datetime import datetime

from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept_and_assign,
    card,
    case_row,
    meet,
    press_on,
    report,
    tap,
)
from tests.e2e.conftest import SHANGHAI
from tests.e2e.harness import World

EXAMPLES = "可以这样写：2026-12-04、12月4日、12-04 18:00、明天"
BUTTONS = ["-1", "+1", "+7", "确认"]


async def test_a_new_case_is_due_at_the_end_of_a_working_day(world: World) -> None:
    await meet(world, GUARD)
    code = await report(world, severity="较大")  # reported Tuesday 09:00, 3 working days
    row = await case_row(world, code)
    assert row.deadline_at is not None
    assert row.deadline_at.astimezone(SHANGHAI) == datetime(2026, 3, 13, 18, 0, tzinfo=SHANGHAI)


async def test_the_assigning_leader_types_the_deadline(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world, severity="一般")
    leader = world.user(PIANQU_LEADER)
    first = await card(leader, code, "已上报")
    await press_on(leader, first, "立案")
    accepted = await card(leader, code, "已立案")
    await press_on(leader, accepted, "派遣")
    await leader.expect_reply(contains="请选择承办人")
    await tap(leader, GUARD2_LABEL)
    screen = await leader.expect_reply(contains="整改期限")
    assert "也可以直接输入日期" in screen.text

    # every refusal says why and what is accepted, and changes nothing
    for typed, why in (
        ("18:00", "只写了时间，没有日期"),
        ("2026-02-30", "没有这个日期或时间"),
        ("3月9日", "这个时间已经过去了"),
        ("尽快", "看不懂这个期限"),
        ("2027-12-01", "期限不能超过一年"),
    ):
        await leader.send(typed)
        refused = await leader.expect_reply(contains=why)
        assert refused.kind == "sent"
        assert EXAMPLES in refused.text
        assert refused.button_texts == []

    await leader.send("周五 16:30")
    friday = await leader.expect_reply(contains="整改期限：2026-03-13 16:30")
    assert friday.kind == "sent"  # a new screen with the buttons, under the typed text
    assert friday.button_texts == BUTTONS
    await leader.send("12月4日")
    december = await leader.expect_reply(contains="整改期限：2026-12-04 18:00")
    assert december.button_texts == BUTTONS
    await tap(leader, "确认", message=december)
    await leader.expect_reply(contains="当前状态：已派遣")

    row = await case_row(world, code)
    assert row.assignee_person_id is not None
    assert row.deadline_at == datetime(2026, 12, 4, 18, 0, tzinfo=SHANGHAI)
    assignee = world.user(GUARD2)
    assigned = await card(assignee, code, "2026-12-04 18:00")
    assert "签收" in assigned.button_texts


async def test_a_leader_moves_the_deadline_to_a_typed_day(world: World) -> None:
    world.everyone_opened_the_bot()
    code = await report(world, severity="较大")
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    leader = world.user(PIANQU_LEADER)
    assigned = await card(leader, code, "已派遣")
    await press_on(leader, assigned, "调整期限")
    await leader.expect_reply(contains="调整整改期限")

    await leader.send("下午3点")
    refused = await leader.expect_reply(contains="只写了时间")
    assert EXAMPLES in refused.text
    await leader.send("下周一")
    monday = await leader.expect_reply(contains="新期限：2026-03-16 18:00")
    assert monday.kind == "sent"
    await tap(leader, "确认", message=monday)
    await leader.expect_reply(contains="调整期限的原因")
    await leader.send("周末物业无人，顺延到下周一")
    await leader.expect_reply(contains="整改期限已改为 2026-03-16 18:00")
    row = await case_row(world, code)
    assert row.deadline_at == datetime(2026, 3, 16, 18, 0, tzinfo=SHANGHAI)
