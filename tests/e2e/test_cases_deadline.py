"""A leader moves the deadline of an assigned case (buttons or a typed date), recorded in the
ledger; /cases understands Chinese filter words. fire-safety-5-level.yaml, Tue 2026-03-10."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept_and_assign,
    card,
    case_row,
    events,
    meet,
    press_on,
    report,
    tap,
)
from tests.e2e.conftest import SHANGHAI
from tests.e2e.harness import World


async def test_a_leader_changes_the_deadline_of_an_assigned_case(world: World) -> None:
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world, severity="较大")
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    before = (await case_row(world, code)).deadline_at
    assert before is not None

    assignee = world.user(GUARD2)
    mine = await card(assignee, code, "已派遣")
    assert "调整期限" not in mine.button_texts  # the assignee asks for an extension instead

    leader = world.user(PIANQU_LEADER)
    assigned = await card(leader, code, "已派遣")
    assert "调整期限" in assigned.button_texts
    await press_on(leader, assigned, "调整期限")
    picker = await leader.expect_reply(contains="调整整改期限")
    assert f"当前期限：{before.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" in picker.text

    await tap(leader, "+7")
    moved = await leader.expect_reply(contains="新期限")
    assert moved.edited
    week_later = (before + timedelta(days=7)).astimezone(SHANGHAI)
    assert f"新期限：{week_later:%Y-%m-%d %H:%M}" in moved.text

    await leader.send("2026-02-30")
    await leader.expect_reply(contains="没有这个日期")
    await leader.send("2020-01-01")
    await leader.expect_reply(contains="期限必须晚于现在")
    await leader.send("2026-03-20")
    typed = await leader.expect_reply(contains="新期限：2026-03-20")
    await tap(leader, "确认", message=typed)
    await leader.expect_reply(contains="调整期限的原因")
    await leader.send_photo()
    await leader.expect_reply(contains="请用文字填写调整期限的原因")
    await leader.send("长" * 1001)
    await leader.expect_reply(contains="内容太长了")
    assert (await events(world, code))[-1] != "deadline_changed"  # nothing changed yet
    await leader.send("需等待物业配合清运")
    done = await leader.expect_reply(contains="整改期限已改为")
    assert "2026-03-20" in done.text

    row = await case_row(world, code)
    assert row.deadline_at is not None
    local = row.deadline_at.astimezone(SHANGHAI)
    assert local.date().isoformat() == "2026-03-20"
    assert local.time() == before.astimezone(SHANGHAI).time()  # the time of day is kept
    assert (await events(world, code))[-1] == "deadline_changed"
    assert row.status == "assigned"

    # The assignee must keep to it: a new card saying so (an edit would make no sound).
    told = await card(assignee, code, "整改期限调整为 2026-03-20")
    assert told.kind == "sent" and "原因：需等待物业配合清运" in told.text
    await world.user(GUARD).expect_reply(contains="调整整改期限")  # the reporter is told

    redrawn = await card(leader, code, "整改期限：2026-03-20")  # the leader's card too
    assert "调整期限" in redrawn.button_texts


async def test_cases_takes_chinese_filter_words(world: World) -> None:
    await meet(world, GUARD, PIANQU_LEADER)
    code = await report(world, severity="较大")
    leader = world.user(PIANQU_LEADER)
    for word, title in (
        ("未结", "未结案"),
        ("较大", "较大"),
        ("待我处理", "待我处理"),
        ("逾期", "逾期"),
        ("一般", "一般"),
    ):
        await leader.send(f"/cases {word}")
        listed = await leader.expect_reply(contains=f"辖区隐患（{title}）")
        if word in ("未结", "较大", "待我处理"):
            assert code in listed.text, word
        else:
            assert code not in listed.text, word


async def test_cancel_at_the_reason_leaves_the_deadline_as_it_was(world: World) -> None:
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world, severity="较大")
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    before = (await case_row(world, code)).deadline_at
    leader = world.user(PIANQU_LEADER)
    await press_on(leader, await card(leader, code, "已派遣"), "调整期限")
    await leader.expect_reply(contains="调整整改期限")
    await tap(leader, "+7")
    await leader.expect_reply(contains="新期限")
    await tap(leader, "确认")
    await leader.expect_reply(contains="调整期限的原因")
    await leader.send("/cancel")
    await leader.expect_reply(contains="已取消")
    await leader.send("随便写点什么")  # no longer read as a reason
    await leader.expect_reply()
    assert (await case_row(world, code)).deadline_at == before
    assert "deadline_changed" not in await events(world, code)
