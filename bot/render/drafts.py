"""The question asked when /report or /patrol would drop an unfinished report or patrol:
keep it (继续填写), or drop it and start the new one (放弃并开始新的)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.keyboards import Callback
from domain.drafts import Unfinished


class DraftChoice(StrEnum):
    KEEP = "keep"  # go on with the unfinished one
    REPORT = "rep"  # drop it, start a report
    PATROL = "pat"  # drop it, start a patrol


class DraftKeep(Callback, prefix="dk"):
    go: DraftChoice


def keep_question(
    app: AppContext, language: str, kind: Unfinished, starting: DraftChoice
) -> tuple[str, InlineKeyboardMarkup]:
    what = app.t(f"drafts.what.{starting.value}", language)
    text = app.t(f"drafts.ask.{kind.value}", language, what=what)
    rows = [
        [
            InlineKeyboardButton(
                text=app.t("drafts.keep", language),
                callback_data=DraftKeep(go=DraftChoice.KEEP).pack(),
            ),
            InlineKeyboardButton(
                text=app.t("drafts.drop", language), callback_data=DraftKeep(go=starting).pack()
            ),
        ]
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)
