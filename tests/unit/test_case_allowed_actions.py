"""`allowed_actions` asks only the actions a status admits and keeps its answers: it must
list exactly the actions `_refusal_reason` lets through, for every status and kind of actor."""

from __future__ import annotations

import itertools

from domain.cases import (
    Actor,
    CaseAction,
    CaseFacts,
    CaseStatus,
    _refusal_reason,
    allowed_actions,
)

ACTORS = [
    Actor(person_id=None, is_system=True),
    Actor(person_id=None, department_ids=frozenset({7})),
    Actor(person_id=1),  # the reporter
    Actor(person_id=2),  # the assignee
    Actor(person_id=3),  # handler
    Actor(person_id=4),  # verifier
    Actor(person_id=5, led_grid_ids=frozenset({10})),  # leads the root
    Actor(person_id=6, led_grid_ids=frozenset({11})),  # leads the case's grid
    Actor(person_id=3, led_grid_ids=frozenset({11})),  # the handler, also a leader
    Actor(person_id=9, is_admin=True),
]


def _facts() -> list[CaseFacts]:
    found = []
    for status, path, dept, pending in itertools.product(
        CaseStatus, [(11,), (10, 11)], [None, 7], [False, True]
    ):
        found.append(
            CaseFacts(
                status=status,
                grid_path=path,
                reporter_id=1,
                assignee_person_id=None if dept else 2,
                assignee_department_id=dept,
                handler_id=3,
                verifier_id=4,
                extension_pending=pending,
            )
        )
    return found


def test_allowed_actions_are_those_not_refused() -> None:
    for facts, actor in itertools.product(_facts(), ACTORS):
        expected = frozenset(a for a in CaseAction if _refusal_reason(facts, actor, a) is None)
        assert allowed_actions(facts, actor) == expected, (facts, actor)
        assert allowed_actions(facts, actor) == expected  # as kept
