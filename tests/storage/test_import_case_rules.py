"""The scenario's ``cases:`` block goes into the database with the import's settings: stored,
read back by everything that uses the rules, unchanged by a re-import, an edit listed and
applied, and its removal back to the defaults (listed too)."""

from __future__ import annotations

from domain.case_rules import CaseRules, Route, Stage
from storage.case_rules import case_rules
from storage.db import Database
from tests.conftest import scenario_path
from tests.storage.test_import import load

FIRE = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
BLOCK = """cases:
  reopen_days: 10
  limits: {重大: {accept: 1}}
  routes:
    - {category: 燃气隐患, department: PCS-LH}
"""


def with_block(block: str = BLOCK) -> str:
    return FIRE.replace("departments:\n", block + "departments:\n", 1)


async def rules(db: Database) -> CaseRules:
    async with db.reading() as session:
        return await case_rules(session)


async def test_the_block_is_stored_reimported_edited_and_removed(db: Database) -> None:
    await load(db, FIRE)
    assert await rules(db) == CaseRules()

    lines = await load(db, with_block())
    assert "setting cases.reopen_days: 30 → 10" in lines
    stored = await rules(db)
    assert stored.reopen_days == 10 and stored.limit_hours("critical", Stage.ACCEPT) == 1
    assert stored.routes == (Route(category="燃气隐患", department="PCS-LH"),)

    again = await load(db, with_block())
    assert not any(line.startswith("setting cases") for line in again)

    lines = await load(db, with_block(BLOCK.replace("reopen_days: 10", "reopen_days: 20")))
    assert [line for line in lines if line.startswith("setting cases")] == [
        "setting cases.reopen_days: 10 → 20"
    ]
    lines = await load(db, FIRE)
    assert "setting cases.reopen_days: 20 → 30" in lines
    assert any(line.startswith("setting cases.routes") for line in lines)
    assert await rules(db) == CaseRules()
