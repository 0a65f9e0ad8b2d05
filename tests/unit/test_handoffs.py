"""Who must act next after each step (domain/handoffs.py), on the cases the rules produce."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.cases import Actor, CaseAction, CaseFacts, CaseStatus, EventKind, Transition, decide
from domain.handoffs import EVIDENCE, NextActor, Party, next_actors

A = CaseAction
S = CaseStatus
E = EventKind

# 1 (district) → 2 (street) → 3 (the case's grid); department 50.
PATH = (1, 2, 3)
REPORTER, MEMBER, LEADER, STREET_LEADER = 100, 101, 102, 103
LEADER3 = Actor(LEADER, led_grid_ids=frozenset({3}))
STREET = Actor(STREET_LEADER, led_grid_ids=frozenset({2}))
BASE = CaseFacts(status=S.REPORTED, grid_path=PATH, reporter_id=REPORTER)


def step(
    case: CaseFacts,
    actor: Actor,
    action: CaseAction,
    *,
    assignee_person_id: int | None = None,
    department_id: int | None = None,
) -> Transition:
    outcome = decide(
        case,
        actor,
        action,
        assignee_person_id=assignee_person_id,
        department_id=department_id,
        target_in_subtree=True,
    )
    assert isinstance(outcome, Transition), outcome
    return outcome


def after(t: Transition, **kw: bool) -> tuple[NextActor, ...]:
    return next_actors(t.event, t.after, **kw)


def test_a_report_waits_for_the_leaders_of_its_grid() -> None:
    assert next_actors(E.REPORTED, BASE) == (
        NextActor(Party.LEADERS, 3, frozenset({A.ACCEPT, A.REJECT})),
    )


def test_an_assignment_and_a_reassignment_go_to_the_new_assignee() -> None:
    accepted = step(BASE, LEADER3, A.ACCEPT).after
    assigned = step(accepted, LEADER3, A.ASSIGN, assignee_person_id=MEMBER)
    assert after(assigned) == (
        NextActor(Party.PERSON, MEMBER, frozenset({A.ACKNOWLEDGE, A.FEEDBACK})),
    )
    moved = step(assigned.after, LEADER3, A.ASSIGN, assignee_person_id=LEADER)
    assert moved.event is E.REASSIGNED
    assert [(n.party, n.id) for n in after(moved)] == [(Party.PERSON, LEADER)]


def test_feedback_waits_for_the_grids_leaders_with_the_evidence() -> None:
    held = replace(BASE, status=S.IN_PROGRESS, assignee_person_id=MEMBER)
    fed = step(held, Actor(MEMBER), A.FEEDBACK)
    (verifiers,) = after(fed)
    assert verifiers == NextActor(
        Party.LEADERS, 3, frozenset({A.VERIFY_PASS, A.VERIFY_FAIL}), evidence=True
    )
    assert E.FEEDBACK_GIVEN in EVIDENCE and E.DEPT_FEEDBACK_GIVEN in EVIDENCE


def test_a_leader_who_handled_the_case_brings_in_the_parent_grid() -> None:
    held = replace(BASE, status=S.IN_PROGRESS, assignee_person_id=LEADER)
    fed = step(held, LEADER3, A.FEEDBACK)
    assert [(n.party, n.id) for n in after(fed, mover_leads_grid=True)] == [
        (Party.LEADERS, 3),
        (Party.LEADERS, 2),
    ]
    asked = step(held, LEADER3, A.REQUEST_EXTENSION)
    assert [n.id for n in after(asked, mover_leads_grid=True)] == [3, 2]
    assert all(n.actions == {A.APPROVE_EXTENSION, A.REFUSE_EXTENSION} for n in after(asked))


def test_rework_goes_back_to_the_handler_and_an_extension_answer_to_the_asker() -> None:
    waiting = replace(BASE, status=S.FEEDBACK, assignee_person_id=MEMBER, handler_id=MEMBER)
    back = step(waiting, LEADER3, A.VERIFY_FAIL)
    assert after(back) == (NextActor(Party.PERSON, MEMBER, frozenset({A.FEEDBACK})),)
    pending = replace(BASE, status=S.IN_PROGRESS, assignee_person_id=MEMBER, extension_pending=True)
    for answer in (A.APPROVE_EXTENSION, A.REFUSE_EXTENSION):
        assert [n.id for n in after(step(pending, LEADER3, answer))] == [MEMBER]


def test_an_escalation_waits_for_the_parent_grid() -> None:
    reported = step(BASE, LEADER3, A.ESCALATE)
    assert after(reported) == (NextActor(Party.LEADERS, 2, frozenset({A.ACCEPT, A.REJECT})),)
    held = replace(BASE, status=S.IN_PROGRESS, assignee_person_id=MEMBER)
    assert after(step(held, LEADER3, A.ESCALATE)) == (
        NextActor(Party.LEADERS, 2, frozenset({A.ASSIGN})),
    )


def test_a_transfer_goes_to_the_department_and_its_return_to_the_leaders() -> None:
    accepted = replace(BASE, status=S.ACCEPTED)
    moved = step(accepted, LEADER3, A.TRANSFER, department_id=50)
    assert after(moved) == (
        NextActor(Party.DEPARTMENT, 50, frozenset({A.DEPT_ACKNOWLEDGE, A.DEPT_FEEDBACK})),
    )
    dept = Actor(None, department_ids=frozenset({50}))
    returned = step(moved.after, dept, A.DEPT_RETURN)
    assert after(returned) == (NextActor(Party.LEADERS, 3, frozenset({A.ASSIGN})),)
    fed = step(moved.after, dept, A.DEPT_FEEDBACK)
    assert [(n.party, n.id, n.evidence) for n in after(fed)] == [(Party.LEADERS, 3, True)]


@pytest.mark.parametrize(
    ("kind", "case"),
    [
        (E.ACCEPTED, replace(BASE, status=S.ACCEPTED)),
        (E.ACKNOWLEDGED, replace(BASE, status=S.IN_PROGRESS, assignee_person_id=MEMBER)),
        (E.VERIFIED, replace(BASE, status=S.CLOSED, handler_id=MEMBER, verifier_id=LEADER)),
        (E.RATED, replace(BASE, status=S.RATED)),
        (E.REJECTED, replace(BASE, status=S.REJECTED)),
        (E.COMMENTED, replace(BASE, status=S.IN_PROGRESS, assignee_person_id=MEMBER)),
    ],
)
def test_steps_that_leave_the_case_where_it_was_hand_it_to_nobody(
    kind: EventKind, case: CaseFacts
) -> None:
    assert next_actors(kind, case) == ()


def test_a_changed_deadline_goes_to_whoever_holds_the_case() -> None:
    # The holder must keep to the new deadline: the person, or the department's chat.
    held = replace(BASE, status=S.IN_PROGRESS, assignee_person_id=MEMBER)
    (person,) = next_actors(E.DEADLINE_CHANGED, held)
    assert (person.party, person.id) == (Party.PERSON, MEMBER)
    assert A.FEEDBACK in person.actions
    moved = replace(BASE, status=S.TRANSFERRED, assignee_department_id=50)
    (dept,) = next_actors(E.DEADLINE_CHANGED, moved)
    assert (dept.party, dept.id) == (Party.DEPARTMENT, 50)
    # Nobody holds it (an inconsistent row): nobody new is asked.
    assert next_actors(E.DEADLINE_CHANGED, replace(BASE, status=S.IN_PROGRESS)) == ()


def test_nobody_when_the_step_left_no_one_able_to_act() -> None:
    # A rework of a case nobody holds any more (an inconsistent row) names no one.
    orphan = replace(BASE, status=S.IN_PROGRESS)
    assert next_actors(E.SENT_BACK, orphan) == ()
    # The root has no parent to bring in.
    root = CaseFacts(status=S.FEEDBACK, grid_path=(1,), reporter_id=REPORTER, handler_id=LEADER)
    assert [n.id for n in next_actors(E.FEEDBACK_GIVEN, root, mover_leads_grid=True)] == [1]
