"""When people leave the roster: which open cases they leave behind, and who picks them up.

Pure. An import that ends memberships hands in what ended and the open cases around it;
these rules say which of those cases were the leavers' and which leader must reassign each.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from domain.cases import CaseStatus

__all__ = [
    "HELD_BY_PERSON",
    "WAITING_ON_LEADERS",
    "OpenCase",
    "left_by",
    "reassigning_grid",
]

HELD_BY_PERSON: Final[frozenset[CaseStatus]] = frozenset(
    {CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS}
)
"""A case in these statuses waits on the person it was assigned to."""

WAITING_ON_LEADERS: Final[frozenset[CaseStatus]] = frozenset(
    {CaseStatus.REPORTED, CaseStatus.ACCEPTED, CaseStatus.FEEDBACK}
)
"""A case in these statuses waits on the leaders of its own grid (accept, assign, verify)."""


@dataclass(frozen=True)
class OpenCase:
    case_id: int
    status: CaseStatus
    grid_id: int
    assignee_person_id: int | None


def left_by(
    case: OpenCase,
    *,
    gone: Collection[int],
    leaders_gone: Mapping[int, Sequence[int]],
) -> int | None:
    """The leaver this case waited on, or None if it waits on no one who left.

    ``gone``: people who hold no role any more; ``leaders_gone``: grid id → people whose
    leadership of that grid ended. A case assigned to someone who left waits on them; a
    case waiting on its grid's leaders waits on a leader of that grid who left."""
    if case.status in HELD_BY_PERSON and case.assignee_person_id in gone:
        return case.assignee_person_id
    if case.status in WAITING_ON_LEADERS:
        left = leaders_gone.get(case.grid_id)
        if left:
            return left[0]
    return None


def reassigning_grid(path: Sequence[int], leaders: Mapping[int, Sequence[int]]) -> int | None:
    """The grid whose leaders reassign a case of the grid at the end of ``path`` (root
    first): the case's own grid while someone still leads it, else the nearest one above."""
    for grid_id in reversed(path):
        if leaders.get(grid_id):
            return grid_id
    return None
