"""督办 through the emulator (issue 14 pt 6, fire-safety-5-level.yaml, default limits): a
report left unaccepted turns yellow at 80 % of its 24 hours and red past them, on the card,
in /stats and in the leader's digest (/today)."""

from __future__ import annotations

import io

import openpyxl

from domain.case_rules import CaseRules
from scheduler import jobs
from storage.case_rules import save_case_rules
from tests.e2e.case_steps import (
    COMMUNITY_LEADER,
    GUARD,
    PIANQU_LEADER,
    card,
    case_row,
    events,
    meet,
    report,
)
from tests.e2e.harness import World

HOUR = 3600


async def opened(world: World, tg_id: int, code: str) -> str:
    u = world.user(tg_id)
    await u.send(f"/case {code}")
    while not (msg := await card(u, code)).button_texts:
        pass
    await u.expect_reply(contains="台账")
    return str(msg.text)


async def test_an_unaccepted_report_turns_yellow_then_red(world: World) -> None:
    await meet(world, GUARD, PIANQU_LEADER)
    code = await report(world)  # 一般: 24 hours to accept
    await world.outbox_settled()
    fresh = await opened(world, PIANQU_LEADER, code)
    assert "⏱ 督办：受理时限" in fresh and "黄牌" not in fresh

    world.clock.advance(20 * HOUR)  # 20 of 24 hours: 83 %
    text = await opened(world, PIANQU_LEADER, code)
    assert "🟡 督办黄牌：受理已用时 83%" in text
    leader = world.user(PIANQU_LEADER)
    await leader.send("/stats")
    board = await leader.expect_reply(contains="考核统计")
    assert "督办 🟡1 🔴0" in board.text
    await leader.expect_reply(contains="📈")

    world.clock.advance(5 * HOUR)  # 25 hours: past the limit
    text = await opened(world, PIANQU_LEADER, code)
    assert "🔴 督办红牌：受理已超过时限" in text
    await leader.send("/stats")
    board = await leader.expect_reply(contains="考核统计")
    assert "督办 🟡0 🔴1" in board.text
    await leader.expect_reply(contains="📈")
    await leader.send("/today")
    digest = await leader.expect_reply(contains="【督办】")
    assert "黄牌 0 件" in digest.text and "红牌 1 件" in digest.text

    # The export's summary carries the same flags.
    await leader.send("/export")
    doc = await leader.expect_reply(contains="台账")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    summary = book["汇总"]
    head = [c.value for c in summary[1]]
    total = next(r for r in summary.iter_rows(min_row=2, values_only=True) if "合计" in str(r[0]))
    assert (total[head.index("督办黄牌")], total[head.index("督办红牌")]) == (0, 1)


async def test_the_sweep_reminds_and_climbs_by_the_files_limits(world: World) -> None:
    """With ``cases: limits: {一般: {accept: 10}}`` the sweep reminds at 8 hours (80 %) and
    climbs at 10, not at the deployment's 2 and 24 hours."""
    async with world.db.session() as s:
        await save_case_rules(s, CaseRules(limits={"general": {"accept": 10}}))
    await meet(world, GUARD, PIANQU_LEADER, COMMUNITY_LEADER)
    code = await report(world)
    await world.outbox_settled()
    leader = world.user(PIANQU_LEADER)
    await card(leader, code, "已上报")
    assert world.app is not None

    world.clock.advance(3 * HOUR)  # the deployment's 2 hours are past, the file's 8 are not
    await jobs.sweep_now(world.app)
    await world.outbox_settled()
    await leader.expect_silence()

    world.clock.advance(5 * HOUR + 1800)  # 8.5 hours
    await jobs.sweep_now(world.app)
    await world.outbox_settled()
    remind = await leader.expect_reply(contains="无人立案")
    assert code in remind.text and "已 8 小时" in remind.text
    assert (await case_row(world, code)).status == "reported"
    assert "escalated" not in await events(world, code)

    world.clock.advance(2 * HOUR)  # 10.5 hours: past the limit, it climbs to LH-01
    await jobs.sweep_now(world.app)
    await world.outbox_settled()
    assert await events(world, code) == ["reported", "escalated"]
    await world.user(COMMUNITY_LEADER).expect_reply(contains="10 小时无人立案")
