"""Patrol texts and keyboards: the checklist, the finish message, where a person stands, the
patrol ledger (巡查台账) and the summary posted to the grid's group.

The buttons' callback data are in bot/render/patrol_buttons.py.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.i18n import Translates
from bot.render.patrol_buttons import (
    PatrolAct,
    PatrolItem,
    PatrolLog,
    PatrolMate,
    PatrolSeverity,
    PatrolStep,
)
from domain.patrols import ChecklistResult, ItemStatus, PatrolFlag
from services import patrols as svc
from storage.models import Patrol

# --- the checklist -----------------------------------------------------------------------

_ICON = {None: "⬜", ItemStatus.OK: "✅", ItemStatus.PROBLEM: "⚠️"}


def render_checklist(
    app: AppContext, language: str, patrol: Patrol, grid_name: str
) -> tuple[str, InlineKeyboardMarkup]:
    checklist = svc.checklist_of(patrol)
    lines = [app.t("patrol.checklist_title", language, grid=html.quote(grid_name))]
    for item in checklist.items:
        line = f"{_ICON[item.status]} {html.quote(item.name)}"
        if item.status is ItemStatus.PROBLEM:
            line += " " + app.t("patrol.item_problem_mark", language)
            if item.note:
                line += f"：{html.quote(item.note)}"
        lines.append(line)
    lines.append(app.t("patrol.checklist_hint", language))
    assert patrol.id is not None
    rows = [
        [
            InlineKeyboardButton(
                text=app.t("patrol.btn_ok", language, item=item.name),
                callback_data=PatrolItem(p=patrol.id, i=i, ok=True).pack(),
            ),
            InlineKeyboardButton(
                text=app.t("patrol.btn_problem", language, item=item.name),
                callback_data=PatrolItem(p=patrol.id, i=i, ok=False).pack(),
            ),
        ]
        for i, item in enumerate(checklist.items)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=app.t("patrol.btn_all_ok", language),
                callback_data=PatrolStep(p=patrol.id, a=PatrolAct.ALL_OK).pack(),
            ),
            InlineKeyboardButton(
                text=app.t("patrol.btn_next", language),
                callback_data=PatrolStep(p=patrol.id, a=PatrolAct.NEXT).pack(),
            ),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def skip_markup(app: AppContext, language: str, patrol_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=app.t("patrol.btn_skip", language),
                    callback_data=PatrolStep(p=patrol_id, a=PatrolAct.SKIP).pack(),
                )
            ]
        ]
    )


def severity_markup(
    app: AppContext, language: str, patrol_id: int, severities: list[str]
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=app.t(f"patrol.severity_{s}", language),
            callback_data=PatrolSeverity(p=patrol_id, s=s).pack(),
        )
        for s in severities
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


def finish_markup(app: AppContext, language: str, patrol_id: int) -> InlineKeyboardMarkup:
    """Under the notes step: measures taken, companions, finish."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=app.t("patrol.btn_measures", language),
                    callback_data=PatrolStep(p=patrol_id, a=PatrolAct.MEASURES).pack(),
                ),
                InlineKeyboardButton(
                    text=app.t("patrol.btn_people", language),
                    callback_data=PatrolStep(p=patrol_id, a=PatrolAct.PEOPLE).pack(),
                ),
            ],
            [
                InlineKeyboardButton(
                    text=app.t("patrol.btn_finish", language),
                    callback_data=PatrolStep(p=patrol_id, a=PatrolAct.FINISH).pack(),
                )
            ],
        ]
    )


def companions_view(
    app: AppContext,
    language: str,
    patrol: Patrol,
    candidates: list[tuple[int, str]],
) -> tuple[str, InlineKeyboardMarkup]:
    """The companion picker: the grid's other members as toggles, typed names listed."""
    assert patrol.id is not None
    chosen = svc.companions_of(patrol)
    picked = {c.person_id for c in chosen if c.person_id is not None}
    rows = [
        [
            InlineKeyboardButton(
                text=("☑️ " if pid in picked else "⬜ ") + name,
                callback_data=PatrolMate(p=patrol.id, x=pid).pack(),
            )
        ]
        for pid, name in candidates
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=app.t("patrol.btn_back_notes", language),
                callback_data=PatrolStep(p=patrol.id, a=PatrolAct.BACK).pack(),
            )
        ]
    )
    names = "、".join(html.quote(c.name) for c in chosen) or app.t("patrol.none", language)
    text = app.t("patrol.ask_people", language, names=names, limit=svc.MAX_COMPANIONS)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


