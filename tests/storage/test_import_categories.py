"""Hazard categories belong to the deployment: the importer stores a file's `categories:`
(or its checklist's), a re-import changes nothing, an edit is listed and applied, and a bad
list is refused with its line."""

from __future__ import annotations

import pytest

from domain.categories import Category, from_stored
from domain.scenario import ScenarioError, parse_scenario
from services import reporting
from storage.db import Database
from storage.models import Deployment
from tests.conftest import scenario_path
from tests.storage.test_import import load
from tests.unit.test_scenario_parse import MINI

CATEGORIES = """\
categories:
  - {key: exit, label: 消防通道堵塞, en: Blocked fire exit, checklist: 安全疏散}
  - {key: power, label: 用电隐患, en: Electrical hazard, checklist: 用电}
  - {key: water, label: 违法用水, en: Illegal water use}
"""


def with_categories(text: str = CATEGORIES) -> str:
    return MINI.replace("severities:\n", text + "severities:\n")


async def stored(db: Database) -> tuple[Category, ...]:
    async with db.reading() as session:
        d = await session.get(Deployment, 1)
        assert d is not None
        return from_stored(d.categories)


async def test_a_file_without_categories_gets_those_of_its_checklist(db: Database) -> None:
    fire = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    await load(db, fire)
    labels = [c.label for c in await stored(db)]
    assert labels == [
        "消防通道堵塞",
        "消防设施损坏",
        "灭火器具缺失失效",
        "火灾隐患",
        "用电隐患",
        "燃气隐患",
        "油品隐患",
        "其他",
    ]
    assert "违法用水" not in labels and "市场秩序" not in labels
    async with db.reading() as session:
        offered = await reporting.categories(session)
    assert {c.checklist for c in offered} >= {"安全疏散", "用电", "用气", "用油"}
    assert all(c.en and c.en != c.label for c in offered)


async def test_a_files_categories_are_stored_and_reimporting_changes_nothing(
    db: Database,
) -> None:
    await load(db, with_categories())
    assert await stored(db) == (
        Category("exit", "消防通道堵塞", "Blocked fire exit", "安全疏散"),
        Category("power", "用电隐患", "Electrical hazard", "用电"),
        Category("water", "违法用水", "Illegal water use", None),
    )
    again = await load(db, with_categories())
    assert not any(line.startswith("setting categories") for line in again)

    edited = CATEGORIES.replace("en: Illegal water use", "en: Unlawful water use")
    lines = await load(db, with_categories(edited))
    changed = [line for line in lines if line.startswith("setting categories")]
    assert len(changed) == 1 and "Unlawful water use" in changed[0]
    assert (await stored(db))[2].en == "Unlawful water use"


async def test_categories_stored_as_bare_labels_are_still_read(db: Database) -> None:
    await load(db, MINI)
    async with db.session() as session:
        d = await session.get(Deployment, 1)
        assert d is not None
        d.categories = ["火灾隐患", "其他"]  # as imports before deployment categories kept them
        session.add(d)
    async with db.reading() as session:
        offered = await reporting.categories(session)
    assert [(c.label, c.en) for c in offered] == [("火灾隐患", "火灾隐患"), ("其他", "其他")]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("  - {key: leak, label: 漏水, en: Leak, checklist: 用水}\n", "is no checklist item"),
        ("  - {key: exit, label: 通道二, en: Exit 2}\n", "duplicate category key 'exit'"),
        ("  - {key: more, label: 消防通道堵塞, en: Again}\n", "duplicate category label"),
        ("  - {key: more, label: 更多}\n", "missing required key 'en'"),
        ("  - {key: more, label: 更多, en: More, checklist: 安全疏散}\n", "linked to two"),
    ],
)
def test_a_bad_category_list_is_refused_with_its_line(bad: str, message: str) -> None:
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(with_categories(CATEGORIES + bad))
    assert message in str(refused.value)
    assert ":13:" in str(refused.value)  # the bad entry's line
