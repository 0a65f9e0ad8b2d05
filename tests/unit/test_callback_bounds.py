"""Callback data is parsed in one place, and a number beyond 64 bits is not a button of ours."""

from __future__ import annotations

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.keyboards import BIGINT_MAX, BIGINT_MIN, Callback
from bot.render.case_buttons import CardTool, CaseBtn, CaseList, CasePick, CaseTool
from bot.render.patrol_buttons import PatrolLog


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_buttons_callback_data_is_parsed_through_the_bounded_base() -> None:
    import handlers

    handlers.routers()  # imports every feature module, and with it every callback class
    classes = _all_subclasses(CallbackData) - {Callback}
    assert len(classes) >= 15
    assert sorted(c.__name__ for c in classes if not issubclass(c, Callback)) == []


@pytest.mark.parametrize(
    "packed",
    [
        f"ct:{BIGINT_MAX + 1}:h:0",
        f"c:1:acc:{BIGINT_MAX + 1}",
        f"ct:{BIGINT_MIN - 1}:o:0",
        "cp:99999999999999999999:rj:0",
        "cl:all:99999999999999999999",
        "pl:1:202603:99999999999999999999:0",
    ],
)
def test_a_number_beyond_64_bits_does_not_parse(packed: str) -> None:
    classes: dict[str, type[Callback]] = {
        "c": CaseBtn,
        "ct": CaseTool,
        "cp": CasePick,
        "cl": CaseList,
        "pl": PatrolLog,
    }
    cls = classes[packed.split(":")[0]]
    with pytest.raises(ValueError, match="64 bits"):
        cls.unpack(packed)


def test_the_extremes_of_64_bits_still_parse() -> None:
    assert CaseTool.unpack(f"ct:{BIGINT_MAX}:h:{BIGINT_MIN}") == CaseTool(
        id=BIGINT_MAX, a=CardTool.HISTORY, v=BIGINT_MIN
    )
    assert CasePick.unpack("cp:7:dd:-1").x == -1
