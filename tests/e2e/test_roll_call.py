"""Group roll call (opt-in per grid): at the nag time the grid's group gets one message naming
the laggards (mentions) and the overdue cases; grids that did not opt in get nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from scheduler import jobs
from storage.models import Case, Grid, Patrol, Person, Role
from tests.e2e.harness import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
GUARD_1, GUARD_2 = 810000001, 810000002  # the two guards of LH-01-1 (林和东第1片区)


async def test_roll_call_names_laggards_and_overdue_cases_once(world: World) -> None:
    emu, app = world.emu, world.app
    assert app is not None
    # Everyone has opened the bot: their nags reach them, so the groups carry only the roll
    # call (asking people who never did is test_telegram_strict.py's).
    world.everyone_opened_the_bot()
    group = emu.create_group("林和东第1片区网格群", members=[810000000, GUARD_1, GUARD_2])
    quiet_group = emu.create_group("林和东第2片区网格群", members=[810000003])
    monday_0930 = datetime(2026, 3, 9, 9, 30, tzinfo=SHANGHAI)
    async with world.db.session() as s:
        grids = {g.code: g for g in (await s.exec(select(Grid))).all()}
        block, other = grids["LH-01-1"], grids["LH-01-2"]
        block.roll_call, block.group_chat_id = True, group.id
        other.group_chat_id = quiet_group.id  # bound, but not opted in
        s.add_all([block, other])
        guard_role = (await s.exec(select(Role).where(Role.key == "guard"))).one()
        g1 = (await s.exec(select(Person).where(Person.tg_id == GUARD_1))).one()
        assert block.id and g1.id and guard_role.id
        # Guard 1 patrolled this morning; guard 2 did not, so only guard 2 is named.
        s.add(
            Patrol(
                person_id=g1.id,
                grid_id=block.id,
                role_id=guard_role.id,
                kind="quick",
                status="finished",
                started_at=monday_0930 - timedelta(hours=2),
                finished_at=monday_0930 - timedelta(hours=2),
                lat=23.13,
                lon=113.26,
                counted=True,
            )
        )
        reporter = (await s.exec(select(Person).where(Person.tg_id == 810000000))).one()
        assert reporter.id
        s.add(
            Case(
                code="H260301-007",
                grid_id=block.id,
                origin_grid_id=block.id,
                reporter_id=reporter.id,
                category="用电隐患",
                description="配电箱裸露",
                severity="general",
                status="in_progress",
                assignee_person_id=g1.id,
                created_at=datetime(2026, 3, 1, 1, 0, tzinfo=UTC),
                deadline_at=datetime(2026, 3, 5, 10, 0, tzinfo=UTC),
            )
        )
    world.at(monday_0930)
    await jobs.nag_now(app)

    in_group = world.user(810000000).in_group(group)
    call = await in_group.expect_once(contains="今日点名", timeout=10)
    assert "林和东第1片区" in call.text and "2026-03-09" in call.text
    assert "林和东第1片区·保安巡查员2" in call.text
    assert "林和东第1片区·保安巡查员1" not in call.text
    mentions = {e["user"]["id"] for e in call.entities if e.get("type") == "text_mention"} | {
        int(e["url"].split("=")[1])
        for e in call.entities
        if e.get("type") == "text_link" and e.get("url", "").startswith("tg://user")
    }
    assert mentions == {GUARD_2}
    assert "H260301-007" in call.text

    # The same morning's job again (a retry, a restart): no second roll call.
    await jobs.nag_now(app)
    await in_group.expect_silence()
    # A bound group that did not opt in hears nothing.
    await world.user(810000003).in_group(quiet_group).expect_silence()
