"""Which steps a department takes, and what a leader's choice of target amounts to."""

from __future__ import annotations

from domain.cases import CaseAction, step_taken


def test_the_department_steps_are_exactly_the_dept_twins() -> None:
    assert {a for a in CaseAction if a.by_department} == {
        CaseAction.DEPT_ACKNOWLEDGE,
        CaseAction.DEPT_FEEDBACK,
        CaseAction.DEPT_RETURN,
    }


def test_assigning_to_a_department_is_a_transfer() -> None:
    assert step_taken(CaseAction.ASSIGN, department_id=3) is CaseAction.TRANSFER
    assert step_taken(CaseAction.ASSIGN, department_id=None) is CaseAction.ASSIGN
    assert step_taken(CaseAction.TRANSFER, department_id=3) is CaseAction.TRANSFER
    assert step_taken(CaseAction.REJECT, department_id=None) is CaseAction.REJECT
