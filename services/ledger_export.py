"""The 台账 as an Excel workbook: summary, cases, their ledger entries, patrols.

Streamed: xlsxwriter's constant-memory mode flushes each row to a temporary file as soon as
the next begins, and the rows come from the database a batch at a time
(`storage.ledger_export`), so memory stays flat whatever the size of the export. Each batch
is written in a worker thread (one at a time, so the workbook never sees two), leaving the
event loop free to answer others while a city's export runs for minutes. Times are
real Excel dates in the deployment's zone. Texts come through ``t`` (the reader's language);
a case's category is the deployment's in ``language`` (`domain.categories.shown_label`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import xlsxwriter
from sqlmodel.ext.asyncio.session import AsyncSession
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from domain.cases import Severity
from domain.categories import shown_label
from domain.patrols import ChecklistResult
from domain.stats import (
    CaseRecord,
    CaseTally,
    Figures,
    Line,
    PatrolTally,
    Scoreboard,
    Span,
    timeliness,
)
from services.case_view import deployment_categories
from services.patrols import COMPANIONS_KEY
from services.stats import scoreboard_of
from storage import ledger_export as rows
from storage.models import Grid
from storage.patrols import case_codes_by_patrol

Translate = Callable[..., str]
Progress = Callable[[int, int], Awaitable[None]]

# (text key, width) per column, in order.
SUMMARY_COLUMNS: Final = (
    ("export.sum.name", 22),
    ("export.sum.code", 14),
    ("export.sum.done", 10),
    ("export.sum.target", 10),
    ("export.sum.completion", 10),
    ("export.sum.accepted", 8),
    ("export.sum.closed", 8),
    ("export.sum.closure", 10),
    ("export.sum.extended", 8),
    ("export.sum.on_time", 10),
    ("export.sum.on_time_rate", 12),
    ("export.sum.reworked", 8),
    ("export.sum.rework_rate", 10),
    ("export.sum.reopens", 10),
    ("export.sum.rated", 8),
    ("export.sum.mean_rating", 10),
    ("export.sum.open", 8),
    ("export.sum.overdue", 8),
    ("export.sum.yellow", 8),
    ("export.sum.red", 8),
)
CASE_COLUMNS: Final = (
    ("export.case.code", 16),
    ("export.case.grid", 24),
    ("export.case.category", 12),
    ("export.case.severity", 9),
    ("export.case.status", 10),
    ("export.case.reporter", 18),
    ("export.case.place", 28),
    ("export.case.description", 40),
    ("export.case.reported", 17),
    ("export.case.accepted", 17),
    ("export.case.assigned", 17),
    ("export.case.feedback", 17),
    ("export.case.closed", 17),
    ("export.case.rated", 17),
    ("export.case.handler", 18),
    ("export.case.deadline", 17),
    ("export.case.on_time", 10),
    ("export.case.rework", 9),
    ("export.case.reopens", 10),
    ("export.case.rating", 9),
)
EVENT_COLUMNS: Final = (
    ("export.event.code", 16),
    ("export.event.at", 17),
    ("export.event.step", 16),
    ("export.event.actor", 14),
    ("export.event.grid", 14),
    ("export.event.status", 10),
    ("export.event.note", 50),
)
PATROL_COLUMNS: Final = (
    ("export.patrol.at", 17),
    ("export.patrol.finished", 17),
    ("export.patrol.area", 24),
    ("export.patrol.content", 36),
    ("export.patrol.people", 24),
    ("export.patrol.problems", 30),
    ("export.patrol.measures", 36),
    ("export.patrol.notes", 30),
    ("export.patrol.counted", 10),
)
DATE_FORMAT: Final = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class ExportCounts:
    cases: int
    events: int
    patrols: int

    @property
    def total(self) -> int:
        return self.cases + self.events + self.patrols


async def count_export(session: AsyncSession, grid: Grid, span: Span) -> ExportCounts:
    return ExportCounts(*(await rows.count_rows(session, grid.path, span)))


EXCEL_MAX_ROWS: Final = 1_048_576
EXCEL_EPOCH: Final = datetime(1899, 12, 30)
ONE_DAY: Final = timedelta(days=1)


def excel_date(at: datetime, tz: tzinfo) -> float:
    """An Excel date: days since Excel's epoch, in the wall-clock time where the grid office
    is (Excel has no zone). What xlsxwriter's write_datetime stores, at a fraction of the
    cost over a city's million cells."""
    return (at.astimezone(tz).replace(tzinfo=None) - EXCEL_EPOCH) / ONE_DAY


