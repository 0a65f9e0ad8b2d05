"""REDIS_URL: the conversation's state is in Redis, so a flow begun on one instance is finished
on another, and a step whose handler fails is not half taken.

Each instance is the bot built by the production factories (bot.runners.build) with its own
application, database engine and Redis client (bot.state_backend.open_isolation), polling
the emulator; all they share is the database and a real `redis-server` started for the test.
`World.restart()` stops instance A and starts instance B on the next Redis client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from aiogram.types import Message, TelegramObject, Update
from redis.asyncio import Redis
from sqlalchemy import func
from sqlmodel import select

import tests.e2e.harness as harness
from bot.app import create_app
from bot.context import AppContext
from bot.runners import build
from bot.settings import load_settings
from bot.state_backend import close_isolation, key_builder, open_isolation
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from storage.models import Case, FsmRecord, ProcessedUpdate
from storage.redis_state import STATE_TTL_S
from tests.e2e.case_steps import GUARD, HERE, meet, tap
from tests.e2e.conftest import DEFAULT_NOW, _roster_on_telegram
from tests.e2e.harness import TOKEN, World
from tests.redis_server import RedisServer, running_redis

GUARD_STATE = key_builder().build(
    StorageKey(bot_id=int(TOKEN.split(":")[0]), chat_id=GUARD, user_id=GUARD), "state"
)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def instances(
    emulator: Emulator,
    world_db_url: str,
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    """Instance A, started; `restart()` gives instance B. Each takes the next Redis client,
    opened as `gridbot run` opens it."""
    settings = load_settings(bot_token=TOKEN, database_url=world_db_url, redis_url=redis_server.url)
    isolations: list[BaseEventIsolation] = []
    for _ in "ab":
        isolation = await open_isolation(settings)
        assert isolation is not None
        isolations.append(isolation)
    waiting = list(isolations)

    def build_next(app: AppContext, *, extra_routers: Any = ()) -> Dispatcher:
        return build(app, extra_routers=extra_routers, events_isolation=waiting.pop(0))

    monkeypatch.setattr(harness, "build", build_next)
    await _roster_on_telegram(emulator, world_db_url)
    world = World(emulator, world_db_url, ManualClock(DEFAULT_NOW), redis_url=redis_server.url)
    await world.start()
    try:
        yield world
    finally:
        await world.stop()
        for isolation in isolations:
            await close_isolation(isolation)


async def _kept(redis: Redis) -> dict[str, str]:
    """The guard's conversation as Redis holds it (the client decodes its answers)."""
    return {str(k): str(v) for k, v in (await redis.hgetall(GUARD_STATE)).items()}


async def _states_in_database(world: World) -> int:
    async with world.db.reading() as session:
        return (await session.exec(select(func.count()).select_from(FsmRecord))).one()


async def _start_report(world: World) -> Any:
    u = world.user(GUARD)
    await meet(world, GUARD)
    await u.send("/report")
    await u.expect_reply(contains="隐患类别")
    await tap(u, "消防通道堵塞")
    await u.expect_reply(contains="描述隐患")
    return u


