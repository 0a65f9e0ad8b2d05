"""The keyboards a patrol starts with: a daily role's quick check-in or full patrol, and the
button that shares where the person stands."""

from __future__ import annotations

from functools import lru_cache

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.i18n import Translator
from bot.render.patrol_buttons import PatrolMode


@lru_cache(maxsize=256)
def mode_keyboard(t: Translator, language: str, membership_id: int) -> InlineKeyboardMarkup:
    """Made once per translator, language and membership (a reply sends it, nothing changes
    it): its two buttons' data were two models built and packed at each /patrol."""
    buttons = [
        InlineKeyboardButton(
            text=t.t("patrol.btn_quick", language),
            callback_data=PatrolMode(m=membership_id, quick=True).pack(),
        ),
        InlineKeyboardButton(
            text=t.t("patrol.btn_full", language),
            callback_data=PatrolMode(m=membership_id, quick=False).pack(),
        ),
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


@lru_cache(maxsize=16)
def location_keyboard(t: Translator, language: str) -> ReplyKeyboardMarkup:
    """Made once per translator and language, as `bot.keyboards.main_menu` (a reply sends it,
    nothing changes it)."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t.t("patrol.btn_location", language), request_location=True)]
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
