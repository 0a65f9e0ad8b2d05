"""A report's submit reads its grid with its code (storage.case_codes.next_case_code_in) and
its leaders with its first ledger step (storage.event_leaders): the same rows and the same
pushes, texts and buttons as the reads they replaced (a get of the grid, the code, the step,
then the leaders' query), which still serve as the reference here, two statements fewer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from bot.render.cases import CaseRender
from domain.identity import Identity
from domain.scenario import parse_scenario
from services import case_rules as rules_svc
from services import reporting
from services.reporting import Draft
from storage import cases as q
from storage.db import Database
from storage.importer import apply_import
from storage.migrate import upgrade
from storage.models import Case, CaseEvent, Grid
from tests.conftest import scenario_path
from tests.storage.case_world import GUARD, NOW, PIANQU_LEADER, fire, grid_id, who
from tests.unit.test_case_deadline_and_card import _render

__all__ = ["fire"]

TABLES = ("case", "case_event", "case_counter", "delivery")


async def _old_code_and_grid(session: Any, *, day: str, grid_id: int) -> tuple[str, Grid] | None:
    grid = await session.get(Grid, grid_id)
    if grid is None or grid.archived_at is not None:
        return None
    return await q.next_case_code(session, day=day), grid


async def _old_step(session: Any, *, grid_ids: Any, **step: Any) -> tuple[CaseEvent, None]:
    return await q.append_event(session, **step), None


async def _fire_too(url: str) -> Database:
    db = Database(url)
    await upgrade(db)
    scenario = parse_scenario(
        scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"), source="fire"
    )
    async with db.session() as s:
        await apply_import(s, scenario, now=NOW)
    return db


async def _submit(db: Database, reporter: int, drafts: list[dict[str, Any]]) -> list[int]:
    """Each draft submitted in a unit of work of its own; how many statements each took that
    read the grids or the memberships."""
    counts: list[int] = []
    texts: CaseRender = _render()
    for values in drafts:
        seen: list[str] = []

        def count(*args: Any, seen: list[str] = seen) -> None:
            if args[2].startswith(("SELECT grid.", "SELECT membership.")):
                seen.append(args[2])

        async with db.session() as s:
            me: Identity = await who(s, reporter)
            draft = Draft(grid_id=await grid_id(s, "LH-01-1"), **values)
            cfg = await rules_svc.load_config(s)
            event.listen(db.engine.sync_engine, "before_cursor_execute", count)
            try:
                case = await reporting.submit(
                    s, reporter=me, draft=draft, now=NOW, texts=texts, cfg=cfg
                )
            finally:
                event.remove(db.engine.sync_engine, "before_cursor_execute", count)
            assert isinstance(case, Case)
        counts.append(len(seen))
    return counts


async def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    async with db.reading() as s:
        return {
            t: [tuple(r) for r in await s.execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))]
            for t in TABLES
        }


DRAFTS: list[dict[str, Any]] = [
    {
        "category": "火灾隐患",
        "description": "配电箱电线老化",
        "photos": ["p1", "p2"],
        "lat": 23.1291,
        "lon": 113.2644,
        "severity": "general",
    },
    # 重大: every leader up to the root gets the card, urgently.
    {
        "category": "燃气隐患",
        "description": "燃气管道 <漏气> & 异味",
        "address": "某路1号",
        "severity": "critical",
    },
    {
        "category": "火灾隐患",
        "description": "又一处",
        "lat": 23.1,
        "lon": 113.2,
        "severity": "major",
    },
]


@pytest.mark.parametrize("reporter", [GUARD, PIANQU_LEADER])
async def test_a_submit_writes_the_rows_the_separate_reads_wrote(
    fire: Database,
    new_db_url: Any,
    monkeypatch: pytest.MonkeyPatch,
    reporter: int,
) -> None:
    reference = await _fire_too(new_db_url("reference"))
    try:
        counts = await _submit(fire, reporter, DRAFTS)
        with monkeypatch.context() as m:
            m.setattr(reporting, "next_case_code_in", _old_code_and_grid)
            m.setattr(reporting, "append_event_with_leaders", _old_step)
            old_counts = await _submit(reference, reporter, DRAFTS)
        ours, theirs = await _rows(fire), await _rows(reference)
    finally:
        await reference.dispose()
    assert ours == theirs
    assert len(ours["delivery"]) > len(DRAFTS)  # cards went out, to several leaders
    # The grid's get and the leaders' query (two for an urgent case: its grid's leaders for
    # the hand-off, every leader up to the root for the card) are no statements of their own.
    assert counts == [0, 0, 0] and old_counts == [2, 3, 2]
