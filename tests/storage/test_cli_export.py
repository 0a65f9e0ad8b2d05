"""`gridbot export CODE [FROM] [TO]` on a real SQLite file: the workbook written where asked,
progress on stderr, one summary line; bad input refused on one line and no file left."""

from __future__ import annotations

import argparse
from pathlib import Path

import openpyxl
import pytest

from bot.cli import _parser
from bot.commands_cli import CliError, cmd_export
from bot.settings import load_settings
from storage.db import Database
from tests.storage.test_stats_queries import fire, seed

__all__ = ["fire"]


def args(*words: str) -> argparse.Namespace:
    return _parser().parse_args(["export", *words])


async def test_cli_export_writes_the_workbook(
    fire: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(fire)
    settings = load_settings(database_url=db_url)
    out = tmp_path / "out" / "lh.xlsx"
    assert await cmd_export(settings, args("LH", "2026-03", "--out", str(out))) == 0
    printed = capsys.readouterr()
    assert printed.out.strip() == (
        f"wrote {out}: LH 2026-03-01~2026-03-31, 9 cases, 4 case steps, 5 patrols"
    )
    assert "exported 18 / 18 rows" in printed.err
    book = openpyxl.load_workbook(out)
    assert [r[0] for r in book["隐患台账"].iter_rows(min_row=2, values_only=True)] == [
        f"S{n:03d}" for n in range(1, 10)
    ]
    assert list(out.parent.iterdir()) == [out]  # no partial file left
    english = tmp_path / "en.xlsx"
    await cmd_export(
        settings, args("ZJ", "2026-03-01", "2026-03-31", "--out", str(english), "--lang", "en")
    )
    assert openpyxl.load_workbook(english).sheetnames == [
        "Summary",
        "Cases",
        "Case steps",
        "Patrols",
    ]


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["NOPE"], "没有编号为 NOPE 的网格"),
        (["LH", "2999-01"], "还没到"),
        (["LH", "2026-03-09", "2026-03-01"], "开始日期晚于结束日期"),
        (["LH", "2024-01", "2026-03"], "最多导出一年"),
    ],
)
async def test_cli_export_refuses_bad_input(
    fire: Database, db_url: str, tmp_path: Path, words: list[str], says: str
) -> None:
    settings = load_settings(database_url=db_url)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(CliError, match=says):
        await cmd_export(settings, args(*words, "--out", str(folder / "x.xlsx")))
    assert list(folder.iterdir()) == []
