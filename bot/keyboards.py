"""Keyboards shared by several features, and the base of every button's callback data."""

from __future__ import annotations

from enum import StrEnum
from functools import cache, lru_cache
from typing import Final, Self

from aiogram.filters.callback_data import CallbackData
from aiogram.types import KeyboardButton, ReplyKeyboardMarkup
from pydantic import model_validator

from bot.i18n import LANGUAGES, Translator

BIGINT_MIN: Final = -(2**63)
BIGINT_MAX: Final = 2**63 - 1


class Callback(CallbackData, prefix="_"):
    """The base of every inline button's callback data (each subclass names its own prefix).

    Callback data is typed by whoever presses, not only drawn by the bot: a number that no
    BIGINT column can hold never came from a button of ours, and would end in the database
    driver's OverflowError. Refused here, at parsing, the press matches no handler and gets
    the stale-button answer.
    """

    @model_validator(mode="after")
    def _numbers_fit_a_bigint(self) -> Self:
        for name, value in self:
            if isinstance(value, int) and not BIGINT_MIN <= value <= BIGINT_MAX:
                raise ValueError(f"{name} does not fit in 64 bits")
        return self

    @classmethod
    def packed(cls, **fields: int | StrEnum) -> str:
        """What ``cls(**fields).pack()`` gives, spelt out when every field is given as a
        number or a StrEnum: building and checking the model cost more than the button it
        is for (a card draws a dozen). Anything else, and anything the model would refuse
        (a number past 64 bits, the separator in a value, data past 64 bytes), goes to it."""
        parts = [cls.__prefix__]
        for name in cls.model_fields:
            value = fields.get(name)
            if isinstance(value, StrEnum) and cls.__separator__ not in value.value:
                parts.append(value.value)
            elif type(value) is int and BIGINT_MIN <= value <= BIGINT_MAX:
                parts.append(str(value))
            else:
                return cls(**fields).pack()  # type: ignore[arg-type]
        data = cls.__separator__.join(parts)
        if len(data) > 64 or len(fields) != len(cls.model_fields):
            return cls(**fields).pack()  # type: ignore[arg-type]
        return data


MENU_KEYS = ("menu.report", "menu.patrol", "menu.my")


@lru_cache(maxsize=16)
def main_menu(t: Translator, language: str) -> ReplyKeyboardMarkup:
    """The private chat's standing buttons; their texts are matched by the features. Made
    once per translator and language (a reply sends it, nothing changes it): making it was
    a twentieth of a /start."""
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


@cache
def menu_words(key: str) -> frozenset[str]:
    """`menu_texts` of the catalogues themselves, for registering a handler before any app
    exists: as a set in a magic filter (`F.text.in_(...)`), the quick routing can tell at a
    glance that a text is not the button, where a plain function kept its router in play for
    every text and command."""
    return menu_texts(_catalogues(), key)


@cache
def _catalogues() -> Translator:
    return Translator()
