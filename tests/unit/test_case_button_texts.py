"""A card's button texts are kept per translator, language and steps offered
(`bot.render.cases._button_texts`): the kept texts are what the catalogues give, for every
step and language, and a card drawn from them is the card drawn from a fresh look-up."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.i18n import LANGUAGES, Translator
from bot.render.cases import CaseRender, _button_texts
from domain.cases import CaseAction, CaseStatus
from services.case_notify import CaseView
from storage.models import Case, Grid

TZ = ZoneInfo("Asia/Shanghai")
TRANSLATOR = Translator()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_kept_texts_are_the_catalogues(language: str) -> None:
    actions = tuple(CaseAction)
    kept = _button_texts(TRANSLATOR, language, actions)
    assert kept.steps == tuple(TRANSLATOR.t(f"cases.btn.{a.value}", language) for a in actions)
    assert kept.deadline == TRANSLATOR.t("cases.btn.dl", language)
    assert kept.comment == TRANSLATOR.t("cases.btn.cmt", language)
    assert kept.history == TRANSLATOR.t("cases.btn.history", language)
    assert _button_texts(TRANSLATOR, language, actions) is kept
    assert len(set(kept.steps)) == len(actions)  # each step its own text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_card_s_buttons_are_those_of_a_fresh_look_up(language: str) -> None:
    case = Case(
        id=7,
        code="H260310-001",
        grid_id=1,
        origin_grid_id=1,
        reporter_id=1,
        category="消防通道堵塞",
        description="楼道堆放杂物",
        severity="general",
        status=CaseStatus.ASSIGNED.value,
    )
    view = CaseView(
        case=case,
        grid=Grid(id=1, code="LH", name="林和东", level=1),
        version=3,
        reporter_name="保安巡查员",
        assignee_name=None,
        department_name=None,
    )
    actions = [CaseAction.ACCEPT, CaseAction.ASSIGN, CaseAction.ESCALATE]
    warm = CaseRender(TRANSLATOR, "zh", TZ).card(view, actions, language)
    _button_texts.cache_clear()
    fresh = CaseRender(Translator(), "zh", TZ).card(view, actions, language)
    assert warm == fresh
    rows = fresh[1]["inline_keyboard"]  # type: ignore[index]
    texts = [button["text"] for row in rows for button in row]
    expected = [TRANSLATOR.t(f"cases.btn.{a.value}", language) for a in actions]
    assert texts == [
        *expected,
        *(TRANSLATOR.t(f"cases.btn.{k}", language) for k in ("dl", "cmt", "history")),
    ]
