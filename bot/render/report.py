"""The /report conversation's questions, their buttons and the summary before submitting.

Callback data carry a short Enum value and an index or an id (`ReportCb`); every press is
checked by handlers/report.py against the draft as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache
from typing import Final

from aiogram import html
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.context import AppContext
from bot.i18n import Translator
from bot.keyboards import Callback
from bot.render.cases import rows_of
from domain.cases import Severity
from domain.categories import by_label
from services import reporting
from services.reporting import Draft, Review

EDITABLE: Final = ("category", "description", "photos", "location", "severity")
"""The fields the summary offers to change, by index (`ReportPress.EDIT`)."""

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup
Question = tuple[str, Markup]


class ReportPress(StrEnum):
    GRID = "grid"  # x: grid id
    CATEGORY = "cat"  # x: index of the category
    SEVERITY = "sev"  # x: index of the severity offered
    PHOTOS_DONE = "done"
    BACK = "back"
    EDIT = "edit"  # x: index in EDITABLE
    SUBMIT = "ok"
    ADD_TO = "dup"  # x: id of the case the report is added to as a comment


class ReportCb(Callback, prefix="r"):
    k: ReportPress
    x: int = 0


def _kb(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _btn(text: str, k: ReportPress, x: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ReportCb.packed(k=k, x=x))


def _back(app: AppContext, language: str) -> list[InlineKeyboardButton]:
    return [_btn(app.t("report.back", language), ReportPress.BACK)]


def open_private_button(app: AppContext, language: str, link: str) -> InlineKeyboardMarkup:
    return _kb([[InlineKeyboardButton(text=app.t("report.open_button", language), url=link)]])


def photos_done_button(app: AppContext, language: str) -> InlineKeyboardMarkup:
    return _kb([[_btn(app.t("report.done", language), ReportPress.PHOTOS_DONE)]])


def grid_question(app: AppContext, language: str, grids: Sequence[tuple[int, str]]) -> Question:
    buttons = [_btn(name, ReportPress.GRID, gid) for gid, name in grids]
    return app.t("report.ask_grid", language), _kb(rows_of(buttons, 1))


def grid_again_question(app: AppContext, language: str) -> Question:
    return app.t("report.ask_grid_again", language), _kb([_back(app, language)])


def category_question(app: AppContext, language: str, categories: Sequence[str]) -> Question:
    buttons = [_btn(c, ReportPress.CATEGORY, i) for i, c in enumerate(categories)]
    markup = _kb([*rows_of(buttons, 2), _back(app, language)])
    return app.t("report.ask_category", language), markup


def description_question(app: AppContext, language: str) -> Question:
    text = app.t("report.ask_description", language, limit=reporting.MAX_DESCRIPTION)
    return text, _kb([_back(app, language)])


def photos_question(app: AppContext, language: str, photos: int) -> Question:
    text = app.t("report.ask_photos", language, n=photos, limit=reporting.MAX_PHOTOS)
    done = _btn(app.t("report.done", language), ReportPress.PHOTOS_DONE)
    return text, _kb([[done], _back(app, language)])


def location_questions(app: AppContext, language: str) -> list[Question]:
    """The location button (a reply keyboard), then the way back (an inline one)."""
    share = KeyboardButton(text=app.t("report.send_location", language), request_location=True)
    keyboard = ReplyKeyboardMarkup(keyboard=[[share]], resize_keyboard=True, one_time_keyboard=True)
    return [
        (app.t("report.ask_location", language), keyboard),
        (app.t("report.or_back", language), _kb([_back(app, language)])),
    ]


def severity_question(app: AppContext, language: str, offered: Sequence[Severity]) -> Question:
    buttons = [
        _btn(app.t(f"cases.severity.{s.value}", language), ReportPress.SEVERITY, i)
        for i, s in enumerate(offered)
    ]
    return app.t("report.ask_severity", language), _kb([buttons, _back(app, language)])


def summary(app: AppContext, language: str, draft: Draft, review: Review) -> Question:
    """The draft as it would be reported, possible duplicates (to add to instead), the fields
    to change, and submit."""
    text = app.t(
        "report.summary",
        language,
        grid=html.quote(review.grid_name),
        category=html.quote(_category(draft, review, language)),
        description=html.quote(draft.description or ""),
        photos=len(draft.photos),
        place=_place(draft),
        severity=app.t(f"cases.severity.{draft.severity}", language) if draft.severity else "",
    )
    lang = language or app.settings.default_language  # the cached buttons' key
    rows: list[list[InlineKeyboardButton]] = []
    if review.duplicates:
        text += "\n\n" + app.t("report.duplicate_intro", language)
    for case in review.duplicates:
        text += "\n" + app.t(
            "report.duplicate_line",
            language,
            code=case.code,
            text=html.quote(case.description[:60]),
            status=app.t(f"cases.status.{case.status}", language),
        )
        rows.append([_add_to_button(app.translator, lang, case.code, case.id or 0)])
    rows += [list(row) for row in _summary_tail(app.translator, lang)]
    return text, _kb(rows)


@lru_cache(maxsize=256)
def _add_to_button(t: Translator, language: str, code: str, case_id: int) -> InlineKeyboardButton:
    """The button adding the report to a possible duplicate: the same few cases are offered
    at every summary of reports nearby."""
    return _btn(t.t("report.add_to", language, code=code), ReportPress.ADD_TO, case_id)


@lru_cache(maxsize=16)
def _summary_tail(t: Translator, language: str) -> tuple[tuple[InlineKeyboardButton, ...], ...]:
    """The summary's edit and submit buttons, made once per translator and language: every
    summary shows them again, and nothing changes a button once it is sent."""
    edit_buttons = [
        _btn(t.t(f"report.edit.{f}", language), ReportPress.EDIT, i) for i, f in enumerate(EDITABLE)
    ]
    submit = [_btn(t.t("report.submit", language), ReportPress.SUBMIT)]
    return tuple(tuple(row) for row in [*rows_of(edit_buttons, 3), submit])


def _category(draft: Draft, review: Review, language: str) -> str:
    known = by_label(review.categories, draft.category or "")
    return known.shown(language) if known else draft.category or ""


def _place(draft: Draft) -> str:
    address = html.quote(draft.address) if draft.address else ""
    point = (
        f"📍 {draft.lat:.5f}, {draft.lon:.5f}"
        if draft.lat is not None and draft.lon is not None
        else ""
    )
    return " ".join(p for p in (address, point) if p)
