"""督办 counts per grid in the database (`storage.case_rules.flags_per_grid`, what the digest
reads; `flags_per_assignee`, per grid × assignee, what /stats reads) against the rule itself
(`domain.case_rules.flags_by` over `open_clocks`): the same answer, case by case, to the
microsecond on both sides of each yellow and red point.

`NOW` is 2026-03-12 18:00 Shanghai; 一般 cases have 24 hours to be accepted (yellow from
19.2 hours on), critical ones 2 hours to be acknowledged (yellow from 96 minutes).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from domain.case_rules import CaseRules, Flags, flags_by
from storage.case_rules import (
    case_rules,
    flags_per_assignee,
    flags_per_grid,
    open_clocks,
    save_case_rules,
)
from storage.db import Database
from storage.digest import supervised
from storage.models import Case, CaseEvent, Grid
from tests.storage.test_digest_queries import NOW, case, holder, load

US = timedelta(microseconds=1)
RULES = CaseRules(limits={"general": {"accept": 24}, "critical": {"acknowledge": 2}})


@pytest.fixture
async def fire(db: Database) -> Database:
    return await load(db, "fire-safety-5-level.yaml")


async def test_counts_per_grid_are_the_rule_s_own_at_every_edge(fire: Database) -> None:
    async with fire.session() as s:
        reporter, g1, _ = await holder(s, "LH-01-1", "guard")
        _, g2, _ = await holder(s, "LH-02-1", "guard")
        day = timedelta(hours=24)
        yellow_at = timedelta(hours=19, minutes=12)
        rows = [
            # 受理 (24 h): just green, just yellow, the limit itself (yellow), just red
            (g1, "reported", "general", NOW - yellow_at + US, None, None),
            (g1, "reported", "general", NOW - yellow_at, None, None),
            (g1, "reported", "general", NOW - day, None, None),
            (g2, "reported", "general", NOW - day - US, None, None),
            # 签收 of a 重大 case (2 h), started by the latest assignment in the ledger, not by
            # its older assigned_at (which alone would make it red)
            (g2, "assigned", "critical", NOW - day, NOW - timedelta(minutes=96), None),
            (g2, "assigned", "critical", NOW - day, NOW - timedelta(minutes=96) + US, None),
            # 整改 against the case's deadline: at the deadline (yellow), just past it (red),
            # 80 % of the way (yellow), just before it (green)
            (g1, "in_progress", "general", NOW - day, None, NOW),
            (g1, "in_progress", "general", NOW - day, None, NOW - US),
            (g2, "in_progress", "general", NOW - 4 * day, None, NOW + day),
            (g2, "in_progress", "general", NOW - 4 * day, None, NOW + day + US),
            # a severity the rules know no limit for, a status under no clock
            (g1, "feedback", "重大", NOW - 9 * day, None, None),
            (g1, "accepted", "general", NOW - 9 * day, None, None),
        ]
        for n, (grid, status, severity, at, event_at, deadline) in enumerate(rows, start=1):
            c = case(n, grid, reporter, status, severity=severity, created_at=at)
            c.assigned_at = at if status not in ("reported", "accepted") else None
            c.deadline_at = deadline
            c.assignee_person_id = reporter if n % 3 == 0 else None  # /stats counts per person
            s.add(c)
            await s.flush()
            if event_at is not None:
                s.add(
                    CaseEvent(
                        case_id=c.id or 0, kind="assigned", status_after=status, grid_id=grid,
                        at=event_at,
                    )
                )  # fmt: skip
        await save_case_rules(s, RULES)
    async with fire.reading() as s:
        rules = await case_rules(s)
        clocks = await open_clocks(s)
        lh02 = (await s.exec(select(Grid.path).where(Grid.code == "LH-02"))).one()
        for at in (NOW, NOW - US, NOW + US, NOW - timedelta(hours=5), NOW + timedelta(days=2)):
            expected = flags_by(((c.grid_id, c.clock) for c in clocks), rules, at)
            assert await flags_per_grid(s, rules, at) == expected
            per_person = flags_by(
                (((c.grid_id, c.assignee_person_id), c.clock) for c in clocks), rules, at
            )
            assert await flags_per_assignee(s, rules, at) == per_person
            under = {g: f for g, f in expected.items() if g == g2}
            assert await flags_per_grid(s, rules, at, paths=[lh02]) == under
        assert await flags_per_grid(s, rules, NOW) == {
            g1: Flags(yellow=3, red=1),
            g2: Flags(yellow=2, red=1),
        }
        assert await supervised(s, NOW) == {g1: (3, 1), g2: (2, 1)}
        assert await flags_per_assignee(s, rules, NOW) == {
            (g1, None): Flags(yellow=2, red=1),
            (g1, reporter): Flags(yellow=1),
            (g2, None): Flags(yellow=1, red=1),
            (g2, reporter): Flags(yellow=1),
        }
        assert await flags_per_grid(s, rules, NOW, paths=[]) == {}
        ids = (await s.exec(select(col(Case.id)))).all()
    assert len(ids) == len(rows)
