"""A card's buttons' data, spelt out by Callback.packed, is what the models' pack() gives."""

from __future__ import annotations

import pytest

from bot.keyboards import BIGINT_MAX
from bot.render.case_buttons import CardTool, CaseBtn, CaseTool
from domain.cases import CaseAction

NUMBERS = [(0, 0), (1, 0), (7, 123), (10**12, 10**15), (BIGINT_MAX, BIGINT_MAX), (-3, -1)]


@pytest.mark.parametrize(("case_id", "version"), NUMBERS)
def test_step_and_tool_data_are_what_pack_gives(case_id: int, version: int) -> None:
    for action in CaseAction:
        expected = CaseBtn(id=case_id, a=action, v=version).pack()
        assert CaseBtn.packed(id=case_id, a=action, v=version) == expected
    for tool in CardTool:
        expected = CaseTool(id=case_id, a=tool, v=version).pack()
        assert CaseTool.packed(id=case_id, a=tool, v=version) == expected


def test_what_the_model_refuses_is_still_refused() -> None:
    with pytest.raises(ValueError):
        CaseBtn.packed(id=BIGINT_MAX + 1, a=CaseAction.ACCEPT, v=0)
    with pytest.raises(ValueError):
        CaseTool.packed(id=1, a=CardTool.HISTORY, v=BIGINT_MAX + 1)
