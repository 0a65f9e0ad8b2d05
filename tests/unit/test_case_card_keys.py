"""What a card and a step's announcement spell out once (bot/render/cases.py,
services/case_notify.py, services/case_view.py, services/reporting.py) is what they spelt out
at each use."""

from __future__ import annotations

from bot.render import cases as render
from domain.cases import CaseAction, CaseStatus, EventKind
from services import case_notify, case_view, reporting


def test_a_cards_keys_and_ended_statuses_are_those_spelt_out_at_each_use() -> None:
    assert {a: render._BUTTON_KEYS[a] for a in CaseAction} == {
        a: f"cases.btn.{a.value}" for a in CaseAction
    }
    assert {
        CaseStatus.REJECTED.value,
        CaseStatus.CLOSED.value,
        CaseStatus.RATED.value,
    } == render._ENDED


def test_the_kinds_and_statuses_named_once_are_their_values() -> None:
    assert (case_notify._COMMENTED, case_notify._REPORTED) == ("commented", "reported")
    assert (
        EventKind.ESCALATED.value,
        EventKind.TRANSFERRED.value,
    ) == (case_notify._ESCALATED, case_notify._TRANSFERRED)
    assert CaseStatus.REJECTED.value == case_notify._REJECTED
    assert (
        EventKind.ESCALATED.value,
        EventKind.SENT_BACK.value,
        EventKind.COMMENTED.value,
    ) == (case_view._ESCALATED, case_view._SENT_BACK, case_view._COMMENTED)
    assert (
        CaseStatus.REPORTED.value,
        EventKind.REPORTED.value,
    ) == (reporting._NEW_STATUS, reporting._NEW_KIND)
