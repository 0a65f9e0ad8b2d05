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
from domain.categories import Category, by_label
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
    return [_back_button(app.translator, language or app.settings.default_language)]


# The questions below are drawn once per translator and language (and what else they show):
# every report asks them again, and nothing changes a keyboard once it is sent. `language or
# the default` is what `AppContext.t` translates in, so the key is what the text depends on.


@lru_cache(maxsize=16)
def _back_button(t: Translator, language: str) -> InlineKeyboardButton:
    return _btn(t.t("report.back", language), ReportPress.BACK)


def open_private_button(app: AppContext, language: str, link: str) -> InlineKeyboardMarkup:
    return _kb([[InlineKeyboardButton(text=app.t("report.open_button", language), url=link)]])


def photos_done_button(app: AppContext, language: str) -> InlineKeyboardMarkup:
    return _photos_done_button(app.translator, language or app.settings.default_language)


@lru_cache(maxsize=16)
def _photos_done_button(t: Translator, language: str) -> InlineKeyboardMarkup:
    return _kb([[_btn(t.t("report.done", language), ReportPress.PHOTOS_DONE)]])


def grid_question(app: AppContext, language: str, grids: Sequence[tuple[int, str]]) -> Question:
    buttons = [_btn(name, ReportPress.GRID, gid) for gid, name in grids]
    return app.t("report.ask_grid", language), _kb(rows_of(buttons, 1))


def grid_again_question(app: AppContext, language: str) -> Question:
    return _grid_again_question(app.translator, language or app.settings.default_language)


@lru_cache(maxsize=16)
def _grid_again_question(t: Translator, language: str) -> Question:
    return t.t("report.ask_grid_again", language), _kb([[_back_button(t, language)]])


def category_question(app: AppContext, language: str, categories: tuple[Category, ...]) -> Question:
    """The deployment's categories as buttons. The same tuple comes back for the same
    deployment (services.case_view keeps it by content), so the question is kept per tuple,
    translator and language: drawing its dozen buttons was a third of a /report."""
    key = (id(categories), id(app.translator), language, app.settings.default_language)
    kept = _CATEGORY_QUESTIONS.get(key)
    if kept is not None and kept[0] is categories and kept[1] is app.translator:
        return kept[2]
    if len(_CATEGORY_QUESTIONS) >= 16:
        _CATEGORY_QUESTIONS.clear()
    question = _category_question(app, language, [c.shown(language) for c in categories])
    _CATEGORY_QUESTIONS[key] = (categories, app.translator, question)
    return question


_CATEGORY_QUESTIONS: dict[tuple[int, int, str, str], tuple[object, object, Question]] = {}
"""The kept questions with the tuple and translator they were drawn for (which keeps both
alive, so that their ids are not reused while kept)."""


def _category_question(app: AppContext, language: str, shown: Sequence[str]) -> Question:
    buttons = [_btn(c, ReportPress.CATEGORY, i) for i, c in enumerate(shown)]
    markup = _kb([*rows_of(buttons, 2), _back(app, language)])
    return app.t("report.ask_category", language), markup


def description_question(app: AppContext, language: str) -> Question:
    return _description_question(app.translator, language or app.settings.default_language)


@lru_cache(maxsize=16)
def _description_question(t: Translator, language: str) -> Question:
    text = t.t("report.ask_description", language, limit=reporting.MAX_DESCRIPTION)
    return text, _kb([[_back_button(t, language)]])


def photos_question(app: AppContext, language: str, photos: int) -> Question:
    return _photos_question(app.translator, language or app.settings.default_language, photos)


@lru_cache(maxsize=64)
def _photos_question(t: Translator, language: str, photos: int) -> Question:
    text = t.t("report.ask_photos", language, n=photos, limit=reporting.MAX_PHOTOS)
    done = _btn(t.t("report.done", language), ReportPress.PHOTOS_DONE)
    return text, _kb([[done], [_back_button(t, language)]])


def location_questions(app: AppContext, language: str) -> list[Question]:
    """The location button (a reply keyboard), then the way back (an inline one)."""
    return list(_location_questions(app.translator, language or app.settings.default_language))


@lru_cache(maxsize=16)
def _location_questions(t: Translator, language: str) -> tuple[Question, ...]:
    share = KeyboardButton(text=t.t("report.send_location", language), request_location=True)
    keyboard = ReplyKeyboardMarkup(keyboard=[[share]], resize_keyboard=True, one_time_keyboard=True)
    return (
        (t.t("report.ask_location", language), keyboard),
        (t.t("report.or_back", language), _kb([[_back_button(t, language)]])),
    )


def severity_question(app: AppContext, language: str, offered: Sequence[Severity]) -> Question:
    lang = language or app.settings.default_language
    return _severity_question(app.translator, lang, tuple(offered))


@lru_cache(maxsize=64)
def _severity_question(t: Translator, language: str, offered: tuple[Severity, ...]) -> Question:
    buttons = [
        _btn(t.t(f"cases.severity.{s.value}", language), ReportPress.SEVERITY, i)
        for i, s in enumerate(offered)
    ]
    return t.t("report.ask_severity", language), _kb([buttons, [_back_button(t, language)]])


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