class _Sheet:
    """One table written row after row: header first, frozen, columns sized. Past Excel's
    row limit it goes on in a new worksheet ("巡查台账 (2)") with the same header."""

    def __init__(
        self,
        book: Any,
        name: str,
        columns: Sequence[tuple[str, int]],
        t: Translate,
        formats: dict[str, Format],
        *,
        max_rows: int = EXCEL_MAX_ROWS,
    ) -> None:
        self.book = book
        self.name = name
        self.columns = columns
        self.header = [t(key) for key, _w in columns]
        self.formats = formats
        self.max_rows = max_rows
        self.part = 0
        self.row = 0
        self.ws: Worksheet = self._open()

    def _open(self) -> Worksheet:
        self.part += 1
        name = self.name if self.part == 1 else f"{self.name} ({self.part})"
        ws: Worksheet = self.book.add_worksheet(name[:31])
        for i, (_key, width) in enumerate(self.columns):
            ws.set_column(i, i, width)
        ws.freeze_panes(1, 0)
        # 台账 get printed: landscape, as wide as the page, the header on every page.
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.write_row(0, 0, self.header, self.formats["head"])
        self.row = 1
        return ws

    def write(self, values: Sequence[Any], tz: tzinfo) -> None:
        if self.row >= self.max_rows:
            self.close()
            self.ws = self._open()
        for c, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, datetime):
                self.ws.write_number(self.row, c, excel_date(value, tz), self.formats["date"])
            elif isinstance(value, Rate):
                self.ws.write_number(self.row, c, value.value, self.formats[value.format])
            elif isinstance(value, (int, float)):
                self.ws.write_number(self.row, c, value)
            else:
                self.ws.write_string(self.row, c, str(value))
        self.row += 1

    def write_all(self, lines: Sequence[Sequence[Any]], tz: tzinfo) -> None:
        for values in lines:
            self.write(values, tz)

    def close(self) -> None:
        if self.row > 1:
            self.ws.autofilter(0, 0, self.row - 1, len(self.columns) - 1)


@dataclass(frozen=True)
class Rate:
    value: float
    format: str = "pct"


def _rate(value: float | None, fmt: str = "pct") -> Rate | str:
    return "—" if value is None else Rate(value, fmt)


def summary_values(line: Line, label: str) -> list[Any]:
    """A scoreboard line as the summary sheet writes it (the same figures as /stats)."""
    f: Figures = line.figures
    p, c = line.patrols, line.cases
    return [
        label,
        line.code,
        p.done,
        p.target or "—",
        _rate(f.completion),
        c.accepted,
        c.closed,
        _rate(f.closure),
        c.extended,
        c.on_time,
        _rate(f.on_time),
        c.reworked,
        _rate(f.rework),
        c.reopens,
        c.rated,
        _rate(f.mean_rating, "num"),
        c.open,
        c.overdue,
        c.yellow,
        c.red,
    ]


def _write_summary(
    sheet: _Sheet, board: Scoreboard, t: Translate, tz: tzinfo, now: datetime
) -> None:
    sheet.write(summary_values(board.total, t("export.sum.total", grid=board.grid.name)), tz)
    own = board.own
    if own.patrols != PatrolTally() or own.cases != CaseTally():
        sheet.write(summary_values(own, t("export.sum.own", grid=board.grid.name)), tz)
    for line in board.children:
        sheet.write(summary_values(line, line.label), tz)
    sheet.row += 1
    sheet.ws.write_string(sheet.row, 0, t("export.sum.people"), sheet.formats["head"])
    sheet.row += 1
    for line in board.people:
        # A role with no quota and no case (a 楼院长) would be a row of zeros.
        if line.patrols != PatrolTally() or line.cases != CaseTally():
            sheet.write(summary_values(line, line.label), tz)
    sheet.row += 1
    scope = t("export.sum.scope", grid=board.grid.name, code=board.grid.code, span=board.span.key)
    sheet.ws.write_string(sheet.row, 0, scope)
    sheet.ws.write_string(sheet.row + 1, 0, t("export.sum.note"))
    sheet.ws.write_string(sheet.row + 2, 0, t("export.sum.made"))
    sheet.ws.write_number(sheet.row + 2, 1, excel_date(now, tz), sheet.formats["date"])
    sheet.row += 3


def _severity(t: Translate, value: str) -> str:
    return t(f"digest.sev.{value}") if value in set(Severity) else value


def _place(address: str | None, lat: float | None, lon: float | None) -> str:
    if address:
        return address
    if lat is not None and lon is not None:
        return f"{lat:.5f}, {lon:.5f}"
    return ""


def _case_line(
    r: Any,
    steps: dict[int, dict[str, datetime]],
    reopens: dict[int, int],
    names: dict[int, str],
    departments: dict[int, str],
    t: Translate,
    category_of: Callable[[str], str],
    now: datetime,
) -> list[Any]:
    (cid, code, gcode, gname, category, severity, status, reporter, address, lat, lon,
     description, created, accepted, assigned, closed, deadline, handler, assignee, dept,
     rework, rating) = r  # fmt: skip
    kinds = steps.get(int(cid), {})
    record = CaseRecord(
        status,
        accepted,
        closed,
        deadline,
        rework,
        rating,
        "extension_approved" in kinds,
        reopens.get(int(cid), 0),
    )
    who = names.get(handler or assignee or -1) or departments.get(dept or -1, "")
    return [
        code,
        f"{gname}（{gcode}）",
        category_of(category),
        _severity(t, severity),
        t(f"cases.status.{status}"),
        names.get(reporter, ""),
        _place(address, lat, lon),
        description,
        created,
        accepted,
        assigned,
        kinds.get("feedback_given") or kinds.get("dept_feedback_given"),
        closed,
        kinds.get("rated"),
        who,
        deadline,
        t(f"export.timeliness.{timeliness(record, now).value}"),
        rework,
        record.reopens,
        t(f"cases.rating.{rating}") if rating else "",
    ]


