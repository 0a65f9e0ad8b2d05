"""/today through the emulator: the same digest the scheduler sends, with working buttons.

fire-safety-5-level.yaml; the clock at Tuesday 2026-03-10 18:00 Shanghai (the digest time).
林和东书记 (800000020) leads LH-01; a report waits at LH-01 itself, and twelve open 重大
cases below it make the digest cut its list ("+2 more") and offer the full list.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.notifier import OutboxNotifier
from scheduler import jobs
from storage.models import Case, Delivery, Grid, Person
from tests.e2e.harness import World

TZ = ZoneInfo("Asia/Shanghai")
DIGEST_AT = datetime(2026, 3, 10, 18, 0, tzinfo=TZ)
LEADER = 800000020  # 林和东书记, leader of LH-01
GUARD = 810000001  # a guard of LH-01-1


async def drain(world: World) -> None:
    notifier = world.app.notifier if world.app else None
    assert isinstance(notifier, OutboxNotifier)
    await notifier.drain(timeout=60)


async def seed(world: World) -> dict[str, int]:
    async with world.db.session() as s:
        grids = {g.code: g.id for g in (await s.exec(select(Grid))).all()}
        guard = (await s.exec(select(Person).where(Person.tg_id == GUARD))).one()
        assert guard.id is not None
        s.add(
            Case(
                code="W-1",
                grid_id=grids["LH-01"],
                origin_grid_id=grids["LH-01"],
                reporter_id=guard.id,
                category="用电",
                description="配电箱<未上锁>",
                severity="general",
                status="reported",
                created_at=datetime(2026, 3, 10, 15, 0, tzinfo=TZ),
            )
        )
        for n in range(1, 13):
            s.add(
                Case(
                    code=f"Z-{n:02d}",
                    grid_id=grids["LH-01-1"],
                    origin_grid_id=grids["LH-01-1"],
                    reporter_id=guard.id,
                    category="用气",
                    description=f"燃气管道破损{n}",
                    severity="critical",
                    status="accepted",
                    created_at=datetime(2026, 3, 10, 8, n, tzinfo=TZ),
                    accepted_at=datetime(2026, 3, 10, 9, n, tzinfo=TZ),
                )
            )
    return {k: v for k, v in grids.items() if v is not None}


async def test_today_is_the_scheduled_digest_with_working_buttons(world: World) -> None:
    app = world.app
    assert app is not None
    await seed(world)
    world.at(DIGEST_AT)
    # Every leader uses the bot: a digest that meets a 403 would make its leader unreachable
    # and change the subtree's digest between the push and /today.
    world.everyone_opened_the_bot()
    leader = world.user(LEADER)

    await jobs.digest_now(app)
    await drain(world)
    scheduled = await leader.expect_reply(contains="日报")
    async with world.db.session() as s:
        me = (await s.exec(select(Person).where(Person.tg_id == LEADER))).one()
        row = (
            await s.exec(select(Delivery).where(Delivery.key == f"digest:{me.id}:2026-03-10"))
        ).one()
    assert row.status == "sent"

    await leader.send("/today")
    today = await leader.expect_reply(contains="日报")
    assert today.text == scheduled.text
    assert today.entities == scheduled.entities
    assert today.buttons == scheduled.buttons == [["待立案 1"], ["完整列表"]]
    assert today.button_data == scheduled.button_data
    assert "林和东社区" in today.text.splitlines()[0]
    assert "⚠️ 未结重大隐患 12 件：" in today.text
    assert "……另有 2 项" in today.text
    assert "Z-01 燃气管道破损1" in today.text and "Z-11" not in today.text

    # the waiting button lists the report, escaped as typed
    await leader.press("待立案 1")
    listed = await leader.expect_reply(contains="待处理隐患")
    assert "W-1 配电箱<未上锁>" in listed.text
    await leader.expect_answer()

    # the full list arrives as a document, with every 重大 case
    await leader.press("完整列表")
    assert (await leader.expect_answer()).text == "完整列表已发送。"
    await drain(world)
    doc = await leader.expect_reply(contains="日报完整列表")
    assert doc.document is not None and doc.document["file_name"] == "digest-2026-03-10.txt"
    body = doc.document_bytes().decode("utf-8")
    for n in range(1, 13):
        assert f"Z-{n:02d}\t燃气管道破损{n}" in body
    assert "林和东第1片区" in body

    # pressing the scheduled digest's button works the same (a message the bot sent earlier)
    await leader.press("待立案 1")
    again = await leader.expect_reply(contains="待处理隐患")
    assert again.text == listed.text


async def test_today_refused_to_a_member_and_a_stranger(world: World) -> None:
    world.at(DIGEST_AT)
    guard = world.user(GUARD)
    await guard.send("/today")
    reply = await guard.expect_reply()
    assert reply.text == "今日简报只发给网格长。"
    assert reply.buttons == []

    stranger = world.user(7_123_456_789)
    await stranger.send("/today")
    assert "网格长" in (await stranger.expect_reply()).text
