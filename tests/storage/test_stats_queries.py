"""The scoreboard's grouped queries (storage/stats.py) on a real SQLite file.

fire-safety-5-level.yaml is imported; cases with every outcome of the unit tests are put in
LH-01-1 (a 片区 under 林和东社区) and a few in ZJ-01; the SQL sums must equal
`domain.stats.tally_case` case by case, and the scoreboard stays a handful of statements.
Read at 2026-03-20 12:00 Shanghai, for March.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.scenario import parse_scenario
from domain.stats import CaseRecord, CaseTally, PatrolTally, StatsPeriod, stats_span, tally_case
from services.stats import scoreboard_of, stats_of
from storage import stats as q
from storage.db import Database
from storage.importer import apply_import
from storage.models import Case, CaseEvent, Grid, Membership, Patrol, Role
from tests.conftest import scenario_path

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=TZ)
MARCH = stats_span(StatsPeriod.MONTH, NOW, TZ)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TZ)


@pytest.fixture
async def fire(db: Database) -> Database:
    scenario = parse_scenario(
        scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8"), source="fire"
    )
    async with db.session() as s:
        await apply_import(s, scenario, now=at(3, 1))
    return db


@contextmanager
def selects(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):
            seen.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def holder(s: AsyncSession, code: str, role: str) -> tuple[int, int, int]:
    row = (
        await s.exec(
            select(Membership.person_id, Membership.grid_id, Membership.role_id)
            .join(Grid, col(Grid.id) == col(Membership.grid_id))
            .join(Role, col(Role.id) == col(Membership.role_id))
            .where(Grid.code == code, Role.key == role)
            .order_by(col(Membership.id))
        )
    ).first()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def a_case(n: int, grid: int, person: int, status: str, **kw: Any) -> Case:
    return Case(
        code=f"S{n:03d}",
        grid_id=grid,
        origin_grid_id=grid,
        reporter_id=person,
        category="用电",
        description=f"隐患{n}",
        severity="general",
        status=status,
        created_at=kw.pop("created_at", at(3, 1)),
        assignee_person_id=kw.pop("assignee", person),
        **kw,
    )


async def seed(db: Database) -> dict[str, int]:
    async with db.session() as s:
        guard = await holder(s, "LH-01-1", "guard")
        police = await holder(s, "ZJ-01", "police")
        g, zj = guard[1], police[1]
        p = guard[0]
        cases = [
            a_case(
                1,
                g,
                p,
                "rated",
                accepted_at=at(3, 2),
                deadline_at=at(3, 5),
                closed_at=at(3, 4),
                rating="good",
            ),
            a_case(
                2,
                g,
                p,
                "rated",
                accepted_at=at(3, 3),
                deadline_at=at(3, 6),
                closed_at=at(3, 8),
                rework_count=1,
                rating="poor",
            ),
            a_case(
                3, g, p, "closed", accepted_at=at(3, 5), deadline_at=at(3, 15), closed_at=at(3, 12)
            ),
            a_case(
                4, g, p, "in_progress", accepted_at=at(3, 10), deadline_at=at(3, 13), rework_count=1
            ),
            a_case(5, g, p, "assigned", accepted_at=at(3, 18), deadline_at=at(3, 25)),
            a_case(6, g, p, "in_progress", accepted_at=at(2, 20), deadline_at=at(2, 27)),
            a_case(
                7,
                g,
                p,
                "rated",
                accepted_at=at(2, 10),
                deadline_at=at(2, 17),
                closed_at=at(3, 1),
                rating="good",
            ),
            a_case(8, g, p, "reported", assignee=None),
            a_case(9, g, p, "rejected", assignee=None),
            a_case(
                10,
                zj,
                police[0],
                "closed",
                accepted_at=at(3, 1),
                deadline_at=at(3, 9),
                closed_at=at(3, 2),
            ),
        ]
        s.add_all(cases)
        await s.flush()
        extended = cases[2]
        s.add(
            CaseEvent(
                case_id=extended.id or 0,
                kind="extension_approved",
                status_after="in_progress",
                grid_id=g,
                at=at(3, 9),
            )
        )
        # Case 4 (in March's cohort) was reopened twice, case 7 (February's) once.
        s.add_all(
            CaseEvent(
                case_id=cases[i].id or 0,
                kind="reopened",
                status_after="in_progress",
                grid_id=g,
                at=at(3, d),
            )
            for i, d in ((3, 11), (3, 12), (6, 2))
        )
        s.add_all(
            [
                Patrol(
                    person_id=p,
                    grid_id=g,
                    role_id=guard[2],
                    status="done",
                    started_at=at(3, d),
                    counted=True,
                )
                for d in (1, 2, 2, 5)
            ]
            + [
                Patrol(
                    person_id=p,
                    grid_id=g,
                    role_id=guard[2],
                    status="done",
                    started_at=at(3, 3),
                    counted=False,
                ),
                Patrol(
                    person_id=p,
                    grid_id=g,
                    role_id=guard[2],
                    status="done",
                    started_at=at(2, 28),
                    counted=True,
                ),
            ]
        )
        return {"guard": p, "grid": g, "zj": zj}


async def test_sql_tallies_equal_the_domain_case_by_case(fire: Database) -> None:
    ids = await seed(fire)
    async with fire.reading() as s:
        root = (await s.exec(select(Grid).where(Grid.code == "Q"))).one()
        tallies = await q.case_tallies(s, root.path, MARCH, NOW)
        rows = (await s.exec(select(Case))).all()
        kinds = (await s.exec(select(CaseEvent.case_id, CaseEvent.kind))).all()
    extended = {c for c, k in kinds if k == "extension_approved"}
    reopens = Counter(c for c, k in kinds if k == "reopened")
    expected: dict[tuple[int, int | None], CaseTally] = {}
    for c in rows:
        record = CaseRecord(
            c.status,
            c.accepted_at,
            c.closed_at,
            c.deadline_at,
            c.rework_count,
            c.rating,
            c.id in extended,
            reopens[c.id or 0],
        )
        key = (c.grid_id, c.assignee_person_id)
        expected[key] = expected.get(key, CaseTally()) + tally_case(record, MARCH, NOW)
    assert {k: v for k, v in expected.items() if v != CaseTally()} == tallies
    # and the figures counted by hand in tests/unit/test_stats.py
    assert tallies[(ids["grid"], ids["guard"])] == CaseTally(
        accepted=5,
        closed=3,
        extended=1,
        on_time=1,
        checked=4,
        reworked=2,
        rated=2,
        rating_points=5,
        open=3,
        overdue=2,
        reopens=2,
    )
    assert tallies[(ids["grid"], None)] == CaseTally(open=1)


async def test_scoreboard_of_a_street_and_its_trend(fire: Database) -> None:
    ids = await seed(fire)
    async with fire.reading() as s:
        lh = (await s.exec(select(Grid).where(Grid.code == "LH"))).one()
        with selects(fire) as seen:
            report = await stats_of(s, lh, MARCH, now=NOW, tz=TZ)
    # grids, memberships, patrols, cases, the 督办's two (the rules, the open cases' clocks)
    # and the trend's two: whatever the tree's size
    assert len(seen) == 8
    board = report.board
    lh01, lh02 = board.children
    assert (lh01.code, lh02.code) == ("LH-01", "LH-02")
    assert lh01.cases.accepted == 5 and lh01.cases.open == 4
    assert lh02.cases == CaseTally()
    assert lh01.patrols.done == 4  # counted March patrols of the guard in LH-01-1
    # LH-01: 林和东专管员 1/month, 林和东民警 1/week (4 in March), 4 guards daily (31 each)
    assert lh01.patrols.target == 1 + 4 + 4 * 31
    assert lh01.figures.on_time == pytest.approx(0.25)
    assert board.total.cases.accepted == 5  # ZJ-01's case is another street's
    guard = next(p for p in board.people if p.key == ids["guard"])
    assert guard.patrols == PatrolTally(done=4, target=31)
    assert guard.cases.closed == 3
    assert [r.code for r in board.ranking] == ["LH-01", "LH-02"]
    # the trend stops at today (the 20th): patrols on the 1st, 2nd (two) and 5th
    assert len(report.trend.labels) == 20 and report.trend.labels[0] == "01"
    assert report.trend.patrols[:5] == [1, 2, 0, 0, 1] and sum(report.trend.patrols) == 4
    # closed on the 1st (S007), 4th (S001), 8th (S002) and 12th (S003)
    assert [i + 1 for i, n in enumerate(report.trend.closed) if n] == [1, 4, 8, 12]


async def test_another_street_sees_none_of_it(fire: Database) -> None:
    await seed(fire)
    async with fire.reading() as s:
        zj = (await s.exec(select(Grid).where(Grid.code == "ZJ"))).one()
        board = await scoreboard_of(s, zj, MARCH, now=NOW, tz=TZ)
    assert board.total.cases == CaseTally(accepted=1, closed=1, on_time=1, checked=1)
    assert board.total.patrols.done == 0


async def test_supervision_flags_of_the_open_cases(fire: Database) -> None:
    """督办 at 03-20 12:00, 一般 limits (受理 24 h, 签收 24 h): S004 and S006 are past their
    deadlines (red), S008 was reported on 03-01 and never accepted (red), S005 was assigned
    at 03-19 16:00 and has used 20 of its 24 hours to acknowledge (83 %: yellow)."""
    ids = await seed(fire)
    async with fire.session() as s:
        s005 = (await s.exec(select(Case).where(Case.code == "S005"))).one()
        s005.assigned_at = datetime(2026, 3, 19, 16, tzinfo=TZ)
        s.add(
            CaseEvent(
                case_id=s005.id or 0,
                kind="assigned",
                status_after="assigned",
                grid_id=s005.grid_id,
                at=datetime(2026, 3, 19, 16, tzinfo=TZ),
            )
        )
    async with fire.reading() as s:
        lh = (await s.exec(select(Grid).where(Grid.code == "LH"))).one()
        board = await scoreboard_of(s, lh, MARCH, now=NOW, tz=TZ)
    lh01 = board.children[0]
    assert (lh01.cases.yellow, lh01.cases.red) == (1, 3)
    assert (board.total.cases.yellow, board.total.cases.red) == (1, 3)
    guard = next(p for p in board.people if p.key == ids["guard"])
    assert (guard.cases.yellow, guard.cases.red) == (1, 2)  # S008 is nobody's yet
    # Four hours earlier S005 had used 16 of 24 hours (67 %): green.
    async with fire.reading() as s:
        earlier = await scoreboard_of(s, lh, MARCH, now=datetime(2026, 3, 20, 8, tzinfo=TZ), tz=TZ)
    assert (earlier.total.cases.yellow, earlier.total.cases.red) == (0, 3)
