"""What a test passes to `domain.cases.decide` beside the case, the actor and the action."""

from __future__ import annotations

from typing import TypedDict

from domain.cases import Rating, RejectReason


class StepParams(TypedDict, total=False):
    """`decide`'s keyword parameters, any of them, as a test draws or lists them."""

    assignee_person_id: int | None
    department_id: int | None
    target_in_subtree: bool
    reason: RejectReason | None
    rating: Rating | None
    within_reopen_window: bool
