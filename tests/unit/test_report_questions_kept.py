"""The report's questions, kept per translator and language, are what drawing them anew gave
(the drawing below is the code before they were kept), at the first ask and the next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pytest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.context import AppContext
from bot.i18n import Translator
from bot.render import report as render
from bot.render.report import Question, ReportCb, ReportPress
from domain.cases import Severity
from domain.categories import KNOWN, Category
from services import reporting


@dataclass
class _Settings:
    default_language: str


class _App:
    """What the questions read of `AppContext`, with its `t`."""

    def __init__(self, translator: Translator, default: str) -> None:
        self.translator = translator
        self.settings = _Settings(default)

    def t(self, key: str, language: str | None = None, /, **params: Any) -> str:
        return self.translator.t(key, language or self.settings.default_language, **params)


def _btn(text: str, k: ReportPress, x: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ReportCb(k=k, x=x).pack())


def _back(app: _App, language: str) -> list[InlineKeyboardButton]:
    return [_btn(app.t("report.back", language), ReportPress.BACK)]


def _kb(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _drawn(app: _App, language: str, photos: int, offered: Sequence[Severity]) -> list[Question]:
    """Every question as it was drawn at each ask."""
    cats = [c.shown(language) for c in KNOWN]
    cat_buttons = [_btn(c, ReportPress.CATEGORY, i) for i, c in enumerate(cats)]
    rows = [cat_buttons[i : i + 2] for i in range(0, len(cat_buttons), 2)]
    share = KeyboardButton(text=app.t("report.send_location", language), request_location=True)
    location = ReplyKeyboardMarkup(keyboard=[[share]], resize_keyboard=True, one_time_keyboard=True)
    sev = [
        _btn(app.t(f"cases.severity.{s.value}", language), ReportPress.SEVERITY, i)
        for i, s in enumerate(offered)
    ]
    done = _btn(app.t("report.done", language), ReportPress.PHOTOS_DONE)
    return [
        (app.t("report.ask_grid_again", language), _kb([_back(app, language)])),
        (app.t("report.ask_category", language), _kb([*rows, _back(app, language)])),
        (
            app.t("report.ask_description", language, limit=reporting.MAX_DESCRIPTION),
            _kb([_back(app, language)]),
        ),
        (
            app.t("report.ask_photos", language, n=photos, limit=reporting.MAX_PHOTOS),
            _kb([[done], _back(app, language)]),
        ),
        (app.t("report.ask_location", language), location),
        (app.t("report.or_back", language), _kb([_back(app, language)])),
        (app.t("report.ask_severity", language), _kb([sev, _back(app, language)])),
        ("", _kb([[done]])),
    ]


def _kept(app: _App, language: str, photos: int, offered: Sequence[Severity]) -> list[Question]:
    a = cast(AppContext, app)
    return [
        render.grid_again_question(a, language),
        render.category_question(a, language, KNOWN),
        render.description_question(a, language),
        render.photos_question(a, language, photos),
        *render.location_questions(a, language),
        render.severity_question(a, language, offered),
        ("", render.photos_done_button(a, language)),
    ]


def _dumped(questions: list[Question]) -> list[tuple[str, dict[str, Any]]]:
    return [(text, markup.model_dump()) for text, markup in questions]


@pytest.mark.parametrize("default", ["zh", "en"])
@pytest.mark.parametrize("language", ["zh", "en", ""])
@pytest.mark.parametrize("photos", [0, 3])
def test_kept_questions_are_drawn_ones(default: str, language: str, photos: int) -> None:
    app = _App(Translator(), default)
    for offered in ([Severity.GENERAL, Severity.MAJOR, Severity.CRITICAL], [Severity.MAJOR]):
        want = _dumped(_drawn(app, language, photos, offered))
        assert _dumped(_kept(app, language, photos, offered)) == want
        assert _dumped(_kept(app, language, photos, offered)) == want  # from what was kept


def test_categories_are_kept_per_tuple_and_translator() -> None:
    app = _App(Translator(), "zh")
    a = cast(AppContext, app)
    first = render.category_question(a, "en", KNOWN)
    assert render.category_question(a, "en", KNOWN) is first
    fewer: tuple[Category, ...] = KNOWN[:2]
    other = render.category_question(a, "en", fewer)
    labels = [b.text for row in other[1].inline_keyboard for b in row]  # type: ignore[union-attr]
    assert labels == [KNOWN[0].en, KNOWN[1].en, app.t("report.back", "en")]
    again = _App(Translator(), "zh")
    assert render.category_question(cast(AppContext, again), "en", KNOWN) is not first
