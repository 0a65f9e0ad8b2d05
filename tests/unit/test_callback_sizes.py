"""Every button the bot draws fits Telegram's 64 bytes of callback data, at the largest ids.

Each callback class is packed with every value each of its fields can take: every member of
an Enum, both booleans, the extremes of 64 bits for a number, and the values a text field is
drawn with. A class with a field this test does not know how to fill fails, so a new button
is measured too.
"""

from __future__ import annotations

import itertools
from enum import Enum
from typing import Any, get_args

import pytest

import handlers
from bot.i18n import LANGUAGES
from bot.keyboards import BIGINT_MAX, BIGINT_MIN, Callback

TEXT_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("LanguageChoice", "code"): tuple(LANGUAGES),
}
"""The text fields (not ids, not Enums) and every value the bot draws them with."""

NOT_IDS: dict[tuple[str, str], tuple[int, ...]] = {
    ("PatrolLog", "m"): (202603, 999912),  # a month as yyyymm
}
"""Numbers that are no ids, at the largest they can be; every other number goes to 64 bits."""


def _callback_classes() -> list[type[Callback]]:
    handlers.routers()  # imports every feature module, and with it every callback class
    found: list[type[Callback]] = []
    todo: list[type[Callback]] = [Callback]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return sorted(found, key=lambda c: c.__name__)


def _values(cls: type[Callback], name: str, annotation: Any) -> tuple[Any, ...]:
    kinds = [a for a in (get_args(annotation) or (annotation,)) if a is not type(None)]
    values: list[Any] = [None] if type(None) in get_args(annotation) else []
    for kind in kinds:
        if isinstance(kind, type) and issubclass(kind, Enum):
            values += list(kind)
        elif kind is bool:
            values += [True, False]
        elif kind is int:
            values += NOT_IDS.get((cls.__name__, name), (BIGINT_MAX, BIGINT_MIN))
        elif kind is str:
            values += TEXT_FIELDS[(cls.__name__, name)]
        else:
            raise AssertionError(f"{cls.__name__}.{name}: no values known for {kind}")
    return tuple(values)


CLASSES = _callback_classes()


def test_every_button_class_is_measured() -> None:
    names = {c.__name__ for c in CLASSES}
    assert {"CaseBtn", "CaseTool", "CasePick", "CaseList", "ReportCb", "PatrolStep"} <= names
    assert len(CLASSES) >= 16


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_button_packs_under_64_bytes_at_the_largest_ids(cls: type[Callback]) -> None:
    fields = cls.model_fields
    choices = [_values(cls, name, f.annotation) for name, f in fields.items()]
    packed = 0
    for combination in itertools.product(*choices):
        data = cls(**dict(zip(fields, combination, strict=True))).pack()
        assert len(data.encode()) < 64, data
        assert cls.unpack(data).pack() == data  # it parses back as the same button
        packed += 1
    assert packed >= 1
