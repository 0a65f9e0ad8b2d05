"""The location button and a daily role's quick/full choice are made once per translator,
language (and membership) and sent as they are: the same keyboards, button data included, as
built afresh at each step."""

from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.i18n import Translator
from bot.render.patrol_buttons import PatrolMode
from bot.render.patrol_entry import location_keyboard, mode_keyboard


def _fresh_location(t: Translator, language: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t.t("patrol.btn_location", language), request_location=True)]
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def _fresh_mode(t: Translator, language: str, membership_id: int) -> InlineKeyboardMarkup:
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


def test_kept_keyboards_are_the_fresh_ones() -> None:
    t = Translator()
    for language in ("zh", "en"):
        kept = location_keyboard(t, language)
        assert location_keyboard(t, language) is kept
        assert kept.model_dump_json() == _fresh_location(t, language).model_dump_json()
        for membership_id in (1, 42, 9_223_372_036_854_775_807):
            mode = mode_keyboard(t, language, membership_id)
            assert mode_keyboard(t, language, membership_id) is mode
            assert (
                mode.model_dump_json() == _fresh_mode(t, language, membership_id).model_dump_json()
            )
    assert "pm:42:1" in mode_keyboard(t, "zh", 42).model_dump_json()
