"""Pure parts of the case service layer: input checks, button sets, callback sizes."""

from __future__ import annotations

from domain.cases import CaseAction, CaseFacts, CaseStatus
from services import cases as svc
from services.case_notify import department_actions, group_actions, ordered
from services.reporting import severities_offered

A = CaseAction


def facts(
    status: CaseStatus,
    *,
    assignee_person_id: int | None = None,
    assignee_department_id: int | None = None,
    handler_id: int | None = None,
) -> CaseFacts:
    return CaseFacts(
        status=status,
        grid_path=(1, 2, 3),
        reporter_id=10,
        assignee_person_id=assignee_person_id,
        assignee_department_id=assignee_department_id,
        handler_id=handler_id,
    )


def test_group_cards_show_the_next_steps_of_each_status() -> None:
    assert ordered(group_actions(facts(CaseStatus.REPORTED))) == [A.ACCEPT, A.REJECT, A.ESCALATE]
    assigned = group_actions(facts(CaseStatus.ASSIGNED, assignee_person_id=20))
    assert {A.ACKNOWLEDGE, A.FEEDBACK, A.REQUEST_EXTENSION, A.ASSIGN} <= assigned
    assert group_actions(facts(CaseStatus.FEEDBACK, handler_id=20)) >= {
        A.VERIFY_PASS,
        A.VERIFY_FAIL,
    }
    assert group_actions(facts(CaseStatus.RATED)) == frozenset()
    held = facts(CaseStatus.TRANSFERRED, assignee_department_id=7)
    assert not group_actions(held) & {A.DEPT_ACKNOWLEDGE, A.DEPT_FEEDBACK, A.ACKNOWLEDGE}
    assert {A.DEPT_ACKNOWLEDGE, A.DEPT_FEEDBACK, A.DEPT_RETURN} <= department_actions(held)
    assert department_actions(facts(CaseStatus.ACCEPTED)) == frozenset()


def test_inputs_are_checked_before_the_rules() -> None:
    check = svc._check_inputs
    assert check(A.VERIFY_FAIL, svc.StepInput(note=" ")) is svc.Problem.NOTE_REQUIRED
    assert check(A.ESCALATE, svc.StepInput(note="x" * 1001)) is svc.Problem.NOTE_TOO_LONG
    assert check(A.FEEDBACK, svc.StepInput(photos=("p",))) is None
    assert check(A.FEEDBACK, svc.StepInput()) is svc.Problem.NOTE_REQUIRED
    assert check(A.REQUEST_EXTENSION, svc.StepInput(note="why")) is svc.Problem.NOTE_REQUIRED
    assert check(A.REQUEST_EXTENSION, svc.StepInput(note="why", extension_hours=72)) is None
    assert check(A.ACCEPT, svc.StepInput()) is None


def test_refusal_keys() -> None:
    assert svc.refusal_key("wrong_state") == "cases.refused.wrong_state"
    assert svc.refusal_key("stale") == "cases.refused.stale"
    assert svc.refusal_key("something else") == "cases.refused.not_allowed"


def test_severities_offered_follow_the_deployment() -> None:
    assert [s.value for s in severities_offered(None)] == ["general", "major", "critical"]
    assert [s.value for s in severities_offered({"重大": {}, "一般": {}})] == [
        "general",
        "critical",
    ]


def test_callback_data_stays_under_64_bytes() -> None:
    from bot.render.case_buttons import CaseBtn, CaseList, CasePick, ListFilter, StepChoice

    big = 10**12
    for data in (
        CaseBtn(id=big, a=A.APPROVE_EXTENSION, v=big),
        CasePick(id=big, k=StepChoice.DONE, x=-(10**12)),
        CaseList(f=ListFilter.CRITICAL, p=99999),
    ):
        assert len(data.pack().encode()) < 64
