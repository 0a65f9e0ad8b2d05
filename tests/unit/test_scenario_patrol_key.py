"""The scenario file's `patrol: {companions_count: true}` key (issue 12 pt 13): read, refused
when malformed, off when absent, and a change of it is listed by the diff."""

from __future__ import annotations

import pytest

from domain.scenario import ScenarioError, parse_scenario
from domain.scenario_diff import FieldChange, Snapshot, diff
from tests.conftest import scenario_path

BASE = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")


def with_patrol(value: str) -> str:
    return BASE.replace("departments:\n", f"patrol: {value}\ndepartments:\n", 1)


def test_companions_count_is_read() -> None:
    assert parse_scenario(with_patrol("{companions_count: true}")).companions_count is True
    assert parse_scenario(with_patrol("{companions_count: false}")).companions_count is False
    assert parse_scenario(with_patrol("{}")).companions_count is False


def test_absent_means_companions_do_not_count() -> None:
    scenario = parse_scenario(BASE)
    assert scenario.companions_count is False
    assert scenario.settings.companions_count is False


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("{companions_count: yes please}", "companions_count"),
        ("{companion_count: true}", "companion_count"),
        ("[companions_count]", "patrol must be a mapping"),
    ],
)
def test_a_malformed_patrol_key_is_refused_with_its_line(value: str, says: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(with_patrol(value))
    assert says in str(info.value)
    line = with_patrol(value).splitlines().index(f"patrol: {value}") + 1
    assert info.value.line == line


def test_turning_it_on_is_a_settings_change() -> None:
    before = parse_scenario(BASE)
    after = parse_scenario(with_patrol("{companions_count: true}"))
    changes = diff(Snapshot.from_scenario(before), after)
    assert changes.settings == (FieldChange("patrol.companions_count", False, True),)
    assert diff(Snapshot.from_scenario(after), after).settings == ()
