"""/summary through the emulator (issue 14 pt 5): the 工作小结 of 林和街道 (LH) as text and
as a workbook opened with openpyxl, on the seed of test_export_stats (now: Tue 2026-03-10
09:00 +08; in LH-01-1: LH-A closed on time and rated 好, LH-B closed late after one rework,
LH-C open and past its deadline of 03-08 10:00; three counted patrols in March).

By hand: 立案 3, 整改 2 (67 %), 按期 1 of 3 (33 %), 返工 1 of the 2 checked (50 %), mean
rating 4.00, open 1, overdue 1 (1 day 23 hours: "1 天"), red 1 (LH-C past its deadline).
"""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl

from tests.e2e.harness import ADMIN_TG_ID, World
from tests.e2e.test_export_stats import GUARD, LH_LEADER, ZJ_LEADER, seed


async def test_the_street_leaders_year_in_text_and_workbook(world: World) -> None:
    await seed(world)
    leader = world.user(LH_LEADER)
    await leader.send("/summary")
    text = (await leader.expect_reply(contains="工作小结")).text
    assert "林和街道（LH）2026年度工作小结" in text
    assert "2026年度共开展巡查 3 次" in text
    assert (
        "发现隐患 3 处，已整改 2 处（整改率 67%），按期整改率 33%，返工 1 件（返工率 50%），"
        "重新打开 0 次，综合评价平均 4.00 分。目前在办隐患 1 处，其中逾期 1 处、督办红牌 1 处。"
    ) in text
    assert "• 按期整改率居首：林和东社区（按期整改率 33%，整改率 67%）" in text
    assert "• 林和东社区：巡查 3 次，发现隐患 3 处，已整改 2 处，按期整改率 33%，返工 1 件" in text
    assert "• LH-C 林和东第1片区·用电：LH-C 配电箱门损坏，逾期 1 天" in text
    assert "ZJ-A" not in text and "珠玑" not in text

    doc = await leader.expect_reply(contains="工作小结（Excel）")
    assert doc.document is not None and doc.document["file_name"] == "summary-LH-2026.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    assert book.sheetnames == ["工作小结", "下级网格", "逾期隐患"]
    paragraphs = [r[0] for r in book["工作小结"].iter_rows(values_only=True)]
    assert paragraphs[0] == "林和街道（LH）2026年度工作小结"
    assert paragraphs[1].startswith("2026年度共开展巡查 3 次")
    grids = book["下级网格"]
    head = [c.value for c in grids[1]]
    rows = {
        r[0]: dict(zip(head, r, strict=True)) for r in grids.iter_rows(min_row=2, values_only=True)
    }
    total = rows["林和街道（合计）"]
    assert (total["立案数"], total["结案数"], total["巡查次数"]) == (3, 2, 3)
    assert rows["林和东社区"]["按期结案率"] == 1 / 3
    overdue = book["逾期隐患"]
    assert overdue.freeze_panes == "A2"
    (case,) = list(overdue.iter_rows(min_row=2, values_only=True))
    assert case[0] == "LH-C" and case[5] == datetime(2026, 3, 8, 10, 0) and case[6] == 1


async def test_a_month_or_a_half_and_another_streets_leader(world: World) -> None:
    await seed(world)
    leader = world.user(LH_LEADER)
    await leader.send("/summary LH month")
    assert "2026年3月共开展巡查 3 次" in (await leader.expect_reply(contains="工作小结")).text
    await leader.expect_reply(contains="工作小结（Excel）")
    await leader.send("/summary half 2025-H2")  # an earlier half: nothing happened then
    text = (await leader.expect_reply(contains="工作小结")).text
    assert "2025年下半年共开展巡查 0 次" in text and "发现隐患 0 处" in text
    doc = await leader.expect_reply(contains="工作小结（Excel）")
    assert doc.document is not None and doc.document["file_name"] == "summary-LH-2025-H2.xlsx"

    other = world.user(ZJ_LEADER)
    await other.send("/summary")
    text = (await other.expect_reply(contains="工作小结")).text
    assert "珠玑" in text and "LH-" not in text and "无逾期未整改的隐患" in text


async def test_bad_summaries_say_why_and_send_nothing(world: World) -> None:
    await seed(world)
    leader = world.user(LH_LEADER)
    for args, why in (
        ("NOPE", "没有编号为 NOPE 的网格"),
        ("ZJ", "只有该网格及上级网格的网格长"),
        ("2026-04", "2026-04 还没有开始"),
        ("half 2026-H2", "2026-H2 还没有开始"),
        ("LH 2027", "2027 还没有开始"),
        ("LH weekly", "看不懂期间「weekly」"),
        ("LH month 2026", "用法：/summary"),
    ):
        await leader.send(f"/summary {args}")
        answer = await leader.expect_reply(contains=why)
        assert "用法：/summary" in answer.text
        await leader.expect_silence()
    member = world.user(GUARD)
    await member.send("/summary")
    await member.expect_reply(contains="请写明网格编号")
    await member.expect_silence()


async def test_an_admin_asks_in_english(world: World) -> None:
    await seed(world)
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/lang en")
    await admin.expect_reply(contains="Choose a language")
    await admin.press("English")
    await admin.expect_answer()
    await admin.send("/summary ZJ month")
    text = (await admin.expect_reply(contains="work summary")).text
    assert "In 2026-03: 0 patrols" in text and "1 hazards found, 1 rectified (100%)" in text
    doc = await admin.expect_reply(contains="(Excel)")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    assert book.sheetnames == ["Summary", "Child grids", "Overdue"]
