"""A pushed card's keyboard (`CaseRender.card`, built as a dict) is what the card's keyboard
model dumps to (`markup_dict(card_markup(...))`): same rows, same keys in the same order,
same packed data, for every button set a card can show."""

from __future__ import annotations

import json

import pytest

from bot.render.cases import markup_dict
from domain.cases import CaseAction
from services.case_notify import CaseView
from storage.models import Case, Grid
from tests.unit.test_case_deadline_and_card import NOW, _render

_A = CaseAction
SETS: list[list[CaseAction]] = [
    [],
    [_A.ACCEPT, _A.REJECT],
    [_A.ACCEPT, _A.REJECT, _A.ASSIGN],
    [_A.ASSIGN, _A.ESCALATE, _A.TRANSFER],
    [_A.VERIFY_PASS, _A.VERIFY_FAIL, _A.APPROVE_EXTENSION, _A.REFUSE_EXTENSION, _A.RATE],
]


@pytest.mark.parametrize("status", ["reported", "assigned", "in_progress", "closed"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_card_s_keyboard_is_its_model_s_dump(status: str, language: str) -> None:
    case = Case(
        id=9_007_199_254_740_993,
        code="H260310-001",
        grid_id=1,
        origin_grid_id=1,
        reporter_id=1,
        category="用电",
        description="配电箱电线老化",
        severity="general",
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )
    grid = Grid(id=1, code="LH-01-1", name="林和东第1片区", path="/1/", level=1)
    for version in (0, 7, 2**40):
        view = CaseView(
            case=case,
            grid=grid,
            version=version,
            reporter_name="甲",
            assignee_name=None,
            department_name=None,
        )
        render = _render()
        for actions in SETS:
            _text, markup = render.card(view, actions, language)
            model = markup_dict(render.card_markup(view, actions, language))
            assert json.dumps(markup, ensure_ascii=False) == json.dumps(model, ensure_ascii=False)