def _event_line(
    r: Any, names: dict[int, str], departments: dict[int, str], t: Translate
) -> list[Any]:
    _cid, _eid, code, at, kind, actor, actor_dept, gcode, status, note = r
    who = names.get(actor or -1) or departments.get(actor_dept or -1, "")
    return [
        code,
        at,
        t(f"cases.event.{kind}"),
        who,
        gcode,
        t(f"cases.status.{status}"),
        note or "",
    ]


def _patrol_line(
    r: Any, names: dict[int, str], codes: dict[int, list[str]], t: Translate
) -> list[Any]:
    pid, started, finished, gcode, gname, person, status, counted, checklist, notes, measures = r
    data = checklist or {}
    answers = ChecklistResult.from_dict(data)
    companions = [
        str(c.get("name"))
        for c in data.get(COMPANIONS_KEY) or []
        if isinstance(c, dict) and c.get("name")
    ]
    found = "；".join(f"{i.name}：{i.note}" if i.note else i.name for i in answers.problems())
    if codes.get(int(pid)):
        found += ("；" if found else "") + "、".join(codes[int(pid)])
    return [
        started,
        finished,
        f"{gname}（{gcode}）",
        "、".join(i.name for i in answers.items if i.status is not None),
        "、".join([names.get(person, ""), *companions]),
        found or t("export.patrol.none_found"),
        measures or "",
        notes or "",
        t(f"export.patrol.status.{'counted' if counted else status}"),
    ]


async def write_ledger(
    session: AsyncSession,
    grid: Grid,
    span: Span,
    *,
    path: Path,
    now: datetime,
    tz: tzinfo,
    t: Translate,
    language: str,
    progress: Progress | None = None,
    counts: ExportCounts | None = None,
    batch: int = rows.BATCH,
    max_rows: int = EXCEL_MAX_ROWS,
) -> ExportCounts:
    """Write the subtree's 台账 for ``span`` to ``path``; ``progress(done, total)`` after
    each batch (of ``counts`` rows, counted here unless given). Returns how many rows each
    sheet got."""
    counts = counts or await count_export(session, grid, span)
    board = await scoreboard_of(session, grid, span, now=now, tz=tz)
    departments = await rows.department_names(session)
    # Millions of cells name a handful of statuses, steps and ratings: translate each once.
    label: Translate = lru_cache(maxsize=None)(lambda key: t(key))
    categories = await deployment_categories(session)
    category_of: Callable[[str], str] = lru_cache(maxsize=None)(
        lambda stored: shown_label(categories, stored, language)
    )
    book = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "tmpdir": str(path.parent), "strings_to_urls": False}
    )
    formats = {
        "head": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "pct": book.add_format({"num_format": "0.0%"}),
        "num": book.add_format({"num_format": "0.00"}),
    }
    done = 0

    async def step(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            await progress(done, counts.total)

    try:
        summary = _Sheet(book, t("export.sheet.summary"), SUMMARY_COLUMNS, t, formats)
        await asyncio.to_thread(_write_summary, summary, board, t, tz, now)

        cases = _Sheet(book, t("export.sheet.cases"), CASE_COLUMNS, t, formats, max_rows=max_rows)
        async for chunk in rows.case_batches(session, grid.path, span, batch=batch):
            ids = [int(r[0]) for r in chunk]
            steps = await rows.step_times(session, ids)
            reopens = await rows.reopen_counts(session, ids)
            names = await rows.person_names(
                session, (i for r in chunk for i in (r[7], r[17], r[18]))
            )
            lines = [
                _case_line(r, steps, reopens, names, departments, label, category_of, now)
                for r in chunk
            ]
            await asyncio.to_thread(cases.write_all, lines, tz)
            await step(len(chunk))
        cases.close()

        events = _Sheet(
            book, t("export.sheet.events"), EVENT_COLUMNS, t, formats, max_rows=max_rows
        )
        async for chunk in rows.event_batches(session, grid.path, span, batch=batch):
            names = await rows.person_names(session, (r[5] for r in chunk))
            lines = [_event_line(r, names, departments, label) for r in chunk]
            await asyncio.to_thread(events.write_all, lines, tz)
            await step(len(chunk))
        events.close()

        patrols = _Sheet(
            book, t("export.sheet.patrols"), PATROL_COLUMNS, t, formats, max_rows=max_rows
        )
        async for chunk in rows.patrol_batches(session, grid.path, span, batch=batch):
            names = await rows.person_names(session, (r[5] for r in chunk))
            codes = await case_codes_by_patrol(session, [int(r[0]) for r in chunk])
            lines = [_patrol_line(r, names, codes, label) for r in chunk]
            await asyncio.to_thread(patrols.write_all, lines, tz)
            await step(len(chunk))
        patrols.close()
    finally:
        # Zipping a city's workbook takes a while: off the event loop, like the rows.
        await asyncio.to_thread(book.close)
    return counts
