"""Who may see a case (`domain.visibility`), on hand-built cases.

The tree: 1 区 → 2 林和街道 → 3 林和东社区 → 4 第1片区 (the case's grid) → 5 a 楼院 below it;
6 is the sibling 第2片区, 7 another street (珠玑街道) under the same district.
Department 50 holds transferred cases; 51 is another department.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.cases import (
    Actor,
    CaseAction,
    CaseFacts,
    CaseStatus,
    Transition,
    decide,
    is_involved,
)
from domain.visibility import Viewer, listed_subtrees, may_see

A = CaseAction
PATHS: dict[int, tuple[int, ...]] = {
    1: (1,),
    2: (1, 2),
    3: (1, 2, 3),
    4: (1, 2, 3, 4),
    5: (1, 2, 3, 4, 5),
    6: (1, 2, 3, 6),
    7: (1, 7),
}
REPORTER, ASSIGNEE, HANDLER, VERIFIER, SOMEONE = 100, 101, 102, 103, 199
CASE = CaseFacts(
    status=CaseStatus.CLOSED,
    grid_path=PATHS[4],
    reporter_id=REPORTER,
    assignee_person_id=ASSIGNEE,
    handler_id=HANDLER,
    verifier_id=VERIFIER,
)
TRANSFERRED = CaseFacts(
    status=CaseStatus.TRANSFERRED,
    grid_path=PATHS[4],
    reporter_id=REPORTER,
    assignee_department_id=50,
)


def holding(*grids: int, person: int = SOMEONE) -> Viewer:
    return Viewer(person_id=person, grid_ids=frozenset(grids))


@pytest.mark.parametrize("person", [REPORTER, ASSIGNEE, HANDLER, VERIFIER])
def test_the_people_on_a_case_see_it_wherever_they_hold_roles(person: int) -> None:
    assert may_see(CASE, Viewer(person_id=person))
    assert may_see(CASE, holding(7, person=person))


@pytest.mark.parametrize("grid", [4, 3, 2, 1])
def test_whoever_holds_a_role_in_the_cases_grid_or_above_sees_it(grid: int) -> None:
    assert may_see(CASE, holding(grid))


@pytest.mark.parametrize(
    ("who", "grids"),
    [
        ("a member of the sibling 片区", (6,)),
        ("a member of a 楼院 below the case's grid", (5,)),
        ("the leader of another street", (7,)),
        ("someone holding roles only off the case's path", (5, 6, 7)),
    ],
)
def test_roles_off_the_cases_path_see_nothing(who: str, grids: tuple[int, ...]) -> None:
    assert not may_see(CASE, holding(*grids)), who


def test_someone_not_on_the_roster_sees_nothing() -> None:
    assert not may_see(CASE, Viewer(person_id=None))
    assert not may_see(TRANSFERRED, Viewer(person_id=None, department_ids=frozenset({51})))


def test_admins_see_every_case() -> None:
    assert may_see(CASE, Viewer(person_id=SOMEONE, is_admin=True))


def test_the_holding_department_sees_the_case_from_its_chat_and_only_while_it_holds_it() -> None:
    from_its_chat = Viewer(person_id=None, department_ids=frozenset({50}))
    assert may_see(TRANSFERRED, from_its_chat)
    assert not may_see(TRANSFERRED, Viewer(person_id=None, department_ids=frozenset({51})))
    returned = decide(TRANSFERRED, Actor(None, department_ids=frozenset({50})), A.DEPT_RETURN)
    assert isinstance(returned, Transition)
    assert not may_see(returned.after, from_its_chat)


def test_an_escalated_case_leaves_the_sight_of_the_level_below() -> None:
    escalated = replace(CASE, grid_path=PATHS[3], assignee_person_id=None)
    assert not may_see(escalated, holding(4))
    assert may_see(escalated, holding(3))
    assert may_see(escalated, Viewer(person_id=REPORTER))


PEOPLE = (None, REPORTER, ASSIGNEE, HANDLER, VERIFIER, SOMEONE)
FACTS = (
    CASE,
    TRANSFERRED,
    replace(CASE, status=CaseStatus.REPORTED, assignee_person_id=None, handler_id=None),
    replace(TRANSFERRED, grid_path=PATHS[6]),
)


@given(
    facts=st.sampled_from(FACTS),
    person=st.sampled_from(PEOPLE),
    led=st.frozensets(st.sampled_from(sorted(PATHS))),
    member_of=st.frozensets(st.sampled_from(sorted(PATHS))),
    departments=st.frozensets(st.sampled_from([50, 51])),
    admin=st.booleans(),
)
def test_whoever_may_comment_on_a_case_may_see_it(
    facts: CaseFacts,
    person: int | None,
    led: frozenset[int],
    member_of: frozenset[int],
    departments: frozenset[int],
    admin: bool,
) -> None:
    if person is None:  # not on the roster: no roles anywhere
        led = member_of = frozenset()
        admin = False
    actor = Actor(person, led_grid_ids=led, department_ids=departments, is_admin=admin)
    viewer = Viewer(person, grid_ids=led | member_of, department_ids=departments, is_admin=admin)
    if is_involved(facts, actor):
        assert may_see(facts, viewer)


def test_listed_subtrees_drop_the_nested_and_the_repeated() -> None:
    held = [PATHS[4], PATHS[2], PATHS[5], PATHS[2], PATHS[7]]
    assert listed_subtrees(held) == [PATHS[2], PATHS[7]]
    assert listed_subtrees([]) == []


@pytest.mark.parametrize(
    "held",
    [set(c) for n in range(4) for c in combinations(sorted(PATHS), n)],
)
def test_the_cases_a_person_may_list_are_the_ones_the_rule_lets_them_see(held: set[int]) -> None:
    """/cases queries the listed subtrees in SQL; for someone not on the case, that selects
    exactly the cases `may_see` allows."""
    subtrees = listed_subtrees(PATHS[g] for g in held)
    for case_path in PATHS.values():
        facts = replace(CASE, grid_path=case_path)
        listed = any(case_path[: len(p)] == p for p in subtrees)
        assert listed == may_see(facts, holding(*held))
