"""The 台账 workbook (services/ledger_export.py) written from a real SQLite file and read back
with openpyxl: sheets, headers, frozen rows, Excel dates in Shanghai time, the summary's
figures equal to the scoreboard's, batches walked to the end with progress after each."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlmodel import select

from bot.i18n import Translator
from domain.stats import export_span
from services.ledger_export import write_ledger
from services.stats import scoreboard_of
from storage.db import Database
from storage.models import Case, Grid
from tests.storage.test_stats_queries import NOW, TZ, fire, seed

__all__ = ["fire"]


def zh(key: str, **params: Any) -> str:
    return Translator("zh").t(key, "zh", **params)


async def export(
    db: Database, code: str, path: Path, **kw: Any
) -> tuple[Any, list[tuple[int, int]]]:
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    async with db.reading() as s:
        grid = (await s.exec(select(Grid).where(Grid.code == code))).one()
        span = export_span(["2026-02", "2026-03"], date(2026, 3, 20), TZ)
        counts = await write_ledger(
            s, grid, span, path=path, now=NOW, tz=TZ, t=zh, language="zh", progress=progress, **kw
        )
    return counts, seen


async def test_the_workbook_of_a_street(fire: Database, tmp_path: Path) -> None:
    await seed(fire)
    path = tmp_path / "lh.xlsx"
    counts, progress = await export(fire, "LH", path, batch=4)
    # S001-S009 are LH-01-1's (all reported 03-01); S010 is ZJ-01's. The steps: one
    # extension approved, three reopens (S004 twice, S007 once).
    assert (counts.cases, counts.events, counts.patrols) == (9, 4, 6)
    assert progress[-1] == (19, 19) and [d for d, _ in progress] == [4, 8, 9, 13, 17, 19]
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["汇总", "隐患台账", "处置记录", "巡查台账"]
    cases = book["隐患台账"]
    assert cases.freeze_panes == "A2"
    header = [c.value for c in cases[1]]
    assert header[:3] == ["隐患编号", "所属网格", "隐患类别"]
    assert "整改期限" in header and "是否按期" in header and "返工次数" in header
    body = list(cases.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in body] == [f"S{n:03d}" for n in range(1, 10)]
    first = dict(zip(header, body[0], strict=True))
    # an Excel date, Shanghai wall-clock time: accepted 2026-03-02 10:00 +08
    assert first["立案时间"] == datetime(2026, 3, 2, 10, 0)
    assert cases.cell(row=2, column=header.index("立案时间") + 1).is_date
    assert (first["是否按期"], first["综合评价"], first["状态"]) == ("按期", "好", "已评价")
    assert dict(zip(header, body[2], strict=True))["是否按期"] == "延期"
    assert dict(zip(header, body[3], strict=True))["是否按期"] == "逾期未结"
    assert [r[header.index("重新打开次数")] for r in body] == [0, 0, 0, 2, 0, 0, 1, 0, 0]
    assert round(cases.column_dimensions["H"].width) == 41  # the description: 40 characters
    steps = book["处置记录"]
    assert [c.value for c in steps[1]][:3] == ["隐患编号", "时间", "环节"]
    assert sorted(r[2] for r in steps.iter_rows(min_row=2, values_only=True)) == sorted(
        ["同意延期", "重新打开", "重新打开", "重新打开"]
    )
    patrols = book["巡查台账"]
    assert [c.value for c in patrols[1]][:6] == [
        "巡查时间",
        "结束时间",
        "巡查区域",
        "巡查内容",
        "参与人员",
        "发现问题",
    ]
    assert patrols.max_row == 7 and patrols.freeze_panes == "A2"

    summary = book["汇总"]
    assert summary.freeze_panes == "A2"
    rows = {r[0]: r for r in summary.iter_rows(min_row=2, values_only=True) if r[0]}
    head = [c.value for c in summary[1]]
    lh01 = dict(zip(head, rows["林和东社区"], strict=True))
    async with fire.reading() as s:
        grid = (await s.exec(select(Grid).where(Grid.code == "LH"))).one()
        span = export_span(["2026-02", "2026-03"], date(2026, 3, 20), TZ)
        board = await scoreboard_of(s, grid, span, now=NOW, tz=TZ)
    line = board.children[0]
    assert lh01["立案数"] == line.cases.accepted == 7  # Feb and March cohorts together
    assert lh01["按期结案率"] == pytest.approx(line.figures.on_time)
    assert lh01["结案率"] == pytest.approx(line.figures.closure)
    assert lh01["巡查次数"] == line.patrols.done == 5
    assert lh01["重新打开次数"] == line.cases.reopens == 3


async def test_another_street_gets_none_of_these_rows(fire: Database, tmp_path: Path) -> None:
    await seed(fire)
    path = tmp_path / "zj.xlsx"
    counts, _ = await export(fire, "ZJ", path)
    assert (counts.cases, counts.events, counts.patrols) == (1, 0, 0)  # no reopen of LH's
    book = openpyxl.load_workbook(path)
    codes = [r[0] for r in book["隐患台账"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["S010"]
    async with fire.reading() as s:
        lh_cases = (await s.exec(select(Case.code).where(Case.code != "S010"))).all()
    text = " ".join(
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
    )
    assert not any(code in text for code in lh_cases)
    assert "林和" not in text


async def test_a_table_past_the_sheet_limit_goes_on_in_another_sheet(
    fire: Database, tmp_path: Path
) -> None:
    await seed(fire)
    path = tmp_path / "parts.xlsx"
    await export(fire, "LH", path, max_rows=4)  # a header and three rows a sheet
    book = openpyxl.load_workbook(path)
    parts = [n for n in book.sheetnames if n.startswith("隐患台账")]
    assert parts == ["隐患台账", "隐患台账 (2)", "隐患台账 (3)"]
    codes = [r[0] for n in parts for r in book[n].iter_rows(min_row=2, values_only=True)]
    assert codes == [f"S{n:03d}" for n in range(1, 10)]
    assert all(book[n]["A1"].value == "隐患编号" and book[n].freeze_panes == "A2" for n in parts)
