"""The hazard case (隐患案件): its state machine and who may move it.

A case walks the seven steps of 数字城管 (GB/T 30428):

    信息收集 report  → REPORTED 已上报
    建立台账 accept  → ACCEPTED 已立案      (or REJECTED 不予立案, with a reason; terminal)
    明确任务 assign  → ASSIGNED 已派遣      (to a person or a department, awaiting 签收)
                       TRANSFERRED 已移交   (移交 to a department with a written record)
    任务处理         → IN_PROGRESS 处理中   (签收: acknowledged)
    处理反馈         → FEEDBACK 待核查      (the handler reported what was done)
    核查结案         → CLOSED 已结案        (verified by a leader who is not the handler)
                       or back to IN_PROGRESS (返工, rework)
    综合评价         → RATED 已评价         (好/较好/一般/较差; terminal)

Everything here is pure: the caller loads a `CaseFacts` and an `Actor`, asks `decide`, and
on a `Transition` stores `after` and appends `event` to the ledger (台账). Nothing is read
from a clock or a database. A user mistake (a stale button, a press by the wrong person) is
answered with a `Refusal` carrying a reason key for a polite message; `decide` never raises
for one.

The rules, decided in one place (`_STATES`, `_check_actor`, `_check_conditions`):

* "Leader" below means a person (`person_id` set) who holds a leader role (网格长) in the
  case's current grid or in any of its ancestors (逐级: a leader is responsible for the whole
  subtree). Leaders of a child grid, of a sibling or of an unrelated grid are not leaders
  of the case.
* ACCEPT / REJECT (立案 / 不予立案): a leader, only in REPORTED. REJECT needs a `reason`.
* ASSIGN (派遣): a leader, in ACCEPTED; re-assignment in ASSIGNED, IN_PROGRESS and
  TRANSFERRED (a leader may take a case back from a department that does not answer).
  Exactly one target: `assignee_person_id` or `department_id`; the caller checks that the
  target lies in the case's subtree and passes `target_in_subtree`. Re-assigning to the
  current assignee is refused (`same_assignee`). The case goes to ASSIGNED, awaiting 签收.
* ACKNOWLEDGE (签收): the assigned person, in ASSIGNED.
* FEEDBACK (处理反馈): the assigned person, in IN_PROGRESS, and also in ASSIGNED: feedback
  without a prior 签收 counts as an implicit acknowledgement (a member who fixes the hazard
  on the spot should not have to press two buttons). The feedback giver becomes the handler.
* REQUEST_EXTENSION (申请延期): whoever holds the case (the assigned person, or the assigned
  department for a department-held case) in ASSIGNED, IN_PROGRESS or TRANSFERRED, when no
  request is pending (`extension_pending`).
* APPROVE_EXTENSION / REFUSE_EXTENSION: a leader who is not the current assignee (nobody
  approves their own request), only while a request is pending (`no_extension_pending`).
* VERIFY_PASS / VERIFY_FAIL (核查结案 / 返工): a leader who is not the handler
  (`handler_cannot_verify`), only in FEEDBACK. Pass → CLOSED with the verifier recorded;
  fail → IN_PROGRESS with `rework_count + 1`, the same assignee.
* RATE (综合评价): in CLOSED → RATED, by the verifier, or by a leader of a grid strictly
  above the case's grid (the level above oversees the evaluation), never by the handler
  (`handler_cannot_rate`). Needs a `rating`.
* ESCALATE (逐级上报): a leader, or the system (the scheduler), in REPORTED, ACCEPTED,
  ASSIGNED or IN_PROGRESS, not at the root (`at_root`). The parent grid becomes the case's
  grid (it is the second-to-last entry of `grid_path`, so no parameter is needed); the
  assignee is cleared; REPORTED stays REPORTED, anything else becomes ACCEPTED (the parent
  has it in its ledger and must assign it); `escalation_count + 1`. A TRANSFERRED case is
  not escalated: the department holds it, and the leader may take it back with ASSIGN.
* TRANSFER (移交): a leader, in ACCEPTED, ASSIGNED, IN_PROGRESS and TRANSFERRED (to another
  department), → TRANSFERRED with `department_id` as the assignee department.
* DEPT_ACKNOWLEDGE / DEPT_FEEDBACK / DEPT_RETURN: an actor acting for the department that
  holds the case (`not_department`). Acknowledge: TRANSFERRED or a department-held ASSIGNED
  → IN_PROGRESS. Feedback: TRANSFERRED, or department-held ASSIGNED / IN_PROGRESS
  → FEEDBACK (implicit acknowledgement as for persons; the pressing person, if known,
  becomes the handler). Return (退回): same states → ACCEPTED, department cleared.
* REOPEN (重新打开): the reporter, or a leader of the case, in CLOSED or RATED, within the
  deployment's window after the closing (`within_reopen_window`, computed by the caller
  with `domain.reopen.window_open`; `reopen_expired` when past it). The case goes back to
  IN_PROGRESS with the same assignee (person or department), or to ACCEPTED when it has
  none; the verification no longer stands (`verifier_id` cleared). The ledger keeps every
  earlier step.
* COMMENT (留言): anyone involved, in any status, terminal ones included: the reporter, the
  assigned person, the handler, the verifier, a leader, the holding department, an admin.
* The system actor may ESCALATE and nothing else (`not_allowed`).
* Admins (管理员) run the deployment, not the cases: they may comment, and otherwise have
  no case rights unless they also hold a leader role on the case's path.

Refusals are checked in this order, so that a stale button gets the most useful answer:
the system restriction, then the state (`wrong_state`: someone already moved the case),
then the actor (`not_allowed`, `not_assignee`, `not_department`, `handler_cannot_verify`,
`handler_cannot_rate`), then the conditions (`extension_pending`, `no_extension_pending`,
`at_root`, `same_assignee`, `target_outside_subtree`, `missing_parameter`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Final


class CaseStatus(StrEnum):
    """Where a case stands. The values are stored in the database: never rename them."""

    REPORTED = "reported"  # 已上报
    ACCEPTED = "accepted"  # 已立案
    REJECTED = "rejected"  # 不予立案 (terminal)
    ASSIGNED = "assigned"  # 已派遣, awaiting 签收
    IN_PROGRESS = "in_progress"  # 处理中
    TRANSFERRED = "transferred"  # 已移交, awaiting the department
    FEEDBACK = "feedback"  # 待核查
    CLOSED = "closed"  # 已结案, awaiting the rating
    RATED = "rated"  # 已评价 (terminal)


class CaseAction(StrEnum):
    """What someone can do to a case. Short values: they travel in 64-byte callback data."""

    ACCEPT = "acc"  # 立案
    REJECT = "rej"  # 不予立案
    ASSIGN = "asg"  # 派遣
    ACKNOWLEDGE = "ack"  # 签收
    REQUEST_EXTENSION = "ext"  # 申请延期
    APPROVE_EXTENSION = "exty"  # 同意延期
    REFUSE_EXTENSION = "extn"  # 不同意延期
    FEEDBACK = "fb"  # 处理反馈
    VERIFY_PASS = "vok"  # 核查通过, 结案
    VERIFY_FAIL = "vno"  # 返工
    RATE = "rate"  # 综合评价
    ESCALATE = "esc"  # 逐级上报
    TRANSFER = "xfer"  # 移交
    DEPT_ACKNOWLEDGE = "dack"  # 部门签收
    DEPT_FEEDBACK = "dfb"  # 部门反馈
    DEPT_RETURN = "dret"  # 部门退回
    COMMENT = "cmt"  # 留言
    REOPEN = "reo"  # 重新打开

    @property
    def by_department(self) -> bool:
        """A step the department holding a transferred case takes (签收, 反馈, 退回): it is
        taken in the department's name, from the department's chat."""
        return self in _DEPT_HOLDER_ACTIONS


class EventKind(StrEnum):
    """What the ledger (台账) records for a step (`storage.models.CaseEvent.kind`). Stored:
    never rename the values."""

    REPORTED = "reported"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    ACKNOWLEDGED = "acknowledged"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_REFUSED = "extension_refused"
    FEEDBACK_GIVEN = "feedback_given"
    VERIFIED = "verified"
    SENT_BACK = "sent_back"  # 返工
    RATED = "rated"
    ESCALATED = "escalated"
    TRANSFERRED = "transferred"
    DEPT_ACKNOWLEDGED = "dept_acknowledged"
    DEPT_FEEDBACK_GIVEN = "dept_feedback_given"
    DEPT_RETURNED = "dept_returned"
    COMMENTED = "commented"
    REOPENED = "reopened"  # 重新打开: the note holds the reason
    # A leader moved the deadline (限期整改) of a case being handled: no step of `decide`
    # (see `deadline_change_refusal`); the entry's data holds the old and the new deadline.
    DEADLINE_CHANGED = "deadline_changed"


class RejectReason(StrEnum):
    """Why a report is not taken into the ledger (不予立案)."""

    DUPLICATE = "duplicate"  # 重复上报
    NOT_HAZARD = "not_hazard"  # 不属于隐患
    OUT_OF_AREA = "out_of_area"  # 不在本网格范围


class Rating(StrEnum):
    """综合评价."""

    GOOD = "good"  # 好
    FAIR = "fair"  # 较好
    AVERAGE = "average"  # 一般
    POOR = "poor"  # 较差


class Severity(StrEnum):
    """How serious a hazard is; sets the rectification deadline (限期整改)."""

    GENERAL = "general"  # 一般
    MAJOR = "major"  # 较大
    CRITICAL = "critical"  # 重大


SEVERITY_BY_ZH: Final[dict[str, Severity]] = {
    "一般": Severity.GENERAL,
    "较大": Severity.MAJOR,
    "重大": Severity.CRITICAL,
}
"""The severity labels the source documents (and scenario files) use."""

RATING_BY_ZH: Final[dict[str, Rating]] = {
    "好": Rating.GOOD,
    "较好": Rating.FAIR,
    "一般": Rating.AVERAGE,
    "较差": Rating.POOR,
}


class RefusalReason(StrEnum):
    """Message keys for a polite refusal."""

    NOT_ALLOWED = "not_allowed"
    WRONG_STATE = "wrong_state"
    NOT_ASSIGNEE = "not_assignee"
    NOT_DEPARTMENT = "not_department"
    HANDLER_CANNOT_VERIFY = "handler_cannot_verify"
    HANDLER_CANNOT_RATE = "handler_cannot_rate"
    AT_ROOT = "at_root"
    EXTENSION_PENDING = "extension_pending"
    NO_EXTENSION_PENDING = "no_extension_pending"
    SAME_ASSIGNEE = "same_assignee"
    TARGET_OUTSIDE_SUBTREE = "target_outside_subtree"
    MISSING_PARAMETER = "missing_parameter"
    REOPEN_EXPIRED = "reopen_expired"


TERMINAL: Final[frozenset[CaseStatus]] = frozenset({CaseStatus.REJECTED, CaseStatus.RATED})
"""Nothing but comments can happen any more (a RATED case may still be reopened, within the
deployment's window: `CaseAction.REOPEN`)."""

OPEN: Final[frozenset[CaseStatus]] = frozenset(
    {
        CaseStatus.REPORTED,
        CaseStatus.ACCEPTED,
        CaseStatus.ASSIGNED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.TRANSFERRED,
        CaseStatus.FEEDBACK,
    }
)
"""The hazard is not yet confirmed fixed. CLOSED (verified, awaiting only the rating) is not
open: the hazard is gone; it still waits for a rating (see `waiting_for`)."""

UNDER_DEADLINE: Final[frozenset[CaseStatus]] = frozenset(
    {CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.TRANSFERRED}
)
"""Statuses in which the rectification deadline (限期整改) runs against the assignee."""


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about a case.

    `grid_path` runs from the root to the case's current grid (never empty).
    `handler_id` is whoever gave the last feedback; `verifier_id` who verified it.
    """

    status: CaseStatus
    grid_path: tuple[int, ...]
    reporter_id: int
    assignee_person_id: int | None = None
    assignee_department_id: int | None = None
    handler_id: int | None = None
    verifier_id: int | None = None
    extension_pending: bool = False
    rework_count: int = 0
    escalation_count: int = 0

    def __post_init__(self) -> None:
        if not self.grid_path:
            raise ValueError("a case needs a grid")

    @property
    def grid_id(self) -> int:
        """The grid that owns the case now."""
        return self.grid_path[-1]

    @property
    def held_by_department(self) -> bool:
        return self.assignee_department_id is not None


@dataclass(frozen=True)
class Actor:
    """Who is pressing the button, as the rules see them.

    `led_grid_ids`: grids where the person holds a leader role (any grid; the rules look at
    the case's path). `department_ids`: departments on whose behalf they act (e.g. the press
    came from the department's bound chat). `is_system`: the scheduler.
    """

    person_id: int | None
    led_grid_ids: frozenset[int] = field(default_factory=frozenset)
    department_ids: frozenset[int] = field(default_factory=frozenset)
    is_system: bool = False
    is_admin: bool = False


SYSTEM: Final[Actor] = Actor(person_id=None, is_system=True)


@dataclass(frozen=True)
class Transition:
    """An allowed step: store `after`, append `event` to the ledger.

    `reject_reason` and `rating` are set for REJECT and RATE; the rest of what changed
    (grid, assignee, department, verifier) is in `after`.
    """

    action: CaseAction
    event: EventKind
    actor_person_id: int | None
    before: CaseFacts
    after: CaseFacts
    reject_reason: RejectReason | None = None
    rating: Rating | None = None


@dataclass(frozen=True)
class Refusal:
    """A step not taken, with the key of the polite message to show."""

    action: CaseAction
    reason: RefusalReason


_S = CaseStatus
_A = CaseAction
_R = RefusalReason

_STATES: Final[dict[CaseAction, frozenset[CaseStatus]]] = {
    _A.ACCEPT: frozenset({_S.REPORTED}),
    _A.REJECT: frozenset({_S.REPORTED}),
    _A.ASSIGN: frozenset({_S.ACCEPTED, _S.ASSIGNED, _S.IN_PROGRESS, _S.TRANSFERRED}),
    _A.ACKNOWLEDGE: frozenset({_S.ASSIGNED}),
    _A.REQUEST_EXTENSION: frozenset({_S.ASSIGNED, _S.IN_PROGRESS, _S.TRANSFERRED}),
    _A.APPROVE_EXTENSION: frozenset({_S.ASSIGNED, _S.IN_PROGRESS, _S.TRANSFERRED}),
    _A.REFUSE_EXTENSION: frozenset({_S.ASSIGNED, _S.IN_PROGRESS, _S.TRANSFERRED}),
    _A.FEEDBACK: frozenset({_S.ASSIGNED, _S.IN_PROGRESS}),
    _A.VERIFY_PASS: frozenset({_S.FEEDBACK}),
    _A.VERIFY_FAIL: frozenset({_S.FEEDBACK}),
    _A.RATE: frozenset({_S.CLOSED}),
    _A.ESCALATE: frozenset({_S.REPORTED, _S.ACCEPTED, _S.ASSIGNED, _S.IN_PROGRESS}),
    _A.TRANSFER: frozenset({_S.ACCEPTED, _S.ASSIGNED, _S.IN_PROGRESS, _S.TRANSFERRED}),
    _A.DEPT_ACKNOWLEDGE: frozenset({_S.ASSIGNED, _S.TRANSFERRED}),
    _A.DEPT_FEEDBACK: frozenset({_S.ASSIGNED, _S.IN_PROGRESS, _S.TRANSFERRED}),
    _A.DEPT_RETURN: frozenset({_S.ASSIGNED, _S.IN_PROGRESS, _S.TRANSFERRED}),
    _A.COMMENT: frozenset(CaseStatus),
    _A.REOPEN: frozenset({_S.CLOSED, _S.RATED}),
}
"""In which statuses an action can apply at all (before looking at who presses)."""

_LEADER_ACTIONS: Final[frozenset[CaseAction]] = frozenset(
    {_A.ACCEPT, _A.REJECT, _A.ASSIGN, _A.ESCALATE, _A.TRANSFER}
)
_PERSON_HOLDER_ACTIONS: Final[frozenset[CaseAction]] = frozenset({_A.ACKNOWLEDGE, _A.FEEDBACK})
_DEPT_HOLDER_ACTIONS: Final[frozenset[CaseAction]] = frozenset(
    {_A.DEPT_ACKNOWLEDGE, _A.DEPT_FEEDBACK, _A.DEPT_RETURN}
)


_ALL_ACTIONS: Final[tuple[CaseAction, ...]] = tuple(CaseAction)


def is_leader_of(case: CaseFacts, actor: Actor) -> bool:
    """The actor is a person who leads the case's grid or one of its ancestors."""
    return actor.person_id is not None and not actor.led_grid_ids.isdisjoint(case.grid_path)


def _leads_strictly_above(case: CaseFacts, actor: Actor) -> bool:
    return actor.person_id is not None and not actor.led_grid_ids.isdisjoint(case.grid_path[:-1])


def _is_assigned_person(case: CaseFacts, actor: Actor) -> bool:
    return actor.person_id is not None and actor.person_id == case.assignee_person_id


def _acts_for_holding_department(case: CaseFacts, actor: Actor) -> bool:
    return (
        case.assignee_department_id is not None
        and case.assignee_department_id in actor.department_ids
    )


def _holds_case(case: CaseFacts, actor: Actor) -> bool:
    if case.held_by_department:
        return _acts_for_holding_department(case, actor)
    return _is_assigned_person(case, actor)


def is_involved(case: CaseFacts, actor: Actor) -> bool:
    """May comment: reporter, assigned person, handler, verifier, leader, holding
    department, admin."""
    pid = actor.person_id
    if pid is not None and pid in (
        case.reporter_id,
        case.assignee_person_id,
        case.handler_id,
        case.verifier_id,
    ):
        return True
    return actor.is_admin or is_leader_of(case, actor) or _acts_for_holding_department(case, actor)


def _check_state(case: CaseFacts, action: CaseAction) -> RefusalReason | None:
    if case.status not in _STATES[action]:
        return _R.WRONG_STATE
    return None


def _check_actor(case: CaseFacts, actor: Actor, action: CaseAction) -> RefusalReason | None:
    """Who may do what. Assumes the state already fits the action."""
    if actor.is_system:
        return None if action is _A.ESCALATE else _R.NOT_ALLOWED
    if action in _LEADER_ACTIONS:
        return None if is_leader_of(case, actor) else _R.NOT_ALLOWED
    if action in _PERSON_HOLDER_ACTIONS:
        if case.held_by_department:
            # A department-held case is acknowledged / answered with the DEPT_* actions.
            return _R.NOT_ASSIGNEE
        return None if _is_assigned_person(case, actor) else _R.NOT_ASSIGNEE
    if action in _DEPT_HOLDER_ACTIONS:
        return None if _acts_for_holding_department(case, actor) else _R.NOT_DEPARTMENT
    if action is _A.REQUEST_EXTENSION:
        return None if _holds_case(case, actor) else _R.NOT_ASSIGNEE
    if action in (_A.APPROVE_EXTENSION, _A.REFUSE_EXTENSION):
        if not is_leader_of(case, actor) or _holds_case(case, actor):
            return _R.NOT_ALLOWED
        return None
    if action in (_A.VERIFY_PASS, _A.VERIFY_FAIL):
        if not is_leader_of(case, actor):
            return _R.NOT_ALLOWED
        if actor.person_id is not None and actor.person_id == case.handler_id:
            return _R.HANDLER_CANNOT_VERIFY
        return None
    if action is _A.RATE:
        is_verifier = actor.person_id is not None and actor.person_id == case.verifier_id
        if not (is_verifier or _leads_strictly_above(case, actor)):
            return _R.NOT_ALLOWED
        if actor.person_id is not None and actor.person_id == case.handler_id:
            return _R.HANDLER_CANNOT_RATE
        return None
    if action is _A.COMMENT:
        return None if is_involved(case, actor) else _R.NOT_ALLOWED
    if action is _A.REOPEN:
        is_reporter = actor.person_id is not None and actor.person_id == case.reporter_id
        return None if is_reporter or is_leader_of(case, actor) else _R.NOT_ALLOWED
    raise AssertionError(f"unhandled action {action!r}")  # pragma: no cover


def _check_conditions(case: CaseFacts, action: CaseAction) -> RefusalReason | None:
    """Conditions on the case itself that do not depend on parameters."""
    if action is _A.REQUEST_EXTENSION and case.extension_pending:
        return _R.EXTENSION_PENDING
    if action in (_A.APPROVE_EXTENSION, _A.REFUSE_EXTENSION) and not case.extension_pending:
        return _R.NO_EXTENSION_PENDING
    if action is _A.ESCALATE and len(case.grid_path) < 2:
        return _R.AT_ROOT
    return None


def _refusal_reason(case: CaseFacts, actor: Actor, action: CaseAction) -> RefusalReason | None:
    if actor.is_system and action is not _A.ESCALATE:
        return _R.NOT_ALLOWED
    return (
        _check_state(case, action)
        or _check_actor(case, actor, action)
        or _check_conditions(case, action)
    )


@lru_cache(maxsize=512)
def allowed_actions(case: CaseFacts, actor: Actor) -> frozenset[CaseAction]:
    """The actions `actor` may take now (the buttons to draw).

    Parameter checks (a target in the subtree, a different assignee, a reason or rating
    chosen) are left to `decide`: with sensible parameters every action listed here
    succeeds, and every action not listed is refused.

    What `_refusal_reason` finds, asked only of the actions the status admits (the others
    all fail `_check_state`; a system actor is refused all but ESCALATE by `_check_actor`
    too), and kept per facts and actor (both frozen): a step draws a card for each person
    and chat, mostly the same leaders on the same facts.
    """
    return frozenset(
        a
        for a in _ACTIONS_IN[case.status]
        if _check_actor(case, actor, a) is None and _check_conditions(case, a) is None
    )


_ACTIONS_IN: Final[Mapping[CaseStatus, tuple[CaseAction, ...]]] = {
    status: tuple(a for a in _ALL_ACTIONS if status in _STATES[a]) for status in CaseStatus
}
"""The actions each status admits at all (`_STATES` read the other way)."""


def step_taken(action: CaseAction, *, department_id: int | None) -> CaseAction:
    """The step a leader's choice amounts to: a case assigned to a department is transferred
    (移交, with its written record), not assigned."""
    if action is _A.ASSIGN and department_id is not None:
        return _A.TRANSFER
    return action


def decide(
    case: CaseFacts,
    actor: Actor,
    action: CaseAction,
    *,
    assignee_person_id: int | None = None,
    department_id: int | None = None,
    target_in_subtree: bool = False,
    reason: RejectReason | None = None,
    rating: Rating | None = None,
    within_reopen_window: bool = False,
) -> Transition | Refusal:
    """Decide one step. See the module docstring for the rules.

    Parameters by action: ASSIGN takes exactly one of `assignee_person_id` or
    `department_id`, and `target_in_subtree` (checked by the caller against the tree);
    TRANSFER takes `department_id`; REJECT takes `reason`; RATE takes `rating`; REOPEN
    takes `within_reopen_window`. Other parameters are ignored.
    """
    refused = _refusal_reason(case, actor, action)
    if refused is not None:
        return Refusal(action, refused)

    def step(event: EventKind, after: CaseFacts) -> Transition:
        return Transition(
            action=action,
            event=event,
            actor_person_id=actor.person_id,
            before=case,
            after=after,
            reject_reason=reason if action is _A.REJECT else None,
            rating=rating if action is _A.RATE else None,
        )

    def refuse(why: RefusalReason) -> Refusal:
        return Refusal(action, why)

    match action:
        case _A.ACCEPT:
            return step(EventKind.ACCEPTED, replace(case, status=_S.ACCEPTED))
        case _A.REJECT:
            if reason is None:
                return refuse(_R.MISSING_PARAMETER)
            return step(EventKind.REJECTED, replace(case, status=_S.REJECTED))
        case _A.ASSIGN:
            if (assignee_person_id is None) == (department_id is None):
                return refuse(_R.MISSING_PARAMETER)
            if not target_in_subtree:
                return refuse(_R.TARGET_OUTSIDE_SUBTREE)
            if case.status is not _S.ACCEPTED and (
                case.assignee_person_id == assignee_person_id
                and case.assignee_department_id == department_id
            ):
                return refuse(_R.SAME_ASSIGNEE)
            event = EventKind.ASSIGNED if case.status is _S.ACCEPTED else EventKind.REASSIGNED
            return step(
                event,
                replace(
                    case,
                    status=_S.ASSIGNED,
                    assignee_person_id=assignee_person_id,
                    assignee_department_id=department_id,
                    extension_pending=False,
                ),
            )
        case _A.ACKNOWLEDGE:
            return step(EventKind.ACKNOWLEDGED, replace(case, status=_S.IN_PROGRESS))
        case _A.REQUEST_EXTENSION:
            return step(EventKind.EXTENSION_REQUESTED, replace(case, extension_pending=True))
        case _A.APPROVE_EXTENSION:
            return step(EventKind.EXTENSION_APPROVED, replace(case, extension_pending=False))
        case _A.REFUSE_EXTENSION:
            return step(EventKind.EXTENSION_REFUSED, replace(case, extension_pending=False))
        case _A.FEEDBACK:
            return step(
                EventKind.FEEDBACK_GIVEN,
                replace(
                    case,
                    status=_S.FEEDBACK,
                    handler_id=actor.person_id,
                    extension_pending=False,
                ),
            )
        case _A.VERIFY_PASS:
            return step(
                EventKind.VERIFIED,
                replace(case, status=_S.CLOSED, verifier_id=actor.person_id),
            )
        case _A.VERIFY_FAIL:
            return step(
                EventKind.SENT_BACK,
                replace(case, status=_S.IN_PROGRESS, rework_count=case.rework_count + 1),
            )
        case _A.RATE:
            if rating is None:
                return refuse(_R.MISSING_PARAMETER)
            return step(EventKind.RATED, replace(case, status=_S.RATED))
        case _A.ESCALATE:
            return step(
                EventKind.ESCALATED,
                replace(
                    case,
                    status=_S.REPORTED if case.status is _S.REPORTED else _S.ACCEPTED,
                    grid_path=case.grid_path[:-1],
                    assignee_person_id=None,
                    assignee_department_id=None,
                    extension_pending=False,
                    escalation_count=case.escalation_count + 1,
                ),
            )
        case _A.TRANSFER:
            if department_id is None:
                return refuse(_R.MISSING_PARAMETER)
            if case.status is _S.TRANSFERRED and case.assignee_department_id == department_id:
                return refuse(_R.SAME_ASSIGNEE)
            return step(
                EventKind.TRANSFERRED,
                replace(
                    case,
                    status=_S.TRANSFERRED,
                    assignee_person_id=None,
                    assignee_department_id=department_id,
                    extension_pending=False,
                ),
            )
        case _A.DEPT_ACKNOWLEDGE:
            return step(EventKind.DEPT_ACKNOWLEDGED, replace(case, status=_S.IN_PROGRESS))
        case _A.DEPT_FEEDBACK:
            return step(
                EventKind.DEPT_FEEDBACK_GIVEN,
                replace(
                    case,
                    status=_S.FEEDBACK,
                    handler_id=actor.person_id,
                    extension_pending=False,
                ),
            )
        case _A.DEPT_RETURN:
            return step(
                EventKind.DEPT_RETURNED,
                replace(
                    case,
                    status=_S.ACCEPTED,
                    assignee_department_id=None,
                    extension_pending=False,
                ),
            )
        case _A.COMMENT:
            return step(EventKind.COMMENTED, case)
        case _A.REOPEN:
            if not within_reopen_window:
                return refuse(_R.REOPEN_EXPIRED)
            held = case.assignee_person_id is not None or case.held_by_department
            return step(
                EventKind.REOPENED,
                replace(
                    case,
                    status=_S.IN_PROGRESS if held else _S.ACCEPTED,
                    verifier_id=None,
                    extension_pending=False,
                ),
            )
    raise AssertionError(f"unhandled action {action!r}")  # pragma: no cover


def waiting_for(
    case: CaseFacts, actor: Actor, *, handler_leads_grid: bool = False
) -> frozenset[CaseAction]:
    """What this case waits for from `actor` (powers "/my": 待我处理).

    Narrower than `allowed_actions`: only the step the case is stuck on, and only for the
    level that owns it, so a district leader's list is not flooded with every case of the
    subtree (the digest covers those):

    * REPORTED: leaders of the case's own grid → ACCEPT, REJECT;
    * ACCEPTED: leaders of the case's own grid → ASSIGN;
    * ASSIGNED / IN_PROGRESS / TRANSFERRED: whoever holds it → ACKNOWLEDGE or FEEDBACK
      (the DEPT_* twins for a department);
    * an extension pending: leaders of the own grid (not the holder) → APPROVE / REFUSE;
    * FEEDBACK: leaders of the own grid who are not the handler → VERIFY_PASS / VERIFY_FAIL;
      when the handler leads the own grid (the caller says so with `handler_leads_grid`;
      the facts do not know it), the parent grid's leaders are asked as well;
    * CLOSED: the verifier → RATE;
    * REJECTED / RATED: nothing.

    The result is always a subset of `allowed_actions(case, actor)`.
    """
    own_leader = actor.person_id is not None and case.grid_id in actor.led_grid_ids
    duties: set[CaseAction] = set()
    match case.status:
        case _S.REPORTED:
            if own_leader:
                duties |= {_A.ACCEPT, _A.REJECT}
        case _S.ACCEPTED:
            if own_leader:
                duties.add(_A.ASSIGN)
        case _S.ASSIGNED | _S.TRANSFERRED:
            duties.add(_A.DEPT_ACKNOWLEDGE if case.held_by_department else _A.ACKNOWLEDGE)
        case _S.IN_PROGRESS:
            duties.add(_A.DEPT_FEEDBACK if case.held_by_department else _A.FEEDBACK)
        case _S.FEEDBACK:
            parent_leader = (
                len(case.grid_path) > 1
                and actor.person_id is not None
                and case.grid_path[-2] in actor.led_grid_ids
            )
            if own_leader or (handler_leads_grid and parent_leader):
                duties |= {_A.VERIFY_PASS, _A.VERIFY_FAIL}
        case _S.CLOSED:
            if actor.person_id is not None and actor.person_id == case.verifier_id:
                duties.add(_A.RATE)
        case _:
            pass
    if case.extension_pending and own_leader:
        duties |= {_A.APPROVE_EXTENSION, _A.REFUSE_EXTENSION}
    return frozenset(duties) & allowed_actions(case, actor)


def deadline_change_refusal(facts: CaseFacts, actor: Actor) -> str | None:
    """Why `actor` may not change the case's deadline now, or None if they may.

    Allowed while the deadline runs against the assignee (assigned, in progress, transferred),
    to a leader of the case's grid or above (as assigning is) or an admin, but never to the
    person holding the case (they ask for an extension instead)."""
    if facts.status not in UNDER_DEADLINE:
        return RefusalReason.WRONG_STATE.value
    if not (actor.is_admin or is_leader_of(facts, actor)):
        return RefusalReason.NOT_ALLOWED.value
    if actor.person_id is not None and actor.person_id == facts.assignee_person_id:
        return RefusalReason.NOT_ALLOWED.value
    return None
