"""/summary as the leader reads it: a 工作小结 in the words of the grid office's own reports,
as plain lines (the workbook's first sheet) and as the chat's HTML text."""

from __future__ import annotations

from typing import Final

from aiogram import html

from bot.i18n import Translator
from bot.render.stats import _mean, _pct
from domain.stats import Line
from domain.summary import overdue_days
from services.stats_summary import SummaryReport

MAX_CHILDREN: Final = 20
TEXT_LIMIT: Final = 4000


def period_label(t: Translator, lang: str, key: str) -> str:
    """ "2026" → 2026年度, "2026-H1" → 2026年上半年, "2026-03" → 2026年3月."""
    year, _, rest = key.partition("-")
    if not rest:
        return t.t("summary.period.year", lang, year=year)
    if rest.startswith("H"):
        return t.t(f"summary.period.half{rest[1:]}", lang, year=year)
    return t.t("summary.period.month", lang, year=year, month=int(rest))


def _child(t: Translator, lang: str, c: Line) -> str:
    f = c.figures
    return t.t(
        "summary.child_line",
        lang,
        grid=c.label,
        done=c.patrols.done,
        found=c.cases.accepted,
        closed=c.cases.closed,
        on_time=_pct(f.on_time),
        reworked=c.cases.reworked,
    )


def summary_lines(t: Translator, lang: str, report: SummaryReport) -> list[str]:
    """The 工作小结, one paragraph or list item a line, unescaped (the workbook's text)."""
    board = report.board
    total, f = board.total, board.total.figures
    period = period_label(t, lang, board.span.key)
    lines = [
        t.t("summary.title", lang, grid=board.grid.name, code=board.grid.code, period=period),
        t.t(
            "summary.body",
            lang,
            period=period,
            patrols=total.patrols.done,
            target=total.patrols.target or "—",
            completion=_pct(f.completion),
            found=total.cases.accepted,
            closed=total.cases.closed,
            closure=_pct(f.closure),
            on_time=_pct(f.on_time),
            reworked=total.cases.reworked,
            rework=_pct(f.rework),
            reopens=total.cases.reopens,
            rating=_mean(f.mean_rating),
            open=total.cases.open,
            overdue=total.cases.overdue,
            red=total.cases.red,
        ),
    ]
    h = report.highlights
    marks = []
    if h.best is not None:
        best = h.best.figures
        marks.append(
            t.t(
                "summary.best",
                lang,
                grid=h.best.label,
                on_time=_pct(best.on_time),
                closure=_pct(best.closure),
            )
        )
    if h.most_patrols is not None:
        marks.append(
            t.t(
                "summary.most_patrols",
                lang,
                grid=h.most_patrols.label,
                completion=_pct(h.most_patrols.figures.completion),
            )
        )
    if h.worst is not None:
        marks.append(
            t.t(
                "summary.worst",
                lang,
                grid=h.worst.label,
                on_time=_pct(h.worst.figures.on_time),
                overdue=h.worst.cases.overdue,
            )
        )
    if marks:
        lines += [t.t("summary.highlights_head", lang), *marks]
    if board.children:
        lines.append(t.t("summary.children_head", lang))
        lines += [_child(t, lang, c) for c in board.children[:MAX_CHILDREN]]
        if len(board.children) > MAX_CHILDREN:
            lines.append(t.t("summary.more", lang, count=len(board.children) - MAX_CHILDREN))
    lines.append(t.t("summary.overdue_head", lang))
    if not report.overdue:
        lines.append(t.t("summary.no_overdue", lang))
    for c in report.overdue:
        lines.append(
            t.t(
                "summary.overdue_line",
                lang,
                code=c.code,
                grid=c.grid,
                category=report.category(c.category, lang),
                description=c.description[:40],
                days=overdue_days(c.deadline_at, report.now),
                who=c.assignee or c.department or t.t("summary.nobody", lang),
            )
        )
    return lines


def summary_text(t: Translator, lang: str, lines: list[str]) -> str:
    """The chat's text: the lines escaped, the title bold, cut to one message."""
    out = [f"📝 <b>{html.quote(lines[0])}</b>"]
    for line in lines[1:]:
        quoted = html.quote(line)
        if sum(len(x) + 1 for x in out) + len(quoted) > TEXT_LIMIT - 100:
            out.append(t.t("summary.see_file", lang))
            break
        out.append(quoted)
    return "\n".join(out)
