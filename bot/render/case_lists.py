"""Lists of cases: a /cases page with its filters, the cases part of /my, a case's ledger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.render.case_buttons import CardTool, CaseList, CaseTool, ListFilter
from bot.render.cases import CaseRender, rows_of
from domain.cases import CaseStatus
from services.case_notify import ordered
from services.cases import Waiting
from storage.models import Case, CaseEvent

OVERDUE_STATUSES = frozenset({CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.TRANSFERRED})
HISTORY_LIMIT = 4000  # Telegram allows 4096 characters


def open_button(case: Case) -> InlineKeyboardButton:
    """The case's code; pressed, the card comes anew."""
    data = CaseTool(id=case.id or 0, a=CardTool.OPEN).pack()
    return InlineKeyboardButton(text=case.code, callback_data=data)


def case_line(app: AppContext, texts: CaseRender, case: Case, language: str, now: datetime) -> str:
    overdue = (
        case.deadline_at is not None and case.deadline_at < now and case.status in OVERDUE_STATUSES
    )
    return app.t(
        "cases.list_line",
        language,
        code=case.code,
        severity=texts.severity(case.severity, language),
        status=texts.status(case.status, language),
        category=html.quote(texts.category(case.category, language)),
        deadline=texts.when(case.deadline_at),
        overdue=app.t("cases.overdue_mark", language) if overdue else "",
    )


def cases_page(
    app: AppContext,
    texts: CaseRender,
    language: str,
    now: datetime,
    *,
    flt: ListFilter,
    page: int,
    more: bool,
    rows: Sequence[Case],
    total: int,
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of /cases: the title, a line a case, the filters, paging, a button a case."""
    title = app.t(
        "cases.list_title",
        language,
        filter=app.t(f"cases.filter.{flt.value}", language),
        total=total,
    )
    lines = [title, *(case_line(app, texts, c, language, now) for c in rows)]
    if not rows:
        lines.append(app.t("cases.list_empty", language))
    filters = [
        InlineKeyboardButton(
            text=("• " if f is flt else "") + app.t(f"cases.filter.{f.value}", language),
            callback_data=CaseList(f=f, p=0).pack(),
        )
        for f in ListFilter
    ]
    kb = rows_of(filters, 4)
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(text="‹", callback_data=CaseList(f=flt, p=page - 1).pack()))
    if more:
        nav.append(InlineKeyboardButton(text="›", callback_data=CaseList(f=flt, p=page + 1).pack()))
    if nav:
        kb.append(nav)
    kb += [[open_button(c)] for c in rows]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=kb)


def waiting_section(
    app: AppContext, texts: CaseRender, language: str, now: datetime, waiting: Sequence[Waiting]
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The cases part of /my: what waits for the person (the first 20), with what to do."""
    if not waiting:
        return app.t("cases.my_none", language), []
    lines = [app.t("cases.my_title", language, n=len(waiting))]
    buttons: list[list[InlineKeyboardButton]] = []
    for w in waiting[:20]:
        todo = "、".join(app.t(f"cases.btn.{a.value}", language) for a in ordered(w.actions))
        lines.append(case_line(app, texts, w.case, language, now) + " — " + todo)
        buttons.append([open_button(w.case)])
    return "\n".join(lines), buttons


def history_text(
    texts: CaseRender,
    language: str,
    case: Case,
    events: Sequence[CaseEvent],
    names: Mapping[int | None, str],
    departments: Mapping[int | None, str],
) -> str:
    """The case's ledger (台账), cut to one message."""
    lines = [texts.t("cases.history_title", language, code=case.code)]
    for e in events:
        who = names[e.actor_id] if e.actor_id in names else departments.get(e.actor_department_id)
        lines.append(texts.event_line(e, who, language))
    text = "\n".join(lines)
    return text if len(text) <= HISTORY_LIMIT else text[:3990] + "\n…"
