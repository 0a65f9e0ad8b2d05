"""The keyboard a daily role's patrol starts with: quick check-in or a full patrol."""

from __future__ import annotations

from functools import lru_cache

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

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
