"""The monthly push (issue 14 pt 4) through the emulator and the outbox, on the seed of
test_export_stats (March 2026 in 林和街道): on Wed 2026-04-01 09:00 Shanghai, the 1st of a
month and of a quarter, each reachable leader gets March's and Q1's scoreboard of their
subtree, its chart and its 台账 (opened with openpyxl); run again, nothing more goes out;
``/schedule monthly off`` stops it; an unreachable leader gets nothing.

Only three leaders are left reachable (the district's first, 林和街道's, 珠玑街道's), so
the test renders six charts, not fifty.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from sqlmodel import col, func, select

from scheduler.monthly import monthly_now
from storage.models import Delivery, Person
from tests.e2e.harness import ADMIN_TG_ID, World
from tests.e2e.test_export_stats import LH_LEADER, ZJ_LEADER, png_size, seed

TZ = ZoneInfo("Asia/Shanghai")
APRIL_FIRST = datetime(2026, 4, 1, 9, 0, tzinfo=TZ)
DISTRICT = 800000001
UNREACHABLE = 800000002  # the other district leader
KEPT = (DISTRICT, LH_LEADER, ZJ_LEADER)


async def only_some_reachable(world: World) -> None:
    async with world.db.session() as s:
        for p in (await s.exec(select(Person))).all():
            p.reachable = p.tg_id in KEPT or p.tg_id == ADMIN_TG_ID
            s.add(p)
    world.everyone_opened_the_bot()


async def pushes(world: World) -> int:
    async with world.db.reading() as s:
        query = select(func.count()).select_from(Delivery)
        return int((await s.exec(query.where(col(Delivery.key).startswith("push:")))).one())


async def received(u: Any, key: str) -> tuple[Any, Any, Any]:
    text = await u.expect_reply(contains=f"考核推送（{key}）")
    chart = await u.expect_reply(contains="📈")
    doc = await u.expect_reply(contains=f"台账 · {key}")
    return text, chart, doc


async def test_on_the_first_of_a_quarter_each_leader_gets_month_and_quarter(
    world: World,
) -> None:
    await seed(world)
    await only_some_reachable(world)
    world.at(APRIL_FIRST)
    assert world.app is not None
    run = await monthly_now(world.app)
    assert (run.leaders, run.queued) == (3, 6)
    await world.outbox_settled()

    leader = world.user(LH_LEADER)
    text, chart, doc = await received(leader, "2026-03")
    assert "林和街道（LH）考核统计 · 上月 2026-03" in text.text
    assert "结案率 67%" in text.text and "按期 33%" in text.text
    assert chart.photo is not None
    assert png_size(world.emu.file_bytes(chart.photo[-1]["file_id"])) == (1000, 800)
    assert doc.document is not None and doc.document["file_name"] == "ledger-LH-2026-03.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    codes = [r[0] for r in book["隐患台账"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["LH-A", "LH-B", "LH-C"]
    text, _chart, doc = await received(leader, "2026-Q1")
    assert "上季度 2026-Q1" in text.text
    assert doc.document is not None and doc.document["file_name"] == "ledger-LH-2026-Q1.xlsx"

    other = world.user(ZJ_LEADER)
    text, _chart, doc = await received(other, "2026-03")
    book = openpyxl.load_workbook(io.BytesIO(doc.document_bytes()))
    assert [r[0] for r in book["隐患台账"].iter_rows(min_row=2, values_only=True)] == ["ZJ-A"]
    assert "LH-" not in text.text
    await received(other, "2026-Q1")

    district = world.user(DISTRICT)
    text, _chart, doc = await received(district, "2026-03")
    assert "某区（Q）考核统计" in text.text
    await received(district, "2026-Q1")
    await world.user(UNREACHABLE).expect_silence()

    # Once: the job run again (a retry, a catch-up, a second process) queues nothing.
    before = await pushes(world)
    again = await monthly_now(world.app)
    assert again.queued == 0 and await pushes(world) == before == 18
    await leader.expect_silence()


async def test_schedule_monthly_off_stops_it_and_a_time_moves_it(world: World) -> None:
    await seed(world)
    await only_some_reachable(world)
    admin = world.user(ADMIN_TG_ID)
    await admin.send("/schedule monthly off")
    done = await admin.expect_reply(contains="已更新")
    assert "月度推送 关闭" in done.text
    assert world.app is not None and world.app.scheduler is not None
    sched = world.app.scheduler.scheduler
    assert sched is not None and sched.get_job("monthly") is None
    world.at(APRIL_FIRST)
    await world.handled()  # the reply goes out before its update commits: the job reads after
    assert (await monthly_now(world.app)).queued == 0
    assert await pushes(world) == 0

    await admin.send("/schedule monthly 08:30")
    await admin.expect_reply(contains="月度推送 08:30")
    job = sched.get_job("monthly")
    assert job is not None
    assert job.trigger.get_next_fire_time(None, APRIL_FIRST) == datetime(
        2026, 5, 1, 8, 30, tzinfo=TZ
    )
    await admin.send("/schedule monthly 25:00")
    await admin.expect_reply(contains="25:00")
    await world.handled()
    assert (await monthly_now(world.app)).queued == 6  # on again