async def test_a_report_begun_on_one_instance_is_finished_on_another(
    instances: World, redis: Redis
) -> None:
    world = instances
    u = await _start_report(world)
    await u.send("楼道堆放杂物，堵塞安全出口")
    await u.expect_reply(contains="发送隐患照片")
    await u.send_photo()
    await u.expect_reply(contains="已收到照片")
    # Instance A stops at once: the answer came before the commit, and stopping cancels
    # the update in hand, which still commits and writes its state before it gives way.
    await world.restart()  # instance B: its own app and Redis client
    assert await _states_in_database(world) == 0  # the state is in Redis, not the database
    kept = await _kept(redis)
    assert kept["state"] == "Report:photos", kept
    assert len(json.loads(kept["data"])["draft"]["photos"]) == 1, kept  # the last step's
    assert STATE_TTL_S - 60 <= await redis.ttl(GUARD_STATE) <= STATE_TTL_S

    await tap(u, "完成")
    await u.expect_reply(contains="发送位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="严重程度")
    await tap(u, "一般")
    summary = await u.expect_reply(contains="请确认隐患信息")
    assert "楼道堆放杂物" in summary.text and "照片：1 张" in summary.text
    await tap(u, "✅ 提交")
    await u.expect_reply(contains="已上报")

    await world.handled()
    assert not await redis.exists(GUARD_STATE)  # the flow is over: nothing left behind
    assert await _states_in_database(world) == 0
    async with world.db.reading() as session:
        case = (await session.exec(select(Case))).one()
    assert case.description == "楼道堆放杂物，堵塞安全出口"


class FailAfter:
    """An inner middleware that lets the handler of one message text run, then raises, as a
    handler failing after it has moved the flow on would."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.failed = 0

    async def __call__(self, handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        result = await handler(event, data)
        if isinstance(event, Message) and event.text == self.text and not self.failed:
            self.failed += 1
            raise RuntimeError("the handler failed after its step")
        return result


async def test_a_step_whose_handler_fails_is_not_half_taken(instances: World, redis: Redis) -> None:
    world = instances
    u = await _start_report(world)
    await world.handled()
    before = await _kept(redis)
    assert before["state"].startswith("Report"), before

    fail = FailAfter("配电箱门损坏，电线裸露")
    assert world.dp is not None
    world.dp.message.middleware(fail)
    await u.send(fail.text)
    await u.expect_reply(contains="发送隐患照片")  # the handler answered, then failed
    await u.expect_reply(contains="出了点问题")
    await world.handled()
    assert fail.failed == 1
    assert await _kept(redis) == before  # still asking for the description

    await u.send(fail.text)
    await u.expect_reply(contains="发送隐患照片")
    await world.handled()
    after = await _kept(redis)
    assert after["state"] != before["state"] and fail.text in after["data"], after


async def test_a_stop_in_the_middle_of_an_update_lets_it_commit_and_write_its_state(
    emulator: Emulator, world_db_url: str, redis_server: RedisServer, redis: Redis
) -> None:
    """A polling bot being stopped cancels the update in hand: it finishes first (committed,
    its state written), so a cancellation never falls between the commit and the write."""
    settings = load_settings(
        bot_token=TOKEN,
        database_url=world_db_url,
        telegram_api_base=emulator.base_url,
        redis_url=redis_server.url,
        run_scheduler=False,
    )
    app = create_app(settings, clock=ManualClock(DEFAULT_NOW))
    isolation = await open_isolation(settings)
    entered, gate = asyncio.Event(), asyncio.Event()
    router = Router(name="slow-step")

    @router.message(Command("probe"))
    async def slow_step(message: Message, state: FSMContext) -> None:
        await state.set_state("Probe:done")
        entered.set()
        await gate.wait()

    dp = build(app, events_isolation=isolation, extra_routers=[router])
    bot = Bot(TOKEN, session=emulator.bot_session())
    update = Update.model_validate(
        {
            "update_id": 41,
            "message": {
                "message_id": 41,
                "date": int(DEFAULT_NOW.timestamp()),
                "chat": {"id": GUARD, "type": "private", "first_name": "保安"},
                "from": {"id": GUARD, "is_bot": False, "first_name": "保安"},
                "text": "/probe",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
    )
    try:
        handling = asyncio.create_task(dp.feed_update(bot, update))
        await asyncio.wait_for(entered.wait(), 30)
        handling.cancel()  # what stopping the polling does
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(handling, 30)
        assert (await _kept(redis))["state"] == "Probe:done"
        async with app.db.reading() as session:
            handled = (await session.exec(select(ProcessedUpdate.update_id))).all()
        assert 41 in handled  # committed: another instance would skip it, state and all
    finally:
        gate.set()
        await bot.session.close()
        await close_isolation(isolation)
        await app.db.dispose()
