"""Who must act next after a step of a case (the hand-off, 移交给下一处理人), and which steps
they must take.

An edited message makes no sound and does not move its chat up the list, so a case that now
waits for someone is announced to them by a new card, never only by an edit of an old one.
This is the one place that says who that someone is, from the step's kind and the case as it
stands after the step:

* 派遣 / 改派 (ASSIGNED, REASSIGNED), 返工 (SENT_BACK), an extension answered, 调整期限
  (DEADLINE_CHANGED: the holder must keep to the new deadline), 移交 (TRANSFERRED): whoever
  holds the case now — the assigned person, or the department's chat;
* 处理反馈 (FEEDBACK_GIVEN, DEPT_FEEDBACK_GIVEN): the leaders of the case's grid, who verify;
  they are sent the feedback's text and photos with the card (`evidence`);
* 申请延期 (EXTENSION_REQUESTED): the leaders of the case's grid, who approve or refuse;
* 逐级上报 (ESCALATED): the leaders of the grid that owns the case now;
* 部门退回 (DEPT_RETURNED): the leaders of the case's grid, who assign it again;
* 重新打开 (REOPENED): whoever holds the case again (the assignee, or the department's
  chat), told why; with nobody holding it, the leaders of its grid, who assign it;
* 上报 (REPORTED): the leaders of the case's grid, who accept or reject it.

When the person the step came from (the handler, the one asking for more time) leads the
case's own grid, they may not answer it themselves: the parent grid's leaders are asked as
well (`mover_leads_grid`, as `domain.cases.waiting_for` does for verification).

A party is named with the steps the case waits for from them (`actions`): the caller draws
each real person's buttons from `domain.cases.allowed_actions` and hands the card only to
those whose buttons include one of these steps (a leader who handled the case is not asked
to verify it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from domain.cases import Actor, CaseAction, CaseFacts, EventKind, allowed_actions

_A = CaseAction
_E = EventKind


class Party(StrEnum):
    """Who a hand-off goes to; `NextActor.id` names them."""

    PERSON = "person"  # a person, in their private chat
    LEADERS = "leaders"  # the leaders of a grid, each in their private chat
    DEPARTMENT = "department"  # a department, in its bound chat


@dataclass(frozen=True)
class NextActor:
    """A party the case now waits for, and the steps it waits for from them."""

    party: Party
    id: int
    actions: frozenset[CaseAction]
    evidence: bool = False
    """Send them the step's text and photos (the feedback they verify) with the card."""


_HOLDER_STEPS: Final = frozenset(
    {_A.ACKNOWLEDGE, _A.FEEDBACK, _A.DEPT_ACKNOWLEDGE, _A.DEPT_FEEDBACK}
)
_TO_HOLDER: Final[frozenset[EventKind]] = frozenset(
    {
        _E.ASSIGNED,
        _E.REASSIGNED,
        _E.SENT_BACK,
        _E.EXTENSION_APPROVED,
        _E.EXTENSION_REFUSED,
        _E.DEADLINE_CHANGED,
        _E.TRANSFERRED,
        _E.REOPENED,
    }
)
_TO_LEADERS: Final[dict[EventKind, frozenset[CaseAction]]] = {
    _E.REPORTED: frozenset({_A.ACCEPT, _A.REJECT}),
    _E.ESCALATED: frozenset({_A.ACCEPT, _A.REJECT, _A.ASSIGN}),
    _E.DEPT_RETURNED: frozenset({_A.ASSIGN}),
    _E.REOPENED: frozenset({_A.ASSIGN}),  # reopened with nobody holding it
    _E.FEEDBACK_GIVEN: frozenset({_A.VERIFY_PASS, _A.VERIFY_FAIL}),
    _E.DEPT_FEEDBACK_GIVEN: frozenset({_A.VERIFY_PASS, _A.VERIFY_FAIL}),
    _E.EXTENSION_REQUESTED: frozenset({_A.APPROVE_EXTENSION, _A.REFUSE_EXTENSION}),
}
_ASKED_OF_A_LEADER: Final[frozenset[EventKind]] = frozenset(
    {_E.FEEDBACK_GIVEN, _E.DEPT_FEEDBACK_GIVEN, _E.EXTENSION_REQUESTED}
)
"""Steps whose answer the person who took them may not give: when that person leads the
case's grid, the parent grid is asked too."""

EVIDENCE: Final[frozenset[EventKind]] = frozenset({_E.FEEDBACK_GIVEN, _E.DEPT_FEEDBACK_GIVEN})

_SOMEONE = -1
"""A person id no one has: a leader as the rules see any leader of a grid."""


def _waiting(after: CaseFacts, who: Actor, steps: frozenset[CaseAction]) -> frozenset[CaseAction]:
    return steps & allowed_actions(after, who)


def next_actors(
    event: EventKind, after: CaseFacts, *, mover_leads_grid: bool = False
) -> tuple[NextActor, ...]:
    """The parties the case waits for after a step of kind `event` (see the module docstring);
    empty when the step hands the case to nobody new (it stays with whoever took it)."""
    if event in _TO_HOLDER:
        held = _holder(after)
        if held or event is not _E.REOPENED:
            return held
    steps = _TO_LEADERS.get(event)
    if steps is None:
        return ()
    grids = [after.grid_id]
    if event in _ASKED_OF_A_LEADER and mover_leads_grid and len(after.grid_path) > 1:
        grids.append(after.grid_path[-2])
    found: list[NextActor] = []
    for grid_id in grids:
        leader = Actor(person_id=_SOMEONE, led_grid_ids=frozenset({grid_id}))
        actions = _waiting(after, leader, steps)
        if actions:
            found.append(NextActor(Party.LEADERS, grid_id, actions, evidence=event in EVIDENCE))
    return tuple(found)


def _holder(after: CaseFacts) -> tuple[NextActor, ...]:
    if after.assignee_department_id is not None:
        dept = Actor(person_id=None, department_ids=frozenset({after.assignee_department_id}))
        actions = _waiting(after, dept, _HOLDER_STEPS)
        party, party_id = Party.DEPARTMENT, after.assignee_department_id
    elif after.assignee_person_id is not None:
        actions = _waiting(after, Actor(person_id=after.assignee_person_id), _HOLDER_STEPS)
        party, party_id = Party.PERSON, after.assignee_person_id
    else:
        return ()
    return (NextActor(party, party_id, actions),) if actions else ()