# --- where the person stands -------------------------------------------------------------


def flag_text(app: Translates, language: str, flags: tuple[PatrolFlag, ...]) -> str:
    return "、".join(app.t(f"patrol.flag_{f.value}", language) for f in flags)


def render_pace(app: AppContext, language: str, status: svc.QuotaStatus) -> str:
    """ "本月第3次巡查，目标5次，还差2次，剩9天"."""
    period = app.t(f"patrol.period_{status.period.value}", language)
    params = {
        "period": period,
        "n": status.done,
        "quota": status.pace.quota,
        "left": status.left,
        "days": status.pace.days_left,
    }
    if status.pace.met:
        return app.t("patrol.pace_met", language, **params)
    return app.t("patrol.pace_left", language, **params)


def render_quota_line(app: Translates, language: str, status: svc.QuotaStatus) -> str:
    """One quota for /my: done, due by now (`Pace.due`, the digest's figure), left."""
    key = "patrol.my_line_behind" if status.pace.short_of_due else "patrol.my_line"
    return app.t(
        key,
        language,
        grid=html.quote(status.grid_name),
        role=html.quote(status.role_label),
        period=app.t(f"patrol.period_{status.period.value}", language),
        quota=status.pace.quota,
        done=status.done,
        expected=status.pace.due,
        left=status.left,
        days=status.pace.days_left,
    )


def render_quota_section(app: AppContext, language: str, statuses: list[svc.QuotaStatus]) -> str:
    """The /my section on patrol quotas (empty string when the person has none)."""
    if not statuses:
        return ""
    lines = [app.t("patrol.my_title", language)]
    lines += [render_quota_line(app, language, s) for s in statuses]
    return "\n".join(lines)


def render_finished(app: AppContext, language: str, result: svc.Finished, grid_name: str) -> str:
    patrol = result.patrol
    problems = (
        len(ChecklistResult.from_dict(patrol.checklist).problems()) if patrol.checklist else 0
    )
    key = "patrol.done_quick" if patrol.kind == svc.QUICK else "patrol.done_full"
    lines = [app.t(key, language, grid=html.quote(grid_name), problems=problems)]
    if patrol.route and patrol.route.get("points_count", 0) > 1:
        lines.append(
            app.t(
                "patrol.route_summary",
                language,
                distance=round(float(patrol.route["distance_m"])),
                minutes=round(float(patrol.route["duration_s"]) / 60),
                points=patrol.route["points_count"],
            )
        )
    if not result.counted:
        lines.append(
            app.t("patrol.not_counted", language, reasons=flag_text(app, language, result.flags))
        )
    if result.quota is not None:
        lines.append(render_pace(app, language, result.quota))
    return "\n".join(lines)


# --- the ledger ----------------------------------------------------------------------------


