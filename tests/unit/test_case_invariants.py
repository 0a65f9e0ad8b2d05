"""Random walks through the case machine never reach an invalid case."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from domain.cases import (
    SYSTEM,
    TERMINAL,
    Actor,
    CaseAction,
    CaseFacts,
    CaseStatus,
    Rating,
    Refusal,
    RejectReason,
    Transition,
    allowed_actions,
    decide,
    is_involved,
    is_leader_of,
    waiting_for,
)
from tests.unit.step_params import StepParams

S = CaseStatus

# A small world: path 1 → 2 → 3 → 4, grid 9 unrelated; people 100..107; departments 50, 51.
ACTORS: tuple[Actor, ...] = (
    Actor(100),  # plain member, also a usual assignee
    Actor(101),  # reporter
    Actor(102),
    Actor(103, led_grid_ids=frozenset({4})),
    Actor(104, led_grid_ids=frozenset({3})),
    Actor(105, led_grid_ids=frozenset({1})),
    Actor(106, led_grid_ids=frozenset({9})),
    Actor(107, department_ids=frozenset({50})),
    Actor(None, department_ids=frozenset({51})),
    Actor(108, led_grid_ids=frozenset({2, 4})),  # 一岗双责: leads two grids
    Actor(109, is_admin=True),
    SYSTEM,
)
PEOPLE = (100, 103, 108)  # assignees: a plain member, a leader of 4, a leader of 2 and 4

actors = st.sampled_from(ACTORS)
# hypothesis types a fixed dictionary as dict[str, V]: it cannot say which key holds what.
params = cast(
    st.SearchStrategy[StepParams],
    st.fixed_dictionaries(
        {},
        optional={
            "assignee_person_id": st.sampled_from(PEOPLE),
            "department_id": st.sampled_from((50, 51)),
            "target_in_subtree": st.booleans(),
            "reason": st.sampled_from(RejectReason),
            "rating": st.sampled_from(Rating),
            "within_reopen_window": st.booleans(),
        },
    ),
)


def reported(grid_path: Iterable[int]) -> CaseFacts:
    """A freshly reported case (信息收集) on `grid_path`."""
    return CaseFacts(status=S.REPORTED, grid_path=tuple(grid_path), reporter_id=101)


def good_params(action: CaseAction, case: CaseFacts, pick: int) -> StepParams:
    """Parameters a careful handler would pass, so allowed actions really go through."""
    if action is CaseAction.ASSIGN:
        targets = [p for p in PEOPLE if p != case.assignee_person_id]
        return {"assignee_person_id": targets[pick % len(targets)], "target_in_subtree": True}
    if action is CaseAction.TRANSFER:
        return {"department_id": 51 if case.assignee_department_id == 50 else 50}
    if action is CaseAction.REJECT:
        return {"reason": list(RejectReason)[pick % len(RejectReason)]}
    if action is CaseAction.RATE:
        return {"rating": list(Rating)[pick % len(Rating)]}
    if action is CaseAction.REOPEN:
        return {"within_reopen_window": True}
    return {}


def check_invariants(case: CaseFacts) -> None:
    check_case_invariants(case)
    for actor in ACTORS:
        check_actor_invariants(case, actor, allowed_actions(case, actor))


def check_case_invariants(case: CaseFacts) -> None:
    assignees = (case.assignee_person_id is not None) + (case.assignee_department_id is not None)
    if case.status in (S.ASSIGNED, S.IN_PROGRESS, S.FEEDBACK):
        assert assignees == 1, case
    if case.status is S.TRANSFERRED:
        assert case.assignee_department_id is not None and case.assignee_person_id is None, case
    if case.status in (S.REPORTED, S.ACCEPTED):
        assert assignees == 0, case
    if case.status in (S.CLOSED, S.RATED):
        assert case.verifier_id is not None, case
        assert case.verifier_id != case.handler_id, case
    if case.extension_pending:
        assert case.status in (S.ASSIGNED, S.IN_PROGRESS, S.TRANSFERRED), case
    assert case.grid_path, case
    assert case.grid_path[0] == 1, case
    assert case.rework_count >= 0 and case.escalation_count >= 0


def check_actor_invariants(case: CaseFacts, actor: Actor, allowed: frozenset[CaseAction]) -> None:
    if case.status in TERMINAL:
        # A rated case may still be reopened (within its window, which `decide` checks).
        assert allowed <= {CaseAction.COMMENT, CaseAction.REOPEN}, (case, actor, allowed)
        if CaseAction.REOPEN in allowed:
            assert case.status is S.RATED
            assert actor.person_id == case.reporter_id or is_leader_of(case, actor)
    if actor.is_system:
        assert allowed <= {CaseAction.ESCALATE}
    assert (CaseAction.COMMENT in allowed) == is_involved(case, actor)
    assert waiting_for(case, actor, handler_leads_grid=case.handler_id == 103) <= allowed


class CaseMachine(RuleBasedStateMachine):
    case: CaseFacts

    @initialize(depth=st.sampled_from((4, 3, 2, 1)))
    def report(self, depth: int) -> None:
        self.case = reported(range(1, depth + 1))

    def _apply(self, result: Transition | Refusal, actor: Actor, action: CaseAction) -> None:
        before = self.case
        if isinstance(result, Transition):
            after = result.after
            assert result.before == before and result.action is action
            assert after.rework_count >= before.rework_count
            assert after.escalation_count >= before.escalation_count
            assert after.reporter_id == before.reporter_id
            assert before.grid_path[: len(after.grid_path)] == after.grid_path
            # Every step but a comment changes the case (a no-op would be a silent bug).
            assert (after == before) == (action is CaseAction.COMMENT)
            self.case = after
        else:
            assert result.action is action

    @rule(actor=actors, action=st.sampled_from(CaseAction), kwargs=params)
    def anything(self, actor: Actor, action: CaseAction, kwargs: StepParams) -> None:
        """Any press by anyone, with any parameters: refused or a valid step, never raises."""
        result = decide(self.case, actor, action, **kwargs)
        if isinstance(result, Transition):
            assert action in allowed_actions(self.case, actor)
        self._apply(result, actor, action)

    @precondition(lambda self: any(allowed_actions(self.case, a) for a in ACTORS))
    @rule(data=st.data())
    def something_allowed(self, data: st.DataObject) -> None:
        """A button that was drawn, pressed with sensible parameters, always goes through."""
        candidates = [(a, x) for a in ACTORS for x in sorted(allowed_actions(self.case, a))]
        actor, action = data.draw(st.sampled_from(candidates))
        pick = data.draw(st.integers(0, 10))
        result = decide(self.case, actor, action, **good_params(action, self.case, pick))
        assert isinstance(result, Transition), (self.case, actor, action, result)
        self._apply(result, actor, action)

    @invariant()
    def valid(self) -> None:
        check_invariants(self.case)


CaseMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestCaseMachine = CaseMachine.TestCase


@settings(max_examples=100, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTORS), st.sampled_from(CaseAction), params), max_size=60
    )
)
def test_random_presses_never_break_a_case(
    steps: list[tuple[Actor, CaseAction, StepParams]],
) -> None:
    case = reported((1, 2, 3, 4))
    for actor, action, kwargs in steps:
        result = decide(case, actor, action, **kwargs)
        if isinstance(result, Transition):
            assert action in allowed_actions(case, actor)
            case = result.after
        check_invariants(case)


def test_the_walk_reaches_every_status() -> None:
    """The random walk is not stuck at the start: a scripted loop visits every status."""
    seen: set[CaseStatus] = set()

    @settings(max_examples=100, deadline=None, database=None)
    @given(st.data())
    def walk(data: st.DataObject) -> None:
        case = reported((1, 2, 3, 4))
        for _ in range(30):
            seen.add(case.status)
            candidates = [(a, x) for a in ACTORS for x in sorted(allowed_actions(case, a))]
            candidates = [c for c in candidates if c[1] is not CaseAction.COMMENT]
            if not candidates:
                break
            actor, action = data.draw(st.sampled_from(candidates))
            result = decide(case, actor, action, **good_params(action, case, 0))
            assert isinstance(result, Transition)
            case = result.after
        seen.add(case.status)

    walk()
    assert seen == set(CaseStatus)


def _variants(action: CaseAction) -> list[StepParams]:
    """Every parameter choice worth trying for an action, good and bad."""
    if action is CaseAction.ASSIGN:
        to_people: list[StepParams] = [
            {"assignee_person_id": p, "target_in_subtree": True} for p in PEOPLE
        ]
        return [
            *to_people,
            {"assignee_person_id": 100, "target_in_subtree": False},
            {"department_id": 50, "target_in_subtree": True},
            {},
        ]
    if action is CaseAction.TRANSFER:
        return [{"department_id": 50}, {"department_id": 51}, {}]
    if action is CaseAction.REJECT:
        return [{"reason": RejectReason.DUPLICATE}, {}]
    if action is CaseAction.RATE:
        return [{"rating": Rating.AVERAGE}, {}]
    if action is CaseAction.REOPEN:
        return [{"within_reopen_window": True}, {"within_reopen_window": False}, {}]
    return [{}]


VARIANTS = {action: _variants(action) for action in CaseAction}


def test_every_reachable_case_is_valid() -> None:
    """Every case reachable in the small world, explored exhaustively (rework capped at 1)."""
    start = [reported(range(1, depth + 1)) for depth in (1, 2, 3, 4)]
    seen: set[CaseFacts] = set(start)
    frontier = list(start)
    while frontier:
        case = frontier.pop()
        check_case_invariants(case)
        for actor in ACTORS:
            allowed = allowed_actions(case, actor)
            check_actor_invariants(case, actor, allowed)
            for action in CaseAction:
                went_through = False
                for kwargs in VARIANTS[action]:
                    result = decide(case, actor, action, **kwargs)
                    if isinstance(result, Refusal):
                        continue
                    went_through = True
                    after = result.after
                    assert after.rework_count >= case.rework_count
                    assert after.escalation_count >= case.escalation_count
                    if after not in seen and after.rework_count <= 1:
                        seen.add(after)
                        frontier.append(after)
                assert went_through == (action in allowed), (case, actor, action)
    statuses = {case.status for case in seen}
    assert statuses == set(CaseStatus)
    assert len(seen) > 1000  # the walk really explored
