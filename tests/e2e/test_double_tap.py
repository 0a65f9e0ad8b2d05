"""Two quick taps on the same button: handled one after the other, and only one takes effect."""

from __future__ import annotations

import asyncio

from sqlalchemy import func
from sqlmodel import select

from storage.models import Case
from tests.e2e.case_steps import GUARD, HERE, tap
from tests.e2e.harness import World


async def test_submitting_twice_in_a_hurry_files_one_case(world: World) -> None:
    u = world.user(GUARD)
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    await tap(u, "消防通道堵塞")
    await u.expect_reply(contains="描述隐患")
    await u.send("楼道堆放杂物，堵塞安全出口")
    await u.expect_reply(contains="发送隐患照片")
    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="严重程度")
    await tap(u, "一般")
    summary = await u.expect_reply(contains="请确认隐患信息")
    # Both presses leave before either is answered, as a double tap does.
    await asyncio.gather(u.press("✅ 提交", message=summary), u.press("✅ 提交", message=summary))
    await u.expect_once(contains="已上报")
    async with world.db.session() as s:
        cases = (await s.exec(select(func.count()).select_from(Case))).one()
    assert cases == 1
    await u.expect_silence()  # the second tap got an answer, not a second report
