"""Reopening a closed case (重新打开): the window, the step, and who is told."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.cases import (
    Actor,
    CaseAction,
    CaseFacts,
    CaseStatus,
    EventKind,
    Refusal,
    RefusalReason,
    Transition,
    allowed_actions,
    decide,
)
from domain.handoffs import NextActor, Party, next_actors
from domain.reopen import DEFAULT_REOPEN_DAYS, window_open

A = CaseAction
S = CaseStatus
PATH = (1, 2, 3)
REPORTER, MEMBER, LEADER, STREET_LEADER, OTHER = 100, 101, 102, 103, 104
LEADER3 = Actor(LEADER, led_grid_ids=frozenset({3}))
STREET = Actor(STREET_LEADER, led_grid_ids=frozenset({2}))
CLOSED = CaseFacts(
    status=S.CLOSED,
    grid_path=PATH,
    reporter_id=REPORTER,
    assignee_person_id=MEMBER,
    handler_id=MEMBER,
    verifier_id=LEADER,
    rework_count=1,
)
CLOSED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_the_window_counts_calendar_days_from_the_closing_its_end_included() -> None:
    assert DEFAULT_REOPEN_DAYS == 30
    assert window_open(CLOSED_AT, CLOSED_AT + timedelta(days=30), 30)
    assert not window_open(CLOSED_AT, CLOSED_AT + timedelta(days=30, seconds=1), 30)
    assert window_open(CLOSED_AT, CLOSED_AT + timedelta(days=2), 3)
    assert not window_open(CLOSED_AT, CLOSED_AT + timedelta(days=4), 3)
    assert not window_open(None, CLOSED_AT, 30)  # never closed
    assert not window_open(CLOSED_AT, CLOSED_AT, 0)  # reopening switched off


def test_the_reporter_reopens_a_closed_case_back_to_its_assignee() -> None:
    t = decide(CLOSED, Actor(REPORTER), A.REOPEN, within_reopen_window=True)
    assert isinstance(t, Transition)
    assert t.event is EventKind.REOPENED
    assert t.after == replace(CLOSED, status=S.IN_PROGRESS, verifier_id=None)
    # The rework count is the verifications' history, not the reopen's: it stays.
    assert t.after.rework_count == 1
    assert next_actors(t.event, t.after) == (
        NextActor(Party.PERSON, MEMBER, frozenset({A.FEEDBACK})),
    )


def test_a_rated_case_reopens_too_and_a_department_holds_it_again() -> None:
    held = replace(CLOSED, status=S.RATED, assignee_person_id=None, assignee_department_id=50)
    t = decide(held, STREET, A.REOPEN, within_reopen_window=True)
    assert isinstance(t, Transition)
    assert t.after.status is S.IN_PROGRESS and t.after.assignee_department_id == 50
    assert next_actors(t.event, t.after) == (
        NextActor(Party.DEPARTMENT, 50, frozenset({A.DEPT_FEEDBACK})),
    )


def test_a_case_nobody_holds_goes_back_to_its_grid_to_be_assigned() -> None:
    orphan = replace(CLOSED, assignee_person_id=None)
    t = decide(orphan, LEADER3, A.REOPEN, within_reopen_window=True)
    assert isinstance(t, Transition)
    assert t.after.status is S.ACCEPTED
    assert next_actors(t.event, t.after) == (NextActor(Party.LEADERS, 3, frozenset({A.ASSIGN})),)


def test_past_the_window_the_step_is_refused_politely() -> None:
    assert decide(CLOSED, Actor(REPORTER), A.REOPEN) == Refusal(
        A.REOPEN, RefusalReason.REOPEN_EXPIRED
    )
    # The button is still drawn (the rules have no clock); the press is answered.
    assert A.REOPEN in allowed_actions(CLOSED, Actor(REPORTER))


def test_who_may_not_reopen() -> None:
    for actor in (Actor(MEMBER), Actor(OTHER), Actor(OTHER, led_grid_ids=frozenset({9}))):
        assert decide(CLOSED, actor, A.REOPEN, within_reopen_window=True) == Refusal(
            A.REOPEN, RefusalReason.NOT_ALLOWED
        )
    # An admin runs the deployment, not the cases.
    admin = Actor(OTHER, is_admin=True)
    assert A.REOPEN not in allowed_actions(CLOSED, admin)
    for status in (S.FEEDBACK, S.IN_PROGRESS, S.REJECTED):
        assert decide(
            replace(CLOSED, status=status), Actor(REPORTER), A.REOPEN, within_reopen_window=True
        ) == Refusal(A.REOPEN, RefusalReason.WRONG_STATE)
