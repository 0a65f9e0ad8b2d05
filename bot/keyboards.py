"""Keyboards shared by several features."""

from __future__ import annotations

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

from bot.i18n import LANGUAGES, Translator

MENU_KEYS = ("menu.report", "menu.patrol", "menu.my")


def main_menu(t: Translator, language: str) -> ReplyKeyboardMarkup:
    """The private chat's standing buttons; their texts are matched by the features."""
    report, patrol, my = (t.t(k, language) for k in MENU_KEYS)
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=report), KeyboardButton(text=patrol)],
            [KeyboardButton(text=my)],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def menu_texts(t: Translator, key: str) -> frozenset[str]:
    """A menu button's text in every language, for matching what a person pressed."""
    return frozenset(t.t(key, lang) for lang in LANGUAGES)
