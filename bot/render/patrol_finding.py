"""A patrol's problem reported as a hazard: the same photo step and confirmation as /report
(its texts), with the patrol's buttons (`PatrolStep` on the patrol's id)."""

from __future__ import annotations

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.render.patrol_buttons import PatrolAct, PatrolStep
from services import reporting

Question = tuple[str, InlineKeyboardMarkup]


def _button(text: str, patrol_id: int, act: PatrolAct) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=PatrolStep(p=patrol_id, a=act).pack())


def photos_done_markup(app: AppContext, language: str, patrol_id: int) -> InlineKeyboardMarkup:
    done = _button(app.t("report.done", language), patrol_id, PatrolAct.FINDING_PHOTOS_DONE)
    return InlineKeyboardMarkup(inline_keyboard=[[done]])


def photos_question(app: AppContext, language: str, patrol_id: int, photos: int) -> Question:
    text = app.t("report.ask_photos", language, n=photos, limit=reporting.MAX_PHOTOS)
    return text, photos_done_markup(app, language, patrol_id)


def photo_received(app: AppContext, language: str, patrol_id: int, photos: int) -> Question:
    text = app.t("report.photo_ok", language, n=photos, limit=reporting.MAX_PHOTOS)
    return text, photos_done_markup(app, language, patrol_id)


def summary(
    app: AppContext,
    language: str,
    patrol_id: int,
    *,
    grid: str,
    category: str,
    description: str,
    photos: int,
    place: str,
    severity: str,
) -> Question:
    """The hazard as it would be reported: submit, back to the severity, or no report."""
    text = app.t(
        "report.summary",
        language,
        grid=html.quote(grid),
        category=html.quote(category),
        description=html.quote(description),
        photos=photos,
        place=html.quote(place),
        severity=app.t(f"cases.severity.{severity}", language),
    )
    rows = [
        [
            _button(app.t("report.submit", language), patrol_id, PatrolAct.FINDING_FILE),
            _button(app.t("report.back", language), patrol_id, PatrolAct.FINDING_BACK),
        ],
        [_button(app.t("patrol.btn_no_case", language), patrol_id, PatrolAct.SKIP)],
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)
