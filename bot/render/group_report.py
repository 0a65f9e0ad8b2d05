"""What the bot says in a group about a report made there: the one-line prompts for a
missing part, the draft to confirm with one tap, and the outcome. Every press carries the
reporter's Telegram id (`GroupReportCb`; the pressed message itself names the draft) and is
checked against the reporter's pending reports as they are now."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.keyboards import Callback
from bot.render.cases import rows_of
from domain.categories import Category, by_label
from services.reporting import Draft
from storage.models import Case

Shown = tuple[str, InlineKeyboardMarkup]


class GroupPress(StrEnum):
    SUBMIT = "ok"
    DROP = "no"
    CATEGORY = "cat"  # x: index of the category
    ADD_TO = "dup"  # x: id of the possible duplicate the report is added to


class GroupReportCb(Callback, prefix="gr"):
    k: GroupPress
    r: int  # the reporter's Telegram id
    x: int = 0


def mention(name: str, tg_id: int) -> str:
    return f'<a href="tg://user?id={tg_id}">{html.quote(name)}</a>'


def _btn(text: str, k: GroupPress, r: int, x: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=GroupReportCb(k=k, r=r, x=x).pack())


def _link(app: AppContext, language: str, key: str, link: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=app.t(key, language), url=link)


def ask_category(
    app: AppContext, language: str, name: str, categories: Sequence[Category],
    reporter: int, link: str,
) -> Shown:  # fmt: skip
    buttons = [
        _btn(c.shown(language), GroupPress.CATEGORY, reporter, i) for i, c in enumerate(categories)
    ]
    rows = [*rows_of(buttons, 3), [_link(app, language, "greport.fill_in_private", link)]]
    text = app.t("greport.ask_category", language, name=name)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def ask_place(app: AppContext, language: str, name: str, link: str) -> Shown:
    rows = [[_link(app, language, "greport.fill_in_private", link)]]
    text = app.t("greport.ask_place", language, name=name)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def preview(
    app: AppContext, language: str, name: str, draft: Draft, grid_name: str,
    categories: Sequence[Category], reporter: int, link: str, duplicates: Sequence[Case] = (),
) -> Shown:  # fmt: skip
    known = by_label(categories, draft.category or "")
    place = html.quote(draft.address) if draft.address else ""
    if draft.lat is not None and draft.lon is not None:
        place = f"{place} 📍 {draft.lat:.5f}, {draft.lon:.5f}".strip()
    text = app.t(
        "greport.preview",
        language,
        name=name,
        grid=html.quote(grid_name),
        category=html.quote(known.shown(language) if known else draft.category or ""),
        description=html.quote(draft.description or ""),
        place=place,
        severity=app.t(f"cases.severity.{draft.severity}", language) if draft.severity else "",
        photos=len(draft.photos),
    )
    if duplicates:
        text += "\n\n" + app.t("report.duplicate_intro", language)
    for case in duplicates:
        text += "\n" + app.t(
            "report.duplicate_line",
            language,
            code=case.code,
            text=html.quote(case.description[:60]),
            status=app.t(f"cases.status.{case.status}", language),
        )
    rows = [
        [
            _btn(
                app.t("report.add_to", language, code=c.code),
                GroupPress.ADD_TO,
                reporter,
                c.id or 0,
            )
        ]
        for c in duplicates
    ]
    rows += [
        [
            _btn(app.t("greport.submit", language), GroupPress.SUBMIT, reporter),
            _btn(app.t("greport.drop", language), GroupPress.DROP, reporter),
        ],
        [_link(app, language, "greport.in_private", link)],
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)
