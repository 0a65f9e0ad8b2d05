"""Parsing one update alone: which ids can be stored and confirmed, and the one-line reason."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update

from bot.intake import Unparsable, looks_like_update, parse_update

BOT = Bot("7000000001:TEST-intake")
USER = {"id": 7500000001, "is_bot": False, "first_name": "Alice"}
CHAT = {"id": 7500000001, "type": "private", "first_name": "Alice"}
TEXT = {"message": {"message_id": 1, "date": 1, "chat": CHAT, "from": USER, "text": "hi"}}


def test_a_good_update_parses_and_is_bound_to_the_bot() -> None:
    parsed = parse_update({"update_id": 2**63 - 2, **TEXT}, BOT)
    assert isinstance(parsed, Update) and parsed.update_id == 2**63 - 2
    assert parsed.bot is BOT


@pytest.mark.parametrize(
    "update_id",
    [2**70, 2**63 - 1, -1, True, "12", 12.0, None],
    ids=["beyond-64-bits", "offset-overflows", "negative", "bool", "text", "float", "null"],
)
def test_an_id_that_cannot_be_stored_or_confirmed_is_refused(update_id: Any) -> None:
    parsed = parse_update({"update_id": update_id, **TEXT}, BOT)
    assert isinstance(parsed, Unparsable) and parsed.update_id is None
    assert "update_id" in parsed.reason


def test_a_missing_id_or_a_non_object_is_refused_without_an_id() -> None:
    missing = parse_update(TEXT, BOT)
    assert isinstance(missing, Unparsable) and missing.update_id is None
    assert "missing" in missing.reason
    listed = parse_update([1, 2], BOT)
    assert listed == Unparsable("not a JSON object but list", None)


def test_a_rejected_field_is_named_on_one_line_and_the_id_kept() -> None:
    answer = {"poll_id": "p", "user": USER, "option_ids": [0]}  # no option_persistent_ids
    parsed = parse_update({"update_id": 9, "poll_answer": answer}, BOT)
    assert isinstance(parsed, Unparsable) and parsed.update_id == 9
    assert parsed.reason == "poll_answer.option_persistent_ids: Field required"


def test_many_rejected_fields_are_cut_short() -> None:
    broken = {"message_id": "x", "date": "y", "chat": {}, "from": {}, "text": 5}
    parsed = parse_update({"update_id": 9, "message": broken}, BOT)
    assert isinstance(parsed, Unparsable)
    assert parsed.reason.endswith("more)") and parsed.reason.count(";") == 2


@pytest.mark.parametrize(
    ("body", "update"),
    [({"update_id": 2**70}, True), ({"update_id": "1"}, False), ({}, False), ([], False)],
)
def test_what_looks_like_an_update(body: object, update: bool) -> None:
    assert looks_like_update(body) is update
