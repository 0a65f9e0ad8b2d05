"""Who may see a case (查看): its card, its ledger (台账), and the lists that name it.

Seeing is a permission like any step: a card carries the reporter, the address, the
description and the photos, and the ledger every step with its people. Case ids are
sequential, so a rule that only hid buttons would let anyone list every case. Every way of
seeing a case asks `may_see`; a list that is queried in SQL (/cases) selects exactly the
cases under `listed_subtrees`, the same rule's grid clause as paths.

May see a case:

* the people on it: the reporter, the assigned person, the handler (who gave the feedback),
  the verifier;
* whoever holds a role — leader or member — in the case's current grid or in any grid above
  it (逐级: a level sees its whole subtree). A member of a sibling or child grid does not,
  nor a leader of another street;
* the department holding the case, for a press or command from its bound chat;
* admins.

Everyone who may comment on a case (`domain.cases.is_involved`) may see it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.cases import CaseFacts


@dataclass(frozen=True)
class Viewer:
    """Who asks to see, as the rule needs them.

    `grid_ids`: grids where the person holds any role, leader or member (any grid; the rule
    looks at the case's path). `department_ids`: departments whose bound chat the request came
    from. A person not on the roster has no `person_id` and no grids.
    """

    person_id: int | None
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    department_ids: frozenset[int] = field(default_factory=frozenset)
    is_admin: bool = False


def may_see(case: CaseFacts, viewer: Viewer) -> bool:
    """True when `viewer` may see the case's card and ledger (see the module docstring)."""
    if viewer.is_admin:
        return True
    if viewer.person_id is not None and viewer.person_id in (
        case.reporter_id,
        case.assignee_person_id,
        case.handler_id,
        case.verifier_id,
    ):
        return True
    if case.assignee_department_id is not None and (
        case.assignee_department_id in viewer.department_ids
    ):
        return True
    return not viewer.grid_ids.isdisjoint(case.grid_path)


def listed_subtrees(held_paths: Iterable[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The subtrees whose cases a person holding grids at `held_paths` (root first) may list:
    the grid clause of `may_see`, as paths. A subtree inside another is dropped, so a query
    over them names no case twice."""
    paths = sorted(set(held_paths))
    return [p for p in paths if not any(o != p and p[: len(o)] == o for o in paths)]
