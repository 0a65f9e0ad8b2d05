"""A person's label names the grid, the role and the person once each."""

from __future__ import annotations

import pytest

from domain.labels import person_label


@pytest.mark.parametrize(
    ("grid", "role", "name", "label"),
    [
        # a named person
        ("林和东第1片区3号楼院", "楼院长", "王芳", "林和东第1片区3号楼院 · 楼院长 · 王芳"),
        ("林和街道", "网格长", "林和街道主任", "林和街道 · 网格长 · 林和街道主任"),
        # a generated name: the grid and the role are not said twice, the ordinal stays
        ("林和东第1片区", "保安巡查员", "林和东第1片区·保安巡查员2", "林和东第1片区 · 保安巡查员2"),
        ("第1片区", "网格长", "第1片区·网格长1", "第1片区 · 网格长1"),
        # a generated-looking name of another grid is the person's own name
        (
            "林和东第2片区",
            "保安巡查员",
            "林和东第1片区·保安巡查员2",
            "林和东第2片区 · 保安巡查员 · 林和东第1片区·保安巡查员2",
        ),
        # a name that is only the grid or the role adds nothing
        ("某区", "网格长", "某区", "某区 · 网格长"),
        ("某区", "网格长", "  ", "某区 · 网格长"),
        # a name that merely starts with the role is still a name
        ("某区", "网格长", "网格长张三", "某区 · 网格长 · 网格长张三"),
    ],
)
def test_a_person_label_says_each_thing_once(grid: str, role: str, name: str, label: str) -> None:
    assert person_label(grid, role, name) == label


def test_the_grid_name_appears_once() -> None:
    label = person_label("林和东第1片区", "保安巡查员", "林和东第1片区·保安巡查员2")
    assert label.count("林和东第1片区") == 1
    assert label.count("保安巡查员") == 1
