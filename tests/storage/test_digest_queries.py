"""The digest's grouped queries (storage/digest.py) on SQLite, figures checked by hand.

fire-safety-5-level.yaml is imported; patrols, cases and events are inserted with exact
times around `NOW`, Thursday 2026-03-12 18:00 Shanghai (the day began 03-12 00:00 local,
the week Monday 03-09, the month 03-01). The number of statements does not depend on the
size of the tree: the same count for fire-safety (29 grids) and zijingshan (58 grids, 462
people).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import Translator
from bot.render.digest import DigestButtonData
from domain.digest import DoneCounts, windows_at
from domain.scenario import parse_scenario
from services.digest import compute, digest_of, render_all
from storage import digest as q
from storage.db import Database
from storage.importer import apply_import
from storage.models import Case, CaseEvent, Grid, Membership, Patrol, Person, Role
from tests.conftest import scenario_path

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 12, 18, 0, tzinfo=TZ)
WINDOWS = windows_at(NOW, TZ)

BUTTONS = DigestButtonData()


def local(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=TZ)


async def load(db: Database, name: str) -> Database:
    scenario = parse_scenario(scenario_path(name).read_text(encoding="utf-8"), source=name)
    async with db.session() as s:
        await apply_import(s, scenario, now=local(3, 1, 9))
    return db


@pytest.fixture
async def fire(db: Database) -> Database:
    return await load(db, "fire-safety-5-level.yaml")


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        sql = str(args[2])
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def grid_ids(s: AsyncSession) -> dict[str, int]:
    return {g.code: g.id for g in (await s.exec(select(Grid))).all() if g.id}


async def holder(s: AsyncSession, code: str, role: str) -> tuple[int, int, int]:
    """(person id, grid id, role id) of the first `role` member of grid `code`."""
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


def patrol(who: tuple[int, int, int], at: datetime, **kw: Any) -> Patrol:
    person, grid, role = who
    return Patrol(
        person_id=person,
        grid_id=grid,
        role_id=role,
        status="done",
        started_at=at,
        finished_at=at,
        counted=kw.pop("counted", True),
        **kw,
    )


def case(n: int, grid: int, reporter: int, status: str, **kw: Any) -> Case:
    return Case(
        code=f"D{n:03d}",
        grid_id=grid,
        origin_grid_id=grid,
        reporter_id=reporter,
        category="用电",
        description=kw.pop("description", f"隐患{n}"),
        severity=kw.pop("severity", "general"),
        status=status,
        created_at=kw.pop("created_at", local(3, 1, 9)),
        **kw,
    )


async def test_patrol_counts_per_person_grid_role_in_each_window(fire: Database) -> None:
    async with fire.session() as s:
        g1 = await holder(s, "LH-01-1", "guard")
        police = await holder(s, "LH-01", "police")
        s.add_all(
            [
                patrol(g1, local(3, 12, 8)),  # today
                patrol(g1, local(3, 11, 23, 59)),  # yesterday: this week, this month
                patrol(g1, local(3, 8, 10)),  # Sunday: last week, this month
                patrol(g1, local(2, 28, 10)),  # last month: not at all
                patrol(g1, local(3, 12, 9), counted=False),  # too soon: not counted
                patrol(g1, local(3, 12, 19)),  # after now: not yet
                patrol(police, local(3, 9, 0, 0)),  # Monday 00:00: this week
                patrol(police, local(3, 8, 23, 59)),  # Sunday night: last week
            ]
        )
    async with fire.reading() as s:
        done = await q.patrol_done(s, WINDOWS, NOW.astimezone(TZ))
        people, holdings, done2 = await q.members(s, WINDOWS, NOW)
    assert done[g1] == DoneCounts(day=1, week=2, month=3)
    assert done[police] == DoneCounts(day=0, week=1, month=2)
    assert len(done) == 2
    assert done2 == done  # the combined statement says the same
    assert len(people) == 49 and len({h.membership_id for h in holdings}) == len(holdings)
    async with fire.reading() as s:
        assert people == await q.people(s)
        assert holdings == await q.holdings(s)


async def test_case_figures_per_grid_and_severity(fire: Database) -> None:
    async with fire.session() as s:
        ids = await grid_ids(s)
        g = ids["LH-02-1"]
        reporter = (await holder(s, "LH-02-1", "guard"))[0]
        today, yesterday = local(3, 12, 10), local(3, 11, 10)
        s.add_all(
            [
                case(1, g, reporter, "reported", created_at=today),  # new
                case(2, g, reporter, "accepted", created_at=yesterday, accepted_at=today),
                case(  # accepted and closed today, on time
                    3,
                    g,
                    reporter,
                    "closed",
                    severity="major",
                    created_at=yesterday,
                    accepted_at=yesterday,
                    deadline_at=local(3, 13, 10),
                    closed_at=today,
                ),
                case(  # overdue since 17:00
                    4,
                    g,
                    reporter,
                    "in_progress",
                    created_at=local(3, 5, 10),
                    deadline_at=local(3, 12, 17),
                ),
                case(  # due tomorrow: not overdue
                    5,
                    g,
                    reporter,
                    "assigned",
                    created_at=local(3, 5, 10),
                    deadline_at=local(3, 13, 17),
                ),
                case(  # closed this month, late
                    6,
                    g,
                    reporter,
                    "rated",
                    created_at=local(3, 2, 10),
                    deadline_at=local(3, 4, 10),
                    closed_at=local(3, 6, 10),
                ),
                case(  # closed last month: not in this month's rate
                    7,
                    g,
                    reporter,
                    "closed",
                    created_at=local(2, 2, 10),
                    deadline_at=local(2, 4, 10),
                    closed_at=local(2, 3, 10),
                ),
                case(8, g, reporter, "feedback", created_at=local(3, 5, 10)),
                case(  # critical, open, overdue
                    9,
                    ids["ZJ-01-2"],
                    reporter,
                    "transferred",
                    severity="critical",
                    created_at=local(3, 10, 10),
                    deadline_at=local(3, 11, 10),
                    description="<燃气泄漏>",
                ),
                case(  # critical, closed: not named
                    10,
                    ids["ZJ-01-2"],
                    reporter,
                    "closed",
                    severity="重大",
                    created_at=local(3, 10, 10),
                    closed_at=local(3, 10, 20),
                ),
            ]
        )
        await s.flush()
        c4 = (await s.exec(select(Case).where(Case.code == "D004"))).one()
        s.add(
            CaseEvent(
                case_id=c4.id or 0,
                at=local(3, 12, 11),
                kind="escalated",
                status_after="accepted",
                grid_id=ids["LH-02"],
            )
        )
        s.add(
            CaseEvent(
                case_id=c4.id or 0,
                at=local(3, 11, 11),
                kind="escalated",
                status_after="accepted",
                grid_id=ids["LH-02"],
            )
        )
    async with fire.reading() as s:
        rows = {(r.grid_id, r.severity): r[2:] for r in await q.case_rows(s, WINDOWS["day"], NOW)}
        closure = await q.closure(s, WINDOWS["month"])
        open_cases = await q.open_cases(s)
        critical = await q.critical_cases(s, NOW)
    # (new, accepted, closed, overdue, escalated)
    assert rows == {
        (g, "general"): (1, 1, 0, 1, 0),
        (g, "major"): (0, 0, 1, 0, 0),
        (ids["LH-02"], "general"): (0, 0, 0, 0, 1),  # the event's grid, today only
        (ids["ZJ-01-2"], "critical"): (0, 0, 0, 1, 0),  # D009, transferred and overdue
    }
    assert closure == {g: (2, 1)}  # D003 on time, D006 late; D010 had no deadline
    assert open_cases == {
        (g, "reported"): 1,
        (g, "accepted"): 1,
        (g, "in_progress"): 1,
        (g, "assigned"): 1,
        (g, "feedback"): 1,
        (ids["ZJ-01-2"], "transferred"): 1,
    }
    assert [(c.code, c.grid_id, c.description, c.overdue) for c in critical] == [
        ("D009", ids["ZJ-01-2"], "<燃气泄漏>", True)
    ]

    # and through the digest: the district leader sees all of it
    t = Translator("zh").t
    async with fire.reading() as s:
        q_leader = (await s.exec(select(Person).where(Person.tg_id == 800000001))).one()
        assert q_leader.id is not None
        text = await digest_of(
            s, person_id=q_leader.id, now=NOW, tz=TZ, t=t, buttons=BUTTONS, lang="zh"
        )
    assert text is not None
    assert "今日新增 1，立案 1，结案 1，逐级上报 1；当前逾期 2" in text.text  # D004 and D009
    assert "D009 &lt;燃气泄漏&gt;（已逾期）" in text.text
    assert "【待我处理】暂无" in text.text  # nothing waits at the district itself


async def test_flagged_check_ins_today_per_grid(fire: Database) -> None:
    async with fire.session() as s:
        g1 = await holder(s, "LH-01-1", "guard")
        s.add_all(
            [
                patrol(g1, local(3, 12, 8), flags=["too_soon"], counted=False),
                patrol(g1, local(3, 12, 9), flags=["outside_geofence", "forwarded"]),
                patrol(g1, local(3, 12, 10)),  # clean
                patrol(g1, local(3, 11, 9), flags=["too_soon"]),  # yesterday
            ]
        )
    async with fire.reading() as s:
        assert await q.flagged_patrols(s, WINDOWS["day"]) == {g1[1]: 2}


async def test_subtree_restriction_by_path(fire: Database) -> None:
    async with fire.reading() as s:
        ids = await grid_ids(s)
        lh = (await s.exec(select(Grid).where(Grid.code == "LH-01"))).one()
        nodes = await q.grid_nodes(s, [lh.path])
        people, holdings, _ = await q.members(s, WINDOWS, NOW, [lh.path])
    # LH-01, its 2 片区 and their 3 楼院 each
    assert sorted(n.code for n in nodes) == sorted(
        ["LH-01", "LH-01-1", "LH-01-2"] + [f"LH-01-{a}-{b}" for a in (1, 2) for b in (1, 2, 3)]
    )
    assert {h.grid_id for h in holdings} <= {n.id for n in nodes}
    # 3 at LH-01, 3 per 片区, 1 per 楼院
    assert len(holdings) == 3 + 2 * 3 + 6 and len(people) == len(holdings)
    assert ids["LH-01"] == lh.id


async def _count_statements(db: Database) -> tuple[int, int, int]:
    t = Translator("zh").t
    async with db.reading() as s:
        with statements(db) as seen:
            computed = await compute(s, now=NOW, tz=TZ)
        n_all = len(seen)
        rendered = render_all(
            computed, t=t, buttons=BUTTONS, default_language="zh", day="2026-03-12"
        )
        root = (
            await s.exec(
                select(Person)
                .join(Membership, col(Membership.person_id) == col(Person.id))
                .join(Grid, col(Grid.id) == col(Membership.grid_id))
                .where(Grid.parent_id == None)  # noqa: E711
            )
        ).first()
        assert root is not None and root.id is not None
        with statements(db) as seen:
            await digest_of(s, person_id=root.id, now=NOW, tz=TZ, t=t, buttons=BUTTONS, lang="zh")
        return n_all, len(seen), len(rendered)


async def test_statements_do_not_grow_with_the_tree(
    fire: Database, new_db_url: Callable[[str], str]
) -> None:
    small = await _count_statements(fire)
    big_db = Database(new_db_url("big"))
    try:
        from storage.migrate import upgrade

        await upgrade(big_db)
        await load(big_db, "zijingshan-party-grid.yaml")
        big = await _count_statements(big_db)
    finally:
        await big_db.dispose()
    assert small[2] < big[2]  # more leaders, more digests...
    # ...the same statements (the 督办 flags: the case rules and the open cases' clocks among
    # them); /today in the same session: 2 more (paths, the transfers held for want of a
    # chat), less the deployment's row, which the session keeps once read (storage/db.py)
    assert small[:2] == big[:2] == (10, 11)


async def test_rendered_digests_are_one_per_leader(fire: Database) -> None:
    async with fire.session() as s:
        for tg in (800000001, 800000002):  # 区长 and 副区长 both lead Q
            p = (await s.exec(select(Person).where(Person.tg_id == tg))).one()
            assert p.id
    t = Translator("zh").t
    async with fire.reading() as s:
        computed = await compute(s, now=NOW, tz=TZ)
    rendered = render_all(computed, t=t, buttons=BUTTONS, default_language="zh", day="2026-03-12")
    leaders = {h.person_id for h in computed.snapshot.holdings if h.is_leader}
    assert sorted(pid for pid, _ in rendered) == sorted(leaders)
    first_lines = {r.text.splitlines()[0] for _, r in rendered}
    assert "📋 <b>2026-03-12 日报</b> · 某区" in first_lines
