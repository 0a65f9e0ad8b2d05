"""The leader's 述职 figures (/summary): the scoreboard of a period with its highlights and
the worst overdue cases, and the workbook that goes with the text.

The figures are the scoreboard's (`services.stats.scoreboard_of`), so /summary, /stats and
the export's summary sheet never disagree; the choices are `domain.summary`'s.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Final

import xlsxwriter
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.categories import Category, shown_label
from domain.stats import Scoreboard, Span
from domain.summary import WORST_CASES, Highlights, highlights, overdue_days
from services.case_view import deployment_categories
from services.ledger_export import DATE_FORMAT, SUMMARY_COLUMNS, _Sheet, summary_values
from services.stats import scoreboard_of
from storage import stats as queries
from storage.models import Grid
from storage.stats import OverdueCase

Translate = Callable[..., str]

OVERDUE_COLUMNS: Final = (
    ("summary.col.code", 16),
    ("summary.col.grid", 24),
    ("summary.col.category", 14),
    ("summary.col.severity", 8),
    ("summary.col.description", 40),
    ("summary.col.deadline", 17),
    ("summary.col.days", 10),
    ("summary.col.holder", 20),
)


@dataclass(frozen=True)
class SummaryReport:
    board: Scoreboard
    highlights: Highlights
    overdue: tuple[OverdueCase, ...]
    now: datetime
    categories: tuple[Category, ...] = ()
    """The deployment's categories: the overdue cases' categories in the reader's language."""

    @property
    def span(self) -> Span:
        return self.board.span

    def category(self, label: str, language: str) -> str:
        return shown_label(self.categories, label, language)


async def summary_of(
    session: AsyncSession, grid: Grid, span: Span, *, now: datetime, tz: tzinfo
) -> SummaryReport:
    board = await scoreboard_of(session, grid, span, now=now, tz=tz)
    worst = await queries.worst_overdue(session, grid.path, now, limit=WORST_CASES)
    categories = await deployment_categories(session)
    return SummaryReport(board, highlights(board), tuple(worst), now, categories)


def summary_workbook(
    report: SummaryReport, text_lines: Sequence[str], *, t: Translate, tz: tzinfo, language: str
) -> bytes:
    """The .xlsx of /summary: the text (工作小结), the child grids' figures (the export's
    summary columns and sheet writer) and the worst overdue cases, headers frozen, dates as
    Excel dates in the deployment's zone."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_urls": False})
    formats = {
        "head": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "num": book.add_format({"num_format": "0.00"}),
    }
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    text = book.add_worksheet(t("summary.sheet.text")[:31])
    text.set_column(0, 0, 100)
    for row, line in enumerate(text_lines):
        text.write_string(row, 0, line, wrap)

    board = report.board
    grids = _Sheet(book, t("summary.sheet.children"), SUMMARY_COLUMNS, t, formats)
    grids.write(summary_values(board.total, t("export.sum.total", grid=board.grid.name)), tz)
    grids.write_all([summary_values(c, c.label) for c in board.children], tz)
    grids.close()

    overdue = _Sheet(book, t("summary.sheet.overdue"), OVERDUE_COLUMNS, t, formats)
    overdue.write_all(
        [
            [
                c.code,
                c.grid,
                report.category(c.category, language),
                t(f"cases.severity.{c.severity}"),
                c.description,
                c.deadline_at,
                overdue_days(c.deadline_at, report.now),
                c.assignee or c.department or "",
            ]
            for c in report.overdue
        ],
        tz,
    )
    overdue.close()
    book.close()
    return out.getvalue()
