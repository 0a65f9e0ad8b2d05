"""What an update costs the database, counted while a person drives a real conversation.

A guard of LH-01-1 (fire-safety-5-level.yaml) opens the bot, reads /my, checks in with
/patrol (quick check-in, location) and walks the whole /report. Every update the bot handles
is counted through engine listeners (storage/sql_tally.py): SQL statements, transactions
begun, commits. Numbers, never times. The same conversation runs on PostgreSQL when
GRIDBOT_TEST_PG_URL is set.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import Update
from sqlalchemy import text

from domain.clock import ManualClock
from domain.scenario import parse_scenario
from sandbox.emulator import Emulator
from storage.db import Database
from storage.importer import apply_import
from storage.migrate import upgrade
from storage.sql_tally import Cost, SqlTally
from tests.conftest import scenario_path
from tests.e2e.case_steps import GUARD, HERE, tap
from tests.e2e.conftest import DEFAULT_NOW, _roster_on_telegram
from tests.e2e.harness import World

PG_URL = os.environ.get("GRIDBOT_TEST_PG_URL")
# The issue asks for at most 5; the conversation costs 2.54 today (SQLite and PostgreSQL):
# the bound keeps what was won.
MAX_STATEMENTS_PER_UPDATE = 2.8
CONVERSATION_UPDATES = 13


class Counted:
    """Wraps the dispatcher's feed_update: one `Cost` per update the bot handles."""

    def __init__(self, world: World) -> None:
        assert world.dp is not None
        self.tally = SqlTally.install(world.db.engine)
        self.costs: list[tuple[int, Cost]] = []
        self.changed = asyncio.Condition()
        feed = world.dp.feed_update

        async def counted(bot: Bot, update: Update, **kwargs: Any) -> Any:
            with SqlTally.counting() as cost:
                try:
                    return await feed(bot, update, **kwargs)
                finally:
                    self.costs.append((update.update_id, cost))
                    async with self.changed:
                        self.changed.notify_all()

        world.dp.feed_update = counted  # type: ignore[method-assign]

    async def handled(self, count: int) -> list[Cost]:
        """The costs once `count` updates are through (the last reply comes before its
        commit)."""
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: len(self.costs) >= count), timeout=30
            )
        return [c for _, c in self.costs]

    def describe(self) -> str:
        return "\n".join(
            f"update {uid}: {c.statements} statements, {c.transactions} begun, "
            f"{c.commits} committed\n    " + "\n    ".join(c.sql)
            for uid, c in self.costs
        )


async def converse(world: World) -> None:
    """/start, /my, /patrol with a quick check-in, then the whole /report."""
    u = world.user(GUARD)
    await u.send("/start")
    await u.expect_reply(contains="保安巡查员")
    await u.send("/my")
    await u.expect_reply()
    await u.send("/patrol")
    await u.expect_reply(contains="快速打卡")
    await tap(u, "⚡ 快速打卡")
    await u.expect_reply(contains="请点击下方按钮发送您的当前位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="已快速打卡")
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    await tap(u, "消防通道堵塞")
    await u.expect_reply(contains="描述隐患")
    await u.send("楼道堆放杂物，堵塞安全出口")
    await u.expect_reply(contains="发送隐患照片")
    await u.send_photo()
    await u.expect_reply(contains="已收到照片")
    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="严重程度")
    await tap(u, "一般")
    await u.expect_reply(contains="请确认隐患信息")
    await tap(u, "✅ 提交")
    await u.expect_reply(contains="已上报")


async def check(counted: Counted) -> None:
    costs = await counted.handled(CONVERSATION_UPDATES)
    assert len(costs) == CONVERSATION_UPDATES, counted.describe()
    per_update = sum(c.statements for c in costs) / len(costs)
    print(f"\n{per_update:.2f} statements per update\n{counted.describe()}")
    assert per_update <= MAX_STATEMENTS_PER_UPDATE, counted.describe()
    # One transaction per update, begun and committed once, nothing rolled back.
    assert [(c.transactions, c.commits, c.rollbacks) for c in costs] == [(1, 1, 0)] * len(costs), (
        counted.describe()
    )


async def test_a_conversation_costs_few_statements_and_one_transaction_per_update(
    world: World,
) -> None:
    counted = Counted(world)
    await converse(world)
    await check(counted)


@pytest.fixture
async def pg_world(emulator: Emulator) -> AsyncIterator[World]:
    if PG_URL is None:
        pytest.skip("no PostgreSQL server (GRIDBOT_TEST_PG_URL)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = Database(PG_URL)
    async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    await upgrade(db)
    source = "fire-safety-5-level.yaml"
    scenario = parse_scenario(scenario_path(source).read_text(encoding="utf-8"), source=source)
    async with db.session() as session:
        await apply_import(session, scenario, now=DEFAULT_NOW)
    await db.dispose()
    await _roster_on_telegram(emulator, url)
    w = World(emulator, url, ManualClock(DEFAULT_NOW))
    await w.start()
    try:
        yield w
    finally:
        await w.stop()
        if w.app is not None:
            await w.app.db.dispose()
        async with admin.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            await conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_the_same_on_postgresql(pg_world: World) -> None:
    counted = Counted(pg_world)
    await converse(pg_world)
    await check(counted)
