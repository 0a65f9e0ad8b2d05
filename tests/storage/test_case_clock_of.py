"""A case's 督办 clock worked out from its ledger in hand (`storage.case_rules.clock_of`, what
a just-reported case's card reads) is the one `open_clocks` reads back from the database:
case by case, for every status, with and without the stage's entries in the ledger, with
times given in Shanghai time (the database gives them back in UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from storage.case_rules import clock_of, open_clocks
from storage.cases import events_of
from storage.db import Database
from storage.models import Case, CaseEvent
from tests.storage.test_digest_queries import NOW, case, holder, load

H = timedelta(hours=1)


@pytest.fixture
async def fire(db: Database) -> Database:
    return await load(db, "fire-safety-5-level.yaml")


async def test_the_clock_of_a_ledger_in_hand_is_the_one_read_back(fire: Database) -> None:
    # status, assigned_at, accepted_at, the ledger's (kind, at) entries
    rows: list[tuple[str, datetime | None, datetime | None, list[tuple[str, datetime]]]] = [
        ("reported", None, None, [("reported", NOW - 5 * H)]),
        ("reported", None, None, [("reported", NOW - 5 * H), ("escalated", NOW - 2 * H)]),
        ("reported", None, None, []),
        ("accepted", None, NOW - 3 * H, [("reported", NOW - 5 * H), ("accepted", NOW - 3 * H)]),
        ("assigned", NOW - 4 * H, NOW - 4 * H, [("reported", NOW - 9 * H)]),
        ("assigned", NOW - 4 * H, None, [("assigned", NOW - 3 * H), ("reassigned", NOW - H)]),
        ("transferred", None, NOW - 2 * H, [("transferred", NOW - 2 * H + timedelta(0, 0, 1))]),
        ("in_progress", NOW - 6 * H, None, [("assigned", NOW - 6 * H), ("reopened", NOW - H)]),
        ("feedback", NOW - 6 * H, None, [("feedback_given", NOW - H), ("commented", NOW)]),
        ("feedback", None, None, []),
        ("closed", NOW - 6 * H, None, [("verified", NOW - H)]),
    ]
    async with fire.session() as s:
        reporter, grid, _ = await holder(s, "LH-01-1", "guard")
        made: list[Case] = []
        for n, (status, assigned, accepted, ledger) in enumerate(rows, start=1):
            c = case(n, grid, reporter, status, created_at=NOW - 10 * H, deadline_at=NOW + H)
            c.assigned_at, c.accepted_at = assigned, accepted
            s.add(c)
            await s.flush()
            for kind, at in ledger:
                s.add(
                    CaseEvent(
                        case_id=c.id or 0, kind=kind, status_after=status, grid_id=grid, at=at
                    )
                )  # fmt: skip
            await s.flush()
            made.append(c)
    async with fire.reading() as s:
        for c in made:
            assert c.id is not None
            read = await open_clocks(s, case_id=c.id)
            worked_out = clock_of(c, await events_of(s, c.id))
            assert worked_out == (read[0].clock if read else None), c.status
