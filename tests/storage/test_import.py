"""Importing scenario files into a real SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from domain.scenario import ScenarioError, parse_scenario
from storage.db import Database
from storage.importer import apply_import
from storage.models import AuditEntry, Deployment, Grid, Membership, Person
from tests.conftest import scenario_path

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


async def load(db: Database, text: str, source: str = "test.yaml") -> list[str]:
    scenario = parse_scenario(text, source=source)
    async with db.session() as session:
        result = await apply_import(session, scenario, now=NOW)
    return result.changes.summary_lines()


async def count(db: Database, model: type) -> int:
    async with db.reading() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


@pytest.mark.parametrize(
    ("name", "grids", "people"),
    [("fire-safety-5-level.yaml", 29, 49), ("zijingshan-party-grid.yaml", 58, 462)],
)
async def test_shared_scenarios_give_the_stated_totals(
    db: Database, name: str, grids: int, people: int
) -> None:
    await load(db, scenario_path(name).read_text(encoding="utf-8"), name)
    assert await count(db, Grid) == grids
    assert await count(db, Person) == people
    assert await count(db, Membership) == people  # every person holds one role in these files


async def test_tree_paths_and_levels(db: Database) -> None:
    await load(db, scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"))
    async with db.reading() as session:
        grids = {g.code: g for g in (await session.exec(select(Grid))).all()}
    leaf = grids["LH-01-2-3"]
    assert leaf.name == "林和东第2片区3号楼院"
    assert leaf.level == 5 and leaf.level_label == "楼院"
    chain = [grids[c].id for c in ("Q", "LH", "LH-01", "LH-01-2", "LH-01-2-3")]
    assert leaf.ancestor_ids() == chain
    under_lh = [g for g in grids.values() if g.path.startswith(grids["LH"].path)]
    assert len(under_lh) == 1 + 2 + 4 + 10


async def test_reimport_changes_nothing(db: Database) -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    await load(db, text)
    audits_before = await count(db, AuditEntry)
    lines = await load(db, text)
    assert lines == ["no changes"]
    assert await count(db, AuditEntry) == audits_before


async def test_edited_file_applies_the_difference(db: Database) -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    await load(db, text)
    edited = (
        text.replace("name: 珠玑街道\n", "name: 珠玑街道办事处\n")
        .replace('digest: "18:00"', 'digest: "19:30"')
        .replace(
            "          - {name: 林和安监员, tg_id: 800000011, role: street_officer}",
            "          - {name: 林和安监员, tg_id: 800000011, role: street_officer}\n"
            "          - {name: 新安监员, tg_id: 800000099, role: street_officer}",
        )
    )
    # the second street loses its only community's third block
    edited = edited.replace(
        'count: 3\n              code: "ZJ-01-{n}"', 'count: 2\n              code: "ZJ-01-{n}"'
    )
    lines = await load(db, edited)
    text_out = "\n".join(lines)
    assert "ZJ" in text_out and "珠玑街道办事处" in text_out
    assert "19:30" in text_out
    assert "新安监员" in text_out
    async with db.reading() as session:
        zj = (await session.exec(select(Grid).where(Grid.code == "ZJ"))).one()
        assert zj.name == "珠玑街道办事处"
        gone = (await session.exec(select(Grid).where(Grid.code == "ZJ-01-3"))).one()
        assert gone.archived_at is not None
        gone_child = (await session.exec(select(Grid).where(Grid.code == "ZJ-01-3-1"))).one()
        assert gone_child.archived_at is not None
        deployment = await session.get(Deployment, 1)
        assert deployment is not None and deployment.digest_time == "19:30"
        new = (await session.exec(select(Person).where(Person.tg_id == 800000099))).one()
        assert new.name == "新安监员"
    # and loading the edited file again is a no-op
    assert await load(db, edited) == ["no changes"]


async def test_bad_file_is_refused_whole(db: Database, tmp_path: Path) -> None:
    text = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    await load(db, text)
    grids_before, people_before = await count(db, Grid), await count(db, Person)
    broken = text.replace("role: police}", "role: policeman}", 1)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(broken, source="broken.yaml")
    assert caught.value.line is not None
    assert "policeman" in str(caught.value)
    assert await count(db, Grid) == grids_before
    assert await count(db, Person) == people_before


async def test_cli_import_prints_a_summary(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from bot.commands_cli import cmd_import
    from bot.settings import load_settings

    settings = load_settings(database_url=db_url)
    args = argparse.Namespace(file=scenario_path("fire-safety-5-level.yaml"), dry_run=False)
    assert await cmd_import(settings, args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (
        "imported fire-safety-5-level.yaml: 29 grids, 49 people, 49 memberships, 4 departments"
    )