def _when(at: datetime | None, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%m-%d %H:%M") if at else "—"


def ledger_entry(
    app: Translates, language: str, entry: svc.LedgerEntry, tz: tzinfo, *, full: bool = True
) -> str:
    """One patrol of the ledger: time, person, grid, place, problems, findings, measures,
    companions, flags. Everything a person typed is escaped."""
    p = entry.patrol
    t = app.t
    head = t(
        "patrol.log_line",
        language,
        when=_when(p.started_at, tz),
        name=html.quote(entry.person_name),
        grid=html.quote(entry.grid_name),
        kind=t(f"patrol.kind_{p.kind}", language),
    )
    lines = [head]
    if p.lat is not None and p.lon is not None:
        lines.append(t("patrol.log_place", language, lat=f"{p.lat:.5f}", lon=f"{p.lon:.5f}"))
    if entry.problems:
        lines.append(
            t(
                "patrol.log_problems",
                language,
                items="、".join(html.quote(i) for i in entry.problems),
            )
        )
    if entry.case_codes:
        lines.append(t("patrol.log_findings", language, codes="、".join(entry.case_codes)))
    if p.measures and full:
        lines.append(t("patrol.log_measures", language, text=html.quote(_short(p.measures))))
    if entry.companions:
        lines.append(
            t(
                "patrol.log_people",
                language,
                names="、".join(html.quote(c.name) for c in entry.companions),
            )
        )
    if p.notes and full:
        lines.append(t("patrol.log_notes", language, text=html.quote(_short(p.notes))))
    flags = tuple(PatrolFlag(f) for f in p.flags)
    if flags:
        lines.append(t("patrol.log_flags", language, reasons=flag_text(app, language, flags)))
    elif p.status == svc.OPEN:
        lines.append(t("patrol.log_open", language))
    return "\n".join(lines)


MESSAGE_LIMIT = 4096


def _within(head: list[str], entries: list[str], *, limit: int = MESSAGE_LIMIT) -> str | None:
    """The page text, or None when it would be longer than a message may be (HTML as sent;
    escaping only lengthens, so this errs on the safe side)."""
    text = "\n".join(head) + "".join("\n\n" + e for e in entries)
    return text if len(text) <= limit else None


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def render_ledger_page(
    app: Translates,
    language: str,
    page: svc.LedgerPage,
    tz: tzinfo,
) -> tuple[str, InlineKeyboardMarkup | None]:
    t = app.t
    lines = [
        t(
            "patrol.log_title",
            language,
            grid=html.quote(page.grid.name),
            code=html.quote(page.grid.code),
            month=page.month,
            total=page.total,
        )
    ]
    if not page.entries:
        lines.append(t("patrol.log_empty", language))
    text = _within(lines, [ledger_entry(app, language, e, tz) for e in page.entries])
    if text is None:  # long notes and measures: leave them to the exported document
        text = _within(
            lines, [ledger_entry(app, language, e, tz, full=False) for e in page.entries]
        )
    if text is None:
        kept: list[str] = []
        for e in page.entries:
            entry = ledger_entry(app, language, e, tz, full=False)
            if _within(lines, [*kept, entry], limit=MESSAGE_LIMIT - 100) is None:
                break
            kept.append(entry)
        text = "\n".join(lines) + "\n\n" + "\n\n".join(kept)
        text += "\n\n" + t("patrol.log_cut", language)
    grid_id = page.grid.id or 0
    month = int(page.month.replace("-", ""))
    nav = []
    if page.page > 0:
        nav.append(
            InlineKeyboardButton(
                text="‹", callback_data=PatrolLog(g=grid_id, m=month, n=page.page - 1).pack()
            )
        )
    if page.has_next:
        nav.append(
            InlineKeyboardButton(
                text="›", callback_data=PatrolLog(g=grid_id, m=month, n=page.page + 1).pack()
            )
        )
    rows = [nav] if nav else []
    if page.total:
        rows.append(
            [
                InlineKeyboardButton(
                    text=t("patrol.btn_log_export", language),
                    callback_data=PatrolLog(g=grid_id, m=month, doc=True).pack(),
                )
            ]
        )
    return text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def ledger_document(
    app: AppContext, language: str, grid_name: str, entries: list[svc.LedgerEntry], tz: tzinfo
) -> str:
    """The month's ledger as a CSV (UTF-8 with BOM so spreadsheet programs read it)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(app.t("patrol.log_csv_header", language).split(","))
    for e in entries:
        p = e.patrol
        writer.writerow(
            [
                p.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                p.finished_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if p.finished_at else "",
                e.person_name,
                e.grid_code,
                e.grid_name,
                app.t(f"patrol.kind_{p.kind}", language),
                f"{p.lat:.6f}" if p.lat is not None else "",
                f"{p.lon:.6f}" if p.lon is not None else "",
                "；".join(e.problems),
                "；".join(e.case_codes),
                p.measures or "",
                "；".join(c.name for c in e.companions),
                p.notes or "",
                flag_text(app, language, tuple(PatrolFlag(f) for f in p.flags)),
                app.t("patrol.yes" if p.counted else "patrol.no", language),
            ]
        )
    del grid_name
    return out.getvalue()


def group_summary(app: AppContext, language: str, entry: svc.LedgerEntry, tz: tzinfo) -> str:
    """The finished patrol, as posted to the grid's bound group."""
    return app.t("patrol.group_title", language) + "\n" + ledger_entry(app, language, entry, tz)
