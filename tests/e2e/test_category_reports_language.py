"""A case's category in /summary and /export is the deployment's, in the reader's language,
as on the cards (`domain.categories.shown_label`). fire-safety-5-level.yaml lists no
categories, so its checklist gives them: 用电 → 用电隐患, "Electrical hazard" in English.

On the seed of test_export_stats: LH-C (overdue, in LH-01-1) is filed as 用电隐患
(the deployment's label); LH-A keeps 用电, a label the deployment does not list (a category
since dropped from the file), which reads as stored in both languages.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from sqlmodel import select

from storage.models import Case
from tests.e2e.harness import ADMIN_TG_ID, World
from tests.e2e.test_export_stats import LH_LEADER, seed

POWER = "用电隐患"


async def seed_categories(world: World) -> None:
    await seed(world)
    async with world.db.session() as s:
        lh_c = (await s.exec(select(Case).where(Case.code == "LH-C"))).one()
        lh_c.category = POWER
        s.add(lh_c)


async def in_english(world: World, tg_id: int) -> Any:
    person = world.user(tg_id)
    await person.send("/lang en")
    await person.expect_reply(contains="Choose a language")
    await person.press("English")
    await person.expect_answer()
    return person


def column(sheet: Any, name: str) -> dict[str, Any]:
    """case code → the value of column `name` (the header row's words)."""
    head = [c.value for c in sheet[1]]
    at = head.index(name)
    return {r[0]: r[at] for r in sheet.iter_rows(min_row=2, values_only=True)}


async def test_summary_names_the_category_in_english(world: World) -> None:
    await seed_categories(world)
    admin = await in_english(world, ADMIN_TG_ID)
    await admin.send("/summary LH month")
    text = (await admin.expect_reply(contains="work summary")).text
    assert "LH-C 林和东第1片区 · Electrical hazard:" in text and POWER not in text
    doc = await admin.expect_reply(contains="(Excel)")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    assert column(book["Overdue"], "Category") == {"LH-C": "Electrical hazard"}


async def test_summary_in_chinese_keeps_the_chinese_label(world: World) -> None:
    await seed_categories(world)
    leader = world.user(LH_LEADER)
    await leader.send("/summary LH month")
    text = (await leader.expect_reply(contains="工作小结")).text
    assert f"• LH-C 林和东第1片区·{POWER}：" in text and "Electrical" not in text


async def test_export_names_the_category_in_english(world: World) -> None:
    await seed_categories(world)
    admin = await in_english(world, ADMIN_TG_ID)
    await admin.send("/export LH 2026-03")
    doc = await admin.expect_reply(contains="Ledger of")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    categories = column(book["Cases"], "Category")
    # LH-A's 用电 is not one of the deployment's categories: it stays as the ledger has it.
    assert categories == {"LH-A": "用电", "LH-B": "用电", "LH-C": "Electrical hazard"}

    leader = world.user(LH_LEADER)
    await leader.send("/export LH 2026-03")
    doc = await leader.expect_reply(contains="台账")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    assert column(book["隐患台账"], "隐患类别")["LH-C"] == POWER
