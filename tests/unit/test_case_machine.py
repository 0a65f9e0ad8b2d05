"""The hazard case state machine: every status × action × kind of actor, then the details."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.cases import (
    OPEN,
    SYSTEM,
    TERMINAL,
    Actor,
    CaseAction,
    CaseFacts,
    CaseStatus,
    EventKind,
    Rating,
    Refusal,
    RefusalReason,
    RejectReason,
    Transition,
    allowed_actions,
    decide,
    waiting_for,
)
from tests.unit.step_params import StepParams

A = CaseAction
S = CaseStatus

# The grid tree seen by these tests: 1 (district) → 2 (street) → 3 (the case's grid);
# 9 is an unrelated grid. Department 50 holds transferred cases; 51 is another one.
PATH = (1, 2, 3)
MEMBER, REPORTER, ASSIGNEE, HANDLER_LEADER, LEADER, ANCESTOR, UNRELATED = range(100, 107)
DEPT_PERSON, ADMIN, NEW_TARGET = 107, 108, 110

ACTORS: dict[str, Actor] = {
    "member": Actor(MEMBER),
    "reporter": Actor(REPORTER),
    "assignee": Actor(ASSIGNEE),
    "hleader": Actor(HANDLER_LEADER, led_grid_ids=frozenset({3})),
    "leader": Actor(LEADER, led_grid_ids=frozenset({3})),
    "ancestor": Actor(ANCESTOR, led_grid_ids=frozenset({2})),
    "unrelated": Actor(UNRELATED, led_grid_ids=frozenset({9})),
    "dept": Actor(DEPT_PERSON, department_ids=frozenset({50})),
    "system": SYSTEM,
    "admin": Actor(ADMIN, is_admin=True),
}
COLUMNS = list(ACTORS)

_BASE = CaseFacts(status=S.REPORTED, grid_path=PATH, reporter_id=REPORTER)
# One typical case per status. ASSIGNED / IN_PROGRESS are held by the plain member ASSIGNEE;
# from FEEDBACK on, the handler is HANDLER_LEADER, a leader of grid 3 who took the case
# himself; CLOSED and RATED were verified by LEADER.
_SELF_HANDLED = replace(_BASE, assignee_person_id=HANDLER_LEADER, handler_id=HANDLER_LEADER)
CASES: dict[CaseStatus, CaseFacts] = {
    S.REPORTED: _BASE,
    S.ACCEPTED: replace(_BASE, status=S.ACCEPTED),
    S.REJECTED: replace(_BASE, status=S.REJECTED),
    S.ASSIGNED: replace(_BASE, status=S.ASSIGNED, assignee_person_id=ASSIGNEE),
    S.IN_PROGRESS: replace(_BASE, status=S.IN_PROGRESS, assignee_person_id=ASSIGNEE),
    S.TRANSFERRED: replace(_BASE, status=S.TRANSFERRED, assignee_department_id=50),
    S.FEEDBACK: replace(_SELF_HANDLED, status=S.FEEDBACK),
    S.CLOSED: replace(_SELF_HANDLED, status=S.CLOSED, verifier_id=LEADER),
    S.RATED: replace(_SELF_HANDLED, status=S.RATED, verifier_id=LEADER),
}

PARAMS: dict[CaseAction, StepParams] = {
    A.ASSIGN: {"assignee_person_id": NEW_TARGET, "target_in_subtree": True},
    A.REJECT: {"reason": RejectReason.DUPLICATE},
    A.RATE: {"rating": Rating.GOOD},
    A.TRANSFER: {"department_id": 51},
    A.REOPEN: {"within_reopen_window": True},
}

CODES = {
    "ok": None,
    "ws": RefusalReason.WRONG_STATE,
    "na": RefusalReason.NOT_ALLOWED,
    "nas": RefusalReason.NOT_ASSIGNEE,
    "nd": RefusalReason.NOT_DEPARTMENT,
    "hcv": RefusalReason.HANDLER_CANNOT_VERIFY,
    "nop": RefusalReason.NO_EXTENSION_PENDING,
}

# Rows: action; columns: the actors above, in order. "ok" = allowed, else the refusal.
# fmt: off
#       member  reporter  assignee  hleader  leader  ancestor  unrelated  dept  system  admin
_WS = "ws  ws  ws  ws  ws  ws  ws  ws  na  ws"    # wrong state (the system is refused first)
_LEAD = "na  na  na  ok  ok  ok  na  na  na  na"  # leaders of grid 3 and above
_ESC = "na  na  na  ok  ok  ok  na  na  ok  na"   # leaders and the system
_NOP = "na  na  na  nop nop nop na  na  na  na"   # leaders, but no extension is pending
_HELD = "nas nas ok  nas nas nas nas nas na  nas"  # the assigned person
_ND = "nd  nd  nd  nd  nd  nd  nd  nd  na  nd"    # not the holding department
_DEPT = "nd  nd  nd  nd  nd  nd  nd  ok  na  nd"  # the holding department
_CMT = "na  ok  na  ok  ok  ok  na  na  na  ok"   # reporter, leaders, admin (ASSIGNEE not involved)
_CMT_HELD = "na  ok  ok  ok  ok  ok  na  na  na  ok"
_CMT_DEPT = "na  ok  na  ok  ok  ok  na  ok  na  ok"
_VERIFY = "na  na  na  hcv ok  ok  na  na  na  na"
_RATE = "na  na  na  na  ok  ok  na  na  na  na"    # the verifier, or a leader strictly above
_REOPEN = "na  ok  na  ok  ok  ok  na  na  na  na"  # the reporter, or a leader of the case
_WS_SYS = "ws  ws  ws  ws  ws  ws  ws  ws  ws  ws"  # ... except ESCALATE, the system's own
_ALL_WS = {a: _WS_SYS if a is A.ESCALATE else _WS for a in CaseAction}

TABLE: dict[CaseStatus, dict[CaseAction, str]] = {
    S.REPORTED: {**_ALL_WS, A.ACCEPT: _LEAD, A.REJECT: _LEAD, A.ESCALATE: _ESC,
                 A.COMMENT: _CMT},
    S.ACCEPTED: {**_ALL_WS, A.ASSIGN: _LEAD, A.ESCALATE: _ESC, A.TRANSFER: _LEAD,
                 A.COMMENT: _CMT},
    S.REJECTED: {**_ALL_WS, A.COMMENT: _CMT},
    S.ASSIGNED: {**_ALL_WS, A.ASSIGN: _LEAD, A.ACKNOWLEDGE: _HELD, A.REQUEST_EXTENSION: _HELD,
                 A.APPROVE_EXTENSION: _NOP, A.REFUSE_EXTENSION: _NOP, A.FEEDBACK: _HELD,
                 A.ESCALATE: _ESC, A.TRANSFER: _LEAD, A.DEPT_ACKNOWLEDGE: _ND,
                 A.DEPT_FEEDBACK: _ND, A.DEPT_RETURN: _ND, A.COMMENT: _CMT_HELD},
    S.IN_PROGRESS: {**_ALL_WS, A.ASSIGN: _LEAD, A.REQUEST_EXTENSION: _HELD,
                    A.APPROVE_EXTENSION: _NOP, A.REFUSE_EXTENSION: _NOP, A.FEEDBACK: _HELD,
                    A.ESCALATE: _ESC, A.TRANSFER: _LEAD, A.DEPT_FEEDBACK: _ND,
                    A.DEPT_RETURN: _ND, A.COMMENT: _CMT_HELD},
    S.TRANSFERRED: {**_ALL_WS, A.ASSIGN: _LEAD,
                    A.REQUEST_EXTENSION: "nas nas nas nas nas nas nas ok  na  nas",
                    A.APPROVE_EXTENSION: _NOP, A.REFUSE_EXTENSION: _NOP,
                    A.TRANSFER: _LEAD, A.DEPT_ACKNOWLEDGE: _DEPT, A.DEPT_FEEDBACK: _DEPT,
                    A.DEPT_RETURN: _DEPT, A.COMMENT: _CMT_DEPT},
    S.FEEDBACK: {**_ALL_WS, A.VERIFY_PASS: _VERIFY, A.VERIFY_FAIL: _VERIFY,
                 A.COMMENT: _CMT},
    S.CLOSED: {**_ALL_WS, A.RATE: _RATE, A.COMMENT: _CMT, A.REOPEN: _REOPEN},
    S.RATED: {**_ALL_WS, A.COMMENT: _CMT, A.REOPEN: _REOPEN},
}
# fmt: on


def _cells() -> list[tuple[CaseStatus, CaseAction, str, str]]:
    cells: list[tuple[CaseStatus, CaseAction, str, str]] = []
    for status, rows in TABLE.items():
        assert set(rows) == set(CaseAction), status
        for action, row in rows.items():
            codes = row.split()
            assert len(codes) == len(COLUMNS), (status, action)
            for kind, code in zip(COLUMNS, codes, strict=True):
                cells.append((status, action, kind, code))
    return cells


CELLS = _cells()


def test_table_covers_every_combination() -> None:
    assert set(TABLE) == set(CaseStatus)
    assert len(CELLS) == len(CaseStatus) * len(CaseAction) * len(ACTORS)


@pytest.mark.parametrize(
    ("status", "action", "kind", "code"),
    CELLS,
    ids=[f"{s}-{a}-{k}" for s, a, k, _ in CELLS],
)
def test_every_status_action_actor(
    status: CaseStatus, action: CaseAction, kind: str, code: str
) -> None:
    case, actor = CASES[status], ACTORS[kind]
    result = decide(case, actor, action, **PARAMS.get(action, {}))
    expected = CODES[code]
    if expected is None:
        assert isinstance(result, Transition), result
        assert result.before == case
        assert result.actor_person_id == actor.person_id
        assert action in allowed_actions(case, actor)
    else:
        assert result == Refusal(action, expected)
        assert action not in allowed_actions(case, actor)


# --- what each step does ----------------------------------------------------------------


def _ok(result: Transition | Refusal) -> Transition:
    assert isinstance(result, Transition), result
    return result


def _refused(result: Transition | Refusal) -> RefusalReason:
    assert isinstance(result, Refusal), result
    return result.reason


def test_new_case_starts_reported() -> None:
    case = CaseFacts(status=S.REPORTED, grid_path=(1, 2, 3), reporter_id=REPORTER)
    assert case == _BASE
    assert case.grid_id == 3
    with pytest.raises(ValueError):
        CaseFacts(status=S.REPORTED, grid_path=(), reporter_id=REPORTER)


def test_accept_and_reject() -> None:
    t = _ok(decide(_BASE, ACTORS["leader"], A.ACCEPT))
    assert (t.event, t.after) == (EventKind.ACCEPTED, replace(_BASE, status=S.ACCEPTED))
    t = _ok(decide(_BASE, ACTORS["ancestor"], A.REJECT, reason=RejectReason.OUT_OF_AREA))
    assert t.event is EventKind.REJECTED
    assert t.after.status is S.REJECTED
    assert t.reject_reason is RejectReason.OUT_OF_AREA
    assert _refused(decide(_BASE, ACTORS["leader"], A.REJECT)) is RefusalReason.MISSING_PARAMETER


def test_leader_of_a_child_grid_is_not_a_leader_of_the_case() -> None:
    case = replace(_BASE, grid_path=(1, 2))
    child_leader = ACTORS["leader"]  # leads 3, a child of 2
    assert _refused(decide(case, child_leader, A.ACCEPT)) is RefusalReason.NOT_ALLOWED


def test_a_leader_needs_to_be_a_person() -> None:
    ghost = Actor(None, led_grid_ids=frozenset({3}))
    assert allowed_actions(_BASE, ghost) == frozenset()


def test_assign_to_a_person_then_reassign() -> None:
    accepted = CASES[S.ACCEPTED]
    leader = ACTORS["leader"]
    t = _ok(decide(accepted, leader, A.ASSIGN, assignee_person_id=ASSIGNEE, target_in_subtree=True))
    assert t.event is EventKind.ASSIGNED
    assert t.after == replace(accepted, status=S.ASSIGNED, assignee_person_id=ASSIGNEE)
    t2 = _ok(decide(t.after, leader, A.ASSIGN, assignee_person_id=MEMBER, target_in_subtree=True))
    assert t2.event is EventKind.REASSIGNED
    assert t2.after.assignee_person_id == MEMBER


def test_assign_parameter_mistakes_are_refused() -> None:
    accepted, leader = CASES[S.ACCEPTED], ACTORS["leader"]
    R = RefusalReason
    assert _refused(decide(accepted, leader, A.ASSIGN, target_in_subtree=True)) is (
        R.MISSING_PARAMETER
    )
    both = decide(
        accepted,
        leader,
        A.ASSIGN,
        assignee_person_id=ASSIGNEE,
        department_id=50,
        target_in_subtree=True,
    )
    assert _refused(both) is R.MISSING_PARAMETER
    outside = decide(accepted, leader, A.ASSIGN, assignee_person_id=ASSIGNEE)
    assert _refused(outside) is R.TARGET_OUTSIDE_SUBTREE
    same = decide(
        CASES[S.IN_PROGRESS], leader, A.ASSIGN, assignee_person_id=ASSIGNEE, target_in_subtree=True
    )
    assert _refused(same) is R.SAME_ASSIGNEE


def test_assign_to_a_department_is_held_by_the_department() -> None:
    accepted, leader = CASES[S.ACCEPTED], ACTORS["leader"]
    t = _ok(decide(accepted, leader, A.ASSIGN, department_id=50, target_in_subtree=True))
    case = t.after
    assert (case.status, case.assignee_department_id, case.assignee_person_id) == (
        S.ASSIGNED,
        50,
        None,
    )
    assert _refused(decide(case, ACTORS["assignee"], A.ACKNOWLEDGE)) is RefusalReason.NOT_ASSIGNEE
    assert _refused(decide(case, ACTORS["dept"], A.ACKNOWLEDGE)) is RefusalReason.NOT_ASSIGNEE
    t = _ok(decide(case, ACTORS["dept"], A.DEPT_ACKNOWLEDGE))
    assert (t.event, t.after.status) == (EventKind.DEPT_ACKNOWLEDGED, S.IN_PROGRESS)
    t = _ok(decide(t.after, ACTORS["dept"], A.DEPT_FEEDBACK))
    assert (t.after.status, t.after.handler_id) == (S.FEEDBACK, DEPT_PERSON)
    assert t.after.assignee_department_id == 50


def test_acknowledge_then_feedback() -> None:
    assignee = ACTORS["assignee"]
    t = _ok(decide(CASES[S.ASSIGNED], assignee, A.ACKNOWLEDGE))
    assert (t.event, t.after.status) == (EventKind.ACKNOWLEDGED, S.IN_PROGRESS)
    t = _ok(decide(t.after, assignee, A.FEEDBACK))
    assert t.event is EventKind.FEEDBACK_GIVEN
    assert t.after == replace(
        CASES[S.IN_PROGRESS], status=S.FEEDBACK, handler_id=ASSIGNEE, assignee_person_id=ASSIGNEE
    )


def test_feedback_without_acknowledge_counts_as_acknowledged() -> None:
    t = _ok(decide(CASES[S.ASSIGNED], ACTORS["assignee"], A.FEEDBACK))
    assert (t.event, t.after.status, t.after.handler_id) == (
        EventKind.FEEDBACK_GIVEN,
        S.FEEDBACK,
        ASSIGNEE,
    )


def test_extension_request_and_answer() -> None:
    assignee, leader = ACTORS["assignee"], ACTORS["leader"]
    t = _ok(decide(CASES[S.IN_PROGRESS], assignee, A.REQUEST_EXTENSION))
    pending = t.after
    assert (t.event, pending.extension_pending, pending.status) == (
        EventKind.EXTENSION_REQUESTED,
        True,
        S.IN_PROGRESS,
    )
    assert _refused(decide(pending, assignee, A.REQUEST_EXTENSION)) is (
        RefusalReason.EXTENSION_PENDING
    )
    assert _refused(decide(pending, ACTORS["unrelated"], A.APPROVE_EXTENSION)) is (
        RefusalReason.NOT_ALLOWED
    )
    assert {A.APPROVE_EXTENSION, A.REFUSE_EXTENSION} <= allowed_actions(pending, leader)
    yes = _ok(decide(pending, ACTORS["ancestor"], A.APPROVE_EXTENSION))
    assert (yes.event, yes.after.extension_pending) == (EventKind.EXTENSION_APPROVED, False)
    no = _ok(decide(pending, leader, A.REFUSE_EXTENSION))
    assert (no.event, no.after.extension_pending) == (EventKind.EXTENSION_REFUSED, False)


def test_a_leader_cannot_approve_his_own_extension() -> None:
    own = replace(CASES[S.IN_PROGRESS], assignee_person_id=LEADER, extension_pending=True)
    assert _refused(decide(own, ACTORS["leader"], A.APPROVE_EXTENSION)) is RefusalReason.NOT_ALLOWED
    assert _ok(decide(own, ACTORS["ancestor"], A.APPROVE_EXTENSION))


def test_department_asks_for_extension() -> None:
    t = _ok(decide(CASES[S.TRANSFERRED], ACTORS["dept"], A.REQUEST_EXTENSION))
    assert t.after.extension_pending


def test_pending_extension_is_dropped_when_the_case_moves_on() -> None:
    pending = replace(CASES[S.IN_PROGRESS], extension_pending=True)
    steps: list[tuple[Actor, CaseAction, StepParams]] = [
        (ACTORS["assignee"], A.FEEDBACK, {}),
        (ACTORS["leader"], A.ESCALATE, {}),
        (ACTORS["leader"], A.TRANSFER, {"department_id": 50}),
        (ACTORS["leader"], A.ASSIGN, {"assignee_person_id": MEMBER, "target_in_subtree": True}),
    ]
    for actor, action, params in steps:
        t = _ok(decide(pending, actor, action, **params))
        assert not t.after.extension_pending, action


def test_verify_pass_records_the_verifier() -> None:
    t = _ok(decide(CASES[S.FEEDBACK], ACTORS["ancestor"], A.VERIFY_PASS))
    assert t.event is EventKind.VERIFIED
    assert t.after == replace(CASES[S.FEEDBACK], status=S.CLOSED, verifier_id=ANCESTOR)


def test_verify_fail_sends_back_to_the_same_assignee() -> None:
    feedback = replace(CASES[S.IN_PROGRESS], status=S.FEEDBACK, handler_id=ASSIGNEE, rework_count=1)
    t = _ok(decide(feedback, ACTORS["leader"], A.VERIFY_FAIL))
    assert t.event is EventKind.SENT_BACK
    assert t.after == replace(feedback, status=S.IN_PROGRESS, rework_count=2)
    again = _ok(decide(t.after, ACTORS["assignee"], A.FEEDBACK)).after
    assert again.handler_id == ASSIGNEE and again.rework_count == 2


def test_handler_cannot_verify_even_as_ancestor_leader() -> None:
    case = replace(CASES[S.FEEDBACK], assignee_person_id=ANCESTOR, handler_id=ANCESTOR)
    assert _refused(decide(case, ACTORS["ancestor"], A.VERIFY_PASS)) is (
        RefusalReason.HANDLER_CANNOT_VERIFY
    )


def test_rate_by_verifier_or_leader_above() -> None:
    closed = CASES[S.CLOSED]
    t = _ok(decide(closed, ACTORS["leader"], A.RATE, rating=Rating.FAIR))
    assert (t.event, t.after.status, t.rating) == (EventKind.RATED, S.RATED, Rating.FAIR)
    assert _ok(decide(closed, ACTORS["ancestor"], A.RATE, rating=Rating.POOR)).rating is (
        Rating.POOR
    )
    assert _refused(decide(closed, ACTORS["leader"], A.RATE)) is RefusalReason.MISSING_PARAMETER


def test_handler_cannot_rate() -> None:
    case = replace(CASES[S.CLOSED], assignee_person_id=ANCESTOR, handler_id=ANCESTOR)
    assert _refused(decide(case, ACTORS["ancestor"], A.RATE, rating=Rating.GOOD)) is (
        RefusalReason.HANDLER_CANNOT_RATE
    )


@pytest.mark.parametrize(
    ("status", "after_status"),
    [
        (S.REPORTED, S.REPORTED),
        (S.ACCEPTED, S.ACCEPTED),
        (S.ASSIGNED, S.ACCEPTED),
        (S.IN_PROGRESS, S.ACCEPTED),
    ],
)
def test_escalate_hands_the_case_to_the_parent(
    status: CaseStatus, after_status: CaseStatus
) -> None:
    case = replace(CASES[status], escalation_count=2)
    t = _ok(decide(case, SYSTEM, A.ESCALATE))
    assert t.event is EventKind.ESCALATED
    assert t.actor_person_id is None
    assert t.after == replace(
        case,
        status=after_status,
        grid_path=(1, 2),
        assignee_person_id=None,
        escalation_count=3,
    )
    # grid 3's leader has handed it up and has no say any more; grid 2's leader has.
    assert allowed_actions(t.after, ACTORS["leader"]) == frozenset()
    assert A.ESCALATE in allowed_actions(t.after, ACTORS["ancestor"])


def test_escalate_stops_at_the_root() -> None:
    case = replace(CASES[S.ACCEPTED], grid_path=(1,))
    root_leader = Actor(LEADER, led_grid_ids=frozenset({1}))
    assert _refused(decide(case, root_leader, A.ESCALATE)) is RefusalReason.AT_ROOT
    assert _refused(decide(case, SYSTEM, A.ESCALATE)) is RefusalReason.AT_ROOT
    assert A.ESCALATE not in allowed_actions(case, root_leader)


def test_transfer_and_the_department_answers() -> None:
    leader, dept = ACTORS["leader"], ACTORS["dept"]
    t = _ok(decide(CASES[S.IN_PROGRESS], leader, A.TRANSFER, department_id=50))
    transferred = t.after
    assert (t.event, transferred) == (EventKind.TRANSFERRED, CASES[S.TRANSFERRED])
    assert _refused(decide(transferred, leader, A.TRANSFER)) is RefusalReason.MISSING_PARAMETER
    assert _refused(decide(transferred, leader, A.TRANSFER, department_id=50)) is (
        RefusalReason.SAME_ASSIGNEE
    )
    back = _ok(decide(transferred, dept, A.DEPT_RETURN))
    assert back.event is EventKind.DEPT_RETURNED
    assert back.after == replace(transferred, status=S.ACCEPTED, assignee_department_id=None)
    direct = _ok(decide(transferred, dept, A.DEPT_FEEDBACK))
    assert direct.after.status is S.FEEDBACK
    other_dept = Actor(DEPT_PERSON, department_ids=frozenset({51}))
    assert _refused(decide(transferred, other_dept, A.DEPT_ACKNOWLEDGE)) is (
        RefusalReason.NOT_DEPARTMENT
    )


def test_department_without_a_known_person_can_still_answer() -> None:
    chat = Actor(None, department_ids=frozenset({50}))
    t = _ok(decide(CASES[S.TRANSFERRED], chat, A.DEPT_FEEDBACK))
    assert t.after.handler_id is None
    assert _ok(decide(t.after, ACTORS["leader"], A.VERIFY_PASS)).after.verifier_id == LEADER


def test_leader_takes_a_case_back_from_a_silent_department() -> None:
    t = _ok(
        decide(
            CASES[S.TRANSFERRED],
            ACTORS["leader"],
            A.ASSIGN,
            assignee_person_id=ASSIGNEE,
            target_in_subtree=True,
        )
    )
    assert t.after == CASES[S.ASSIGNED]


def test_comment_changes_nothing() -> None:
    t = _ok(decide(CASES[S.RATED], ACTORS["reporter"], A.COMMENT))
    assert (t.event, t.after) == (EventKind.COMMENTED, CASES[S.RATED])


def test_admin_who_also_leads_has_leader_rights() -> None:
    admin_leader = Actor(ADMIN, led_grid_ids=frozenset({1}), is_admin=True)
    assert {A.ACCEPT, A.REJECT, A.ESCALATE, A.COMMENT} == allowed_actions(_BASE, admin_leader)


def test_status_helpers() -> None:
    assert {s for s in CaseStatus if s in TERMINAL} == {S.REJECTED, S.RATED}
    assert {s for s in CaseStatus if s not in OPEN} == {S.REJECTED, S.CLOSED, S.RATED}


def test_values_fit_in_callback_data() -> None:
    # "c:<action>:<case id up to 12 digits>" must stay far below Telegram's 64 bytes.
    assert max(len(a.value.encode()) for a in CaseAction) <= 5
    assert len({a.value for a in CaseAction}) == len(CaseAction)
    assert all(s.value.islower() and len(s.value) <= 12 for s in CaseStatus)


# --- waiting_for: what "/my" lists -----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (S.REPORTED, "leader", {A.ACCEPT, A.REJECT}),
        (S.REPORTED, "ancestor", set()),  # the level above sees it in the digest
        (S.REPORTED, "reporter", set()),
        (S.ACCEPTED, "leader", {A.ASSIGN}),
        (S.ASSIGNED, "assignee", {A.ACKNOWLEDGE}),
        (S.ASSIGNED, "leader", set()),
        (S.IN_PROGRESS, "assignee", {A.FEEDBACK}),
        (S.TRANSFERRED, "dept", {A.DEPT_ACKNOWLEDGE}),
        (S.FEEDBACK, "leader", {A.VERIFY_PASS, A.VERIFY_FAIL}),
        (S.FEEDBACK, "hleader", set()),
        (S.FEEDBACK, "ancestor", set()),
        (S.CLOSED, "leader", {A.RATE}),
        (S.CLOSED, "ancestor", set()),
        (S.RATED, "leader", set()),
        (S.REJECTED, "leader", set()),
    ],
)
def test_waiting_for(status: CaseStatus, kind: str, expected: set[CaseAction]) -> None:
    assert waiting_for(CASES[status], ACTORS[kind]) == expected


def test_waiting_for_department_in_progress_and_extensions() -> None:
    dept_in_progress = replace(CASES[S.TRANSFERRED], status=S.IN_PROGRESS)
    assert waiting_for(dept_in_progress, ACTORS["dept"]) == {A.DEPT_FEEDBACK}
    pending = replace(CASES[S.IN_PROGRESS], extension_pending=True)
    assert waiting_for(pending, ACTORS["leader"]) == {A.APPROVE_EXTENSION, A.REFUSE_EXTENSION}
    assert waiting_for(pending, ACTORS["assignee"]) == {A.FEEDBACK}


def test_waiting_for_parent_when_the_handler_leads_the_grid() -> None:
    feedback = CASES[S.FEEDBACK]  # handled by HANDLER_LEADER, a leader of grid 3
    assert waiting_for(feedback, ACTORS["ancestor"]) == set()
    assert waiting_for(feedback, ACTORS["ancestor"], handler_leads_grid=True) == {
        A.VERIFY_PASS,
        A.VERIFY_FAIL,
    }
    assert waiting_for(feedback, ACTORS["hleader"], handler_leads_grid=True) == set()
