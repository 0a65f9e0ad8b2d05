"""What /patrol leaves in the conversation's stored state: the pick alone, whatever was
there before (a report's draft given up included), for a daily role's mode choice and for a
full patrol's location, then the patrol's id once checked in. handlers/patrol/entry.py and
checkin.py write it whole, without clearing or reading it first.
fire-safety-5-level.yaml."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from sandbox import DriverUser
from storage.models import FsmRecord, Membership, Patrol, Person
from tests.e2e.case_steps import GUARD, HERE, report_up_to_photos, tap
from tests.e2e.harness import World

STAFF = 800000021  # 林和东专管员, community staff of LH-01, a monthly quota (no mode choice)


async def stored(world: World, tg_id: int) -> tuple[str | None, dict[str, Any]]:
    """The person's private chat's state and data as the database holds them."""
    async with world.db.session() as s:
        rows = (await s.exec(select(FsmRecord))).all()
    mine = [r for r in rows if f":{tg_id}:{tg_id}:" in r.key]
    assert len(mine) == 1, [r.key for r in rows]
    return mine[0].state, mine[0].data


async def pick_of(world: World, tg_id: int) -> dict[str, int]:
    """The person's only membership as /patrol picks it."""
    async with world.db.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == tg_id))).one()
        m = (await s.exec(select(Membership).where(Membership.person_id == person.id))).one()
    assert m.id is not None
    return {"m": m.id, "grid_id": m.grid_id, "role_id": m.role_id}


async def asked_quick_or_full(world: World, command: str) -> DriverUser:
    """The guard starts a patrol with `command`: asked quick or full, the pick alone stored."""
    world.everyone_opened_the_bot()
    guard = world.user(GUARD)
    await guard.send(command)
    await guard.expect_reply(contains="快速打卡")
    assert await stored(world, GUARD) == ("PatrolFlow:mode", await pick_of(world, GUARD))
    return guard


async def test_a_daily_role_is_asked_quick_or_full_with_the_pick_alone(world: World) -> None:
    guard = await asked_quick_or_full(world, "/patrol")
    await tap(guard, "⚡ 快速打卡")
    await guard.expect_reply(contains="发送您的当前位置")
    picked = await pick_of(world, GUARD) | {"kind": "quick"}
    assert await stored(world, GUARD) == ("PatrolFlow:location", picked)


async def test_a_patrol_started_over_a_report_draft_drops_the_draft(world: World) -> None:
    world.everyone_opened_the_bot()
    staff = world.user(STAFF)
    await report_up_to_photos(staff, category="用电隐患", description="配电箱门损坏")
    state, data = await stored(world, STAFF)
    assert state is not None and state.startswith("Report:") and data["draft"]

    await staff.send("/patrol")
    asked = await staff.expect_reply(contains="尚未提交的隐患上报草稿")
    await tap(staff, "放弃并开始新的", message=asked)
    await staff.expect_reply(contains="发送您的当前位置")
    picked = await pick_of(world, STAFF) | {"kind": "full"}
    assert await stored(world, STAFF) == ("PatrolFlow:location", picked)

    # Checked in: the patrol's id is added to what was there.
    await staff.press("📍 发送当前位置", location=HERE)
    await staff.expect_reply(contains="巡查检查项")
    async with world.db.session() as s:
        patrol = (await s.exec(select(Patrol))).one()
    assert await stored(world, STAFF) == ("PatrolFlow:checklist", picked | {"patrol_id": patrol.id})


async def test_the_deep_link_starts_a_patrol_as_the_command_does(world: World) -> None:
    await asked_quick_or_full(world, "/start patrol")
