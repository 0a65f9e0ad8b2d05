"""Reopening a closed case (重新打开) through the emulator (fire-safety-5-level.yaml)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from sqlmodel import col, select

from storage.models import CaseEvent
from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept_and_assign,
    card,
    case_row,
    events,
    give_feedback,
    meet,
    press_on,
    report,
    tap,
)
from tests.e2e.harness import World

DAY = 24 * 3600


async def closed_case(world: World) -> tuple[str, Any]:
    """A case reported by GUARD, handled by GUARD2 and closed by the 片区 leader; the card
    the leader then opens with /case."""
    await meet(world, GUARD, GUARD2, PIANQU_LEADER)
    code = await report(world)
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)
    await give_feedback(world, GUARD2, code, "杂物已清理")
    leader = world.user(PIANQU_LEADER)
    msg = await card(leader, code, "待核查")
    await press_on(leader, msg, "核查通过")
    await leader.expect_reply(contains="核查通过并结案")
    await tap(leader, "✅ 确认结案")
    await card(leader, code, "已结案")
    assert (await case_row(world, code)).status == "closed"
    await leader.send(f"/case {code}")
    closed = await card(leader, code, "已结案")
    await leader.expect_reply(contains="台账")
    return code, closed


async def reporter_card(world: World, code: str) -> Any:
    """The card the reporter opens with /case (the closing's notices before it skipped)."""
    guard = world.user(GUARD)
    await guard.send(f"/case {code}")
    while not (msg := await card(guard, code, "已结案")).button_texts:
        pass
    await guard.expect_reply(contains="台账")
    return msg


async def test_the_reporter_reopens_with_a_reason_and_the_assignee_is_handed_it(
    world: World,
) -> None:
    code, _ = await closed_case(world)
    guard = world.user(GUARD)
    mine = await reporter_card(world, code)
    assert "🔄 重新打开" in mine.button_texts

    # /cancel at the reason prompt leaves the case closed.
    await press_on(guard, mine, "🔄 重新打开")
    await guard.expect_reply(contains="重新打开的原因")
    await guard.send("/cancel")
    await guard.expect_reply(contains="已取消")
    assert (await case_row(world, code)).status == "closed"
    assert (await events(world, code))[-1] == "verified"

    await press_on(guard, mine, "🔄 重新打开")
    await guard.expect_reply(contains="重新打开的原因")
    await guard.send("杂物又堆回楼道了")
    await guard.expect_reply(contains="当前状态：处理中")

    row = await case_row(world, code)
    assert row.status == "in_progress" and row.closed_at is None and row.verifier_id is None
    assert row.deadline_at is not None and row.deadline_at > world.clock.now()
    kinds = await events(world, code)
    assert kinds[-2:] == ["verified", "reopened"]  # the history stays, the reopen appended
    async with world.db.session() as s:
        last = (
            await s.exec(
                select(CaseEvent)
                .where(CaseEvent.case_id == row.id)
                .order_by(col(CaseEvent.id).desc())
            )
        ).first()
    assert last is not None and last.note == "杂物又堆回楼道了"
    assert last.data["closed_at"] is not None

    # The assignee gets a NEW card saying why, with the step it waits for.
    handler = world.user(GUARD2)
    handed = await card(handler, code, "重新打开了此隐患")
    assert "杂物又堆回楼道了" in handed.text
    assert "处理反馈" in handed.button_texts

    # The loop runs again from that card, and the reopen is counted.
    await press_on(handler, handed, "处理反馈")
    await handler.expect_reply(contains="描述处理情况")
    await handler.send("已彻底清理并张贴告示")
    await handler.expect_reply(contains="上传处理后的照片")
    await tap(handler, "完成")
    await handler.expect_reply(contains="待核查")
    leader = world.user(PIANQU_LEADER)
    await card(leader, code, "待核查")  # handed on through the outbox, after the commit
    assert (await case_row(world, code)).status == "feedback"
    await leader.send("/stats")
    stats = await leader.expect_reply(contains="考核统计")
    assert "重新打开 1 次" in stats.text

    # The export's case sheet and summary carry the same count.
    await leader.send("/export")
    doc = await leader.expect_reply(contains="台账")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    sheet = book["隐患台账"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(r["隐患编号"], r["重新打开次数"]) for r in rows] == [(code, 1)]
    summary = book["汇总"]
    head = [c.value for c in summary[1]]
    total = next(r for r in summary.iter_rows(min_row=2, values_only=True) if "合计" in str(r[0]))
    assert total[head.index("重新打开次数")] == 1


async def test_a_stale_button_and_a_case_past_its_window_get_a_polite_answer(
    world: World,
) -> None:
    code, leaders_card = await closed_case(world)
    guard = world.user(GUARD)
    mine = await reporter_card(world, code)

    # The leader reopens first: the reporter's card is now out of date.
    leader = world.user(PIANQU_LEADER)
    await press_on(leader, leaders_card, "🔄 重新打开")
    await leader.expect_reply(contains="重新打开的原因")
    await leader.send("复查发现安全出口仍被占用")
    await leader.expect_reply(contains="当前状态：处理中")
    answer = await press_on(guard, mine, "🔄 重新打开")
    assert answer.show_alert and "过时" in (answer.text or "")
    assert (await events(world, code)).count("reopened") == 1

    # Closed again, then 31 days on: too late, said at the press, before any reason.
    await give_feedback(world, GUARD2, code, "已清理")
    msg = await card(leader, code, "待核查")
    await press_on(leader, msg, "核查通过")
    await leader.expect_reply(contains="核查通过并结案")
    await tap(leader, "✅ 确认结案")
    await world.outbox_settled()  # the reporter's notice of this closing, before /case
    world.clock.advance(31 * DAY)
    mine = await reporter_card(world, code)
    answer = await press_on(guard, mine, "🔄 重新打开")
    assert answer.show_alert and "超过可重新打开的期限" in (answer.text or "")
    await guard.expect_silence()
    assert (await case_row(world, code)).status == "closed"
    assert (await events(world, code)).count("reopened") == 1
