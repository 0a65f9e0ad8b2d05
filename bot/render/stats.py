"""/stats as the leader reads it: the scoreboard's text and the chart's words."""

from __future__ import annotations

from typing import Final

from aiogram import html

from bot.i18n import Translator
from bot.render.charts import ChartData
from domain.stats import Figures, Line, StatsPeriod
from services.stats import StatsReport

MAX_GRIDS: Final = 30
MAX_RANKED: Final = 10
MAX_PEOPLE: Final = 30
TEXT_LIMIT: Final = 4000  # under Telegram's 4096, whatever the names


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _mean(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _figures(line: Line) -> dict[str, str | int]:
    f: Figures = line.figures
    return {
        "done": line.patrols.done,
        "target": line.patrols.target or "—",
        "completion": _pct(f.completion),
        "accepted": line.cases.accepted,
        "closure": _pct(f.closure),
        "on_time": _pct(f.on_time),
        "rework": _pct(f.rework),
        "reopens": line.cases.reopens,
        "rating": _mean(f.mean_rating),
        "open": line.cases.open,
        "overdue": line.cases.overdue,
        "yellow": line.cases.yellow,
        "red": line.cases.red,
    }


def stats_text(
    t: Translator, lang: str, report: StatsReport, period: StatsPeriod, *, ended: bool = False
) -> str:
    """The scoreboard's text; ``ended``: of the period before the current one (the monthly
    push: 上月, 上季度)."""
    board = report.board
    grid = board.grid
    word = f"stats.period.last_{period.value}" if ended else f"stats.period.{period.value}"
    lines = [
        t.t(
            "stats.title",
            lang,
            grid=html.quote(grid.name),
            code=html.quote(grid.code),
            period=t.t(word, lang),
            key=board.span.key,
        ),
        t.t("stats.total", lang, **_figures(board.total)),
    ]
    if board.children:
        lines.append(t.t("stats.grids_head", lang))
        lines += [
            t.t("stats.grid_line", lang, grid=html.quote(c.label), **_figures(c))
            for c in board.children[:MAX_GRIDS]
        ]
        lines.append(t.t("stats.ranking_head", lang))
        lines += [
            t.t(
                "stats.rank_line",
                lang,
                rank=i,
                grid=html.quote(c.label),
                **{
                    k: v
                    for k, v in _figures(c).items()
                    if k in ("on_time", "completion", "closure")
                },
            )
            for i, c in enumerate(board.ranking[:MAX_RANKED], start=1)
        ]
    people = [
        p
        for p in board.people
        if p.patrols.target or p.patrols.done or p.cases.accepted or p.cases.open
    ]
    if people:
        lines.append(t.t("stats.people_head", lang))
        shown = 0
        for p in people[:MAX_PEOPLE]:
            line = t.t("stats.person_line", lang, name=html.quote(p.label), **_figures(p))
            if sum(len(x) + 1 for x in lines) + len(line) > TEXT_LIMIT - 200:
                break
            lines.append(line)
            shown += 1
        if shown < len(people):
            lines.append(t.t("stats.more", lang, count=len(people) - shown))
    lines.append(t.t("stats.definitions", lang))
    return "\n".join(lines)


def chart_data(t: Translator, lang: str, report: StatsReport) -> ChartData:
    board = report.board
    children = list(board.ranking)
    return ChartData(
        bars_title=t.t("stats.chart.bars", lang, grid=board.grid.name, key=board.span.key),
        trend_title=t.t("stats.chart.trend", lang, grid=board.grid.name, key=board.span.key),
        names=[c.label for c in children],
        completion=[c.figures.completion for c in children],
        on_time=[c.figures.on_time for c in children],
        completion_label=t.t("stats.chart.completion", lang),
        on_time_label=t.t("stats.chart.on_time", lang),
        trend_labels=report.trend.labels,
        patrols=report.trend.patrols,
        closed=report.trend.closed,
        patrols_label=t.t("stats.chart.patrols", lang),
        closed_label=t.t("stats.chart.closed", lang),
        empty_label=t.t("stats.chart.no_children", lang),
    )
