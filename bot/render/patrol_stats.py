"""/patrols: a subtree's patrols of a period, per child grid and per person, against quota."""

from __future__ import annotations

from aiogram import html

from bot.context import AppContext
from services import patrols as svc

MAX_PEOPLE_SHOWN = 40


def _target(value: int | None) -> str:
    return "—" if not value else str(value)


def render_stats(app: AppContext, language: str, stats: svc.SubtreeStats) -> str:
    t = app.t
    lines = [
        t(
            "patrol.stats_title",
            language,
            grid=html.quote(stats.grid.name),
            code=html.quote(stats.grid.code),
            period=t(f"patrol.period_{stats.window.period.value}", language),
            key=stats.window.key,
        )
    ]
    rows = [stats.own, *stats.children] if stats.own.people or stats.own.done else stats.children
    if rows:
        lines.append(t("patrol.stats_grids", language))
        for g in rows:
            lines.append(
                t(
                    "patrol.stats_grid_line",
                    language,
                    grid=html.quote(g.grid_name),
                    code=html.quote(g.grid_code),
                    done=g.done,
                    target=_target(g.target),
                    flagged=g.flagged,
                )
            )
    people = sorted(stats.people, key=lambda p: (not p.short, p.grid_code, p.person_name))
    if people:
        lines.append(t("patrol.stats_people", language))
        for p in people[:MAX_PEOPLE_SHOWN]:
            key = "patrol.stats_person_short" if p.short else "patrol.stats_person_line"
            lines.append(
                t(
                    key,
                    language,
                    name=html.quote(p.person_name),
                    role=html.quote(p.role_label),
                    grid=html.quote(p.grid_name),
                    done=p.done,
                    target=_target(p.target),
                    flagged=p.flagged,
                )
            )
        if len(people) > MAX_PEOPLE_SHOWN:
            lines.append(t("patrol.stats_more", language, count=len(people) - MAX_PEOPLE_SHOWN))
    lines.append(t("patrol.stats_flagged", language, count=stats.flagged))
    return "\n".join(lines)
