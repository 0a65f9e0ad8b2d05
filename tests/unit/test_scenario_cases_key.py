"""The scenario file's ``cases:`` block (issue 14 pts 6, 8): the reopen window and the 督办
stage limits read with their lines, the documented defaults when absent, and the shared
fixture files still accepted unchanged."""

from __future__ import annotations

import pytest

from domain.case_rules import CaseRules, Route, Stage, from_stored, to_stored
from domain.scenario import ScenarioError, parse_scenario
from domain.scenario_diff import FieldChange, Snapshot, diff
from tests.conftest import scenario_path

BASE = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")


def with_cases(value: str) -> str:
    return BASE.replace("departments:\n", f"cases: {value}\ndepartments:\n", 1)


@pytest.mark.parametrize("name", ["fire-safety-5-level.yaml", "zijingshan-party-grid.yaml"])
def test_the_fixtures_parse_unchanged_with_the_defaults(name: str) -> None:
    scenario = parse_scenario(scenario_path(name).read_text(encoding="utf-8"))
    assert scenario.case_rules == CaseRules()
    assert scenario.case_rules.reopen_days == 30


def test_the_block_is_read_and_survives_storage() -> None:
    rules = parse_scenario(
        with_cases(
            "{reopen_days: 7, limits: {重大: {accept: 1, verify: 4}, general: {acknowledge: 12}}}"
        )
    ).case_rules
    assert rules.reopen_days == 7
    assert rules.limit_hours("critical", Stage.ACCEPT) == 1
    assert rules.limit_hours("critical", Stage.VERIFY) == 4
    assert rules.limit_hours("critical", Stage.ACKNOWLEDGE) == 2  # the default for 重大
    assert rules.limit_hours("general", Stage.ACKNOWLEDGE) == 12
    assert rules.limit_hours("general", Stage.RECTIFY) is None  # the case's own deadline
    assert from_stored(to_stored(rules)) == rules
    assert from_stored({}) == CaseRules()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{reopen_days: -1}", "reopen_days"),
        ("{reopen_days: 99999}", "at most"),
        ("{reopen_day: 3}", "reopen_day"),
        ("{limits: {严重: {accept: 2}}}", "unknown severity"),
        ("{limits: {一般: {rectify: 2}}}", "rectify"),
        ("{limits: {一般: {accept: 0}}}", "accept"),
        ("[reopen_days]", "cases must be a mapping"),
    ],
)
def test_a_malformed_block_is_refused_with_its_line(value: str, says: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(with_cases(value))
    assert says in str(info.value)
    assert info.value.line == with_cases(value).splitlines().index(f"cases: {value}") + 1


ROUTES = """{routes: [
    {category: 燃气隐患, department: PCS-LH, copy: [LH]},
    {category: gas, severity: 重大, skip_to: Q},
    {severity: 较大, skip_to: LH, copy: [Q]}]}"""


def test_routes_are_read_in_order_and_the_first_match_applies() -> None:
    rules = parse_scenario(with_cases(ROUTES.replace("\n", " "))).case_rules
    gas, _critical_gas, major = rules.routes
    assert gas == Route(category="燃气隐患", department="PCS-LH", copy=("LH",))
    assert rules.route_for("燃气隐患", "critical") == gas  # the first that matches
    assert rules.route_for("用电隐患", "major") == major
    assert rules.route_for("用电隐患", "general") is None
    assert from_stored(to_stored(rules)) == rules


@pytest.mark.parametrize(
    ("route", "says"),
    [
        ("{department: XFDD}", "needs a category or a severity"),
        ("{category: 燃气隐患}", "needs one of department or skip_to"),
        ("{category: 燃气隐患, department: XFDD, skip_to: Q}", "not both"),
        ("{category: 违法用水, department: XFDD}", "is not one of the categories"),
        ("{severity: 严重, skip_to: Q}", "is unknown"),
        ("{category: 燃气隐患, department: NOPE}", "is not in departments"),
        ("{category: 燃气隐患, skip_to: NOPE}", "route grid 'NOPE' is not a grid"),
        ("{category: 燃气隐患, department: XFDD, copy: [LH, NOPE]}", "route grid 'NOPE'"),
        ("{category: 燃气隐患, department: XFDD, to: Q}", "unknown key 'to'"),
    ],
)
def test_a_bad_route_is_refused_with_its_line(route: str, says: str) -> None:
    value = "{routes: [" + route + "]}"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(with_cases(value))
    assert says in str(info.value)
    assert info.value.line == with_cases(value).splitlines().index(f"cases: {value}") + 1


def test_a_changed_block_is_listed_by_the_diff_and_an_absent_one_changes_nothing() -> None:
    before = parse_scenario(BASE)
    assert diff(Snapshot.from_scenario(before), before).settings == ()
    value = (
        "{reopen_days: 7, limits: {重大: {accept: 1}},"
        " routes: [{category: 燃气隐患, department: PCS-LH, copy: [LH]}]}"
    )
    after = parse_scenario(with_cases(value))
    changes = diff(Snapshot.from_scenario(before), after).settings
    assert changes == (
        FieldChange("cases.reopen_days", 30, 7),
        FieldChange("cases.limits.critical", None, "accept 1h"),
        FieldChange("cases.routes", (), ("燃气隐患 → department PCS-LH, copy LH",)),
    )
    assert diff(Snapshot.from_scenario(after), after).settings == ()
    lines = diff(Snapshot.from_scenario(before), after).summary_lines()
    assert "setting cases.reopen_days: 30 → 7" in lines
