"""REDIS_URL: two instances never handle one person's taps at once; Redis down at start stops
the bot with one line; without REDIS_URL the in-process default is kept.

The instances are two dispatchers built by the production factory (bot.runners.build), each
with its own application, database engine and Redis connection: all they share is the
database and the Redis server (a real `redis-server` started for the test). A probe handler
holds the first update of a person until the test lets it go; the second update, fed to
the other instance meanwhile, is refused the lock by Redis (its SET NX is counted by the
server) and only runs after the first is through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import Message, Update
from redis.asyncio import Redis
from sqlmodel import select

from bot.app import create_app
from bot.runners import build, run_webhook
from bot.settings import Settings, load_settings
from bot.state_backend import close_isolation, open_isolation
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from storage.models import InboxUpdate
from tests.e2e.conftest import DEFAULT_NOW
from tests.e2e.harness import TOKEN
from tests.e2e.test_startup_faults import gridbot_lines, run_gridbot
from tests.e2e.test_webhook import GUARD, HEAD, SECRET, free_port
from tests.redis_server import RedisServer, running_redis

ROOT = Path(__file__).resolve().parents[2]


def _settings(emulator: Emulator, db_url: str, redis: str | None) -> Settings:
    return load_settings(
        bot_token=TOKEN,
        database_url=db_url,
        telegram_api_base=emulator.base_url,
        redis_url=redis,
        run_scheduler=False,
    )


def _tap(update_id: int) -> Update:
    person = {"id": GUARD, "is_bot": False, "first_name": "保安"}
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1773104400,
                "chat": {"id": GUARD, "type": "private", "first_name": "保安"},
                "from": person,
                "text": "/probe",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
    )


class Probe:
    """A handler on each instance that notes who entered and holds the first one."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()

    def router(self, name: str) -> Router:
        router = Router(name=f"probe-{name}")

        @router.message(Command("probe"))
        async def probe(message: Message) -> None:
            self.log.append(f"enter {name}")
            self.entered.set()
            await self.gate.wait()
            self.log.append(f"leave {name}")

        return router


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(1500):  # Redis's own counters: nothing tells, look every 20 ms
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, session=emulator.bot_session())
    yield b
    await b.session.close()


async def test_two_instances_take_one_persons_taps_in_turn(
    emulator: Emulator,
    world_db_url: str,
    redis_url: str,
    bot: Bot,
) -> None:
    settings = _settings(emulator, world_db_url, redis_url)
    probe = Probe()
    apps = [create_app(settings, clock=ManualClock(DEFAULT_NOW)) for _ in "ab"]
    isolations = [await open_isolation(settings) for _ in "ab"]
    assert all(i is not None and type(i).__name__ == "RedisEventIsolation" for i in isolations)
    a, b = (
        build(app, events_isolation=iso, extra_routers=[probe.router(name)])
        for app, iso, name in zip(apps, isolations, "ab", strict=True)
    )
    server = Redis.from_url(redis_url)

    async def lock_attempts() -> int:
        stats = await server.info("commandstats")
        return int(stats.get("cmdstat_set", {}).get("calls", 0))

    try:
        first = asyncio.create_task(a.feed_update(bot, _tap(1)))
        await asyncio.wait_for(probe.entered.wait(), 30)
        assert await lock_attempts() == 1  # instance a holds the person's lock in Redis
        second = asyncio.create_task(b.feed_update(bot, _tap(2)))

        async def refused() -> bool:
            return await lock_attempts() >= 2

        await _until(refused, "instance b to be refused the lock")
        assert probe.log == ["enter a"]  # b asked Redis, was refused, and waits
        assert not second.done()

        probe.gate.set()
        await asyncio.wait_for(asyncio.gather(first, second), 30)
        assert probe.log == ["enter a", "leave a", "enter b", "leave b"]
        assert not await server.keys("gridbot:*lock*")  # both locks given back
    finally:
        probe.gate.set()
        await server.aclose()
        for iso in isolations:
            await close_isolation(iso)
        for app in apps:
            await app.db.dispose()


async def test_without_redis_url_the_default_stays(emulator: Emulator, world_db_url: str) -> None:
    settings = _settings(emulator, world_db_url, None)
    assert settings.redis_url is None
    assert await open_isolation(settings) is None
    app = create_app(settings, clock=ManualClock(DEFAULT_NOW))
    try:
        assert type(build(app).fsm.events_isolation) is SimpleEventIsolation
    finally:
        await app.db.dispose()


@pytest.mark.parametrize("mode", [[], ["--webhook"]], ids=["polling", "webhook"])
async def test_redis_down_at_start_is_one_line_and_an_exit_code(
    emulator: Emulator, db_url: str, tmp_path: Path, mode: list[str]
) -> None:
    port = free_port()  # nothing listens there
    code, output = await run_gridbot(
        tmp_path,
        *mode,
        DATABASE_URL=db_url,
        TELEGRAM_API_BASE=emulator.base_url,
        REDIS_URL=f"redis://:hunter2-secret@127.0.0.1:{port}/0",
        WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/telegram/webhook",
        WEBHOOK_SECRET="s3cret-for-tests-only",
    )
    assert code == 1, output
    lines = gridbot_lines(output)
    assert len(lines) == 1, output
    assert lines[0].startswith(
        f"gridbot: setting REDIS_URL: cannot reach Redis at 127.0.0.1:{port}"
    )
    assert "Traceback" not in output and "hunter2" not in output
    assert emulator.bot.webhook is None  # nothing was registered


async def test_redis_down_while_running_keeps_the_update_in_the_inbox(
    emulator: Emulator,
    world_db_url: str,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Webhook mode: the update is kept and acknowledged; its handler cannot take the lock
    while Redis is away, so the row waits, and it is handled once when Redis is back."""
    port = free_port()
    settings = load_settings(
        bot_token=TOKEN,
        database_url=world_db_url,
        telegram_api_base=emulator.base_url,
        redis_url=redis_server.url,
        webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        webhook_secret=SECRET,
        webhook_host="127.0.0.1",
        webhook_port=port,
        run_scheduler=False,
    )
    app = create_app(settings, clock=ManualClock(DEFAULT_NOW))
    bot = Bot(TOKEN, session=emulator.bot_session())
    stop = asyncio.Event()
    server = asyncio.create_task(run_webhook(app, bot, stop=stop))
    try:
        assert await emulator.bot.notifier.wait_for(lambda: emulator.bot.webhook, 20)
        await emulator.user(GUARD).send("/start")
        await emulator.user(GUARD).expect_reply(timeout=30)

        await asyncio.to_thread(redis_server.stop, for_good=False)
        await emulator.user(HEAD).send("/start")

        async def waiting_after_an_outage() -> bool:
            outage = any("Redis unavailable" in r.getMessage() for r in caplog.records)
            async with app.db.reading() as session:
                rows = (await session.exec(select(InboxUpdate))).all()
            return outage and any(r.done_at is None for r in rows)

        await _until(waiting_after_an_outage, "the handler to meet the outage")
        assert not emulator.bot.updates  # acknowledged: it is the inbox's now
        assert not emulator.bot_messages(HEAD)

        await asyncio.to_thread(redis_server.start)
        await emulator.user(HEAD).expect_reply(timeout=60)

        async def all_done() -> bool:
            async with app.db.reading() as session:
                rows = (await session.exec(select(InboxUpdate))).all()
            return all(r.done_at is not None and r.error is None for r in rows)

        await _until(all_done, "every inbox row done")
    finally:
        stop.set()
        await server
        await bot.session.close()
        await app.db.dispose()
    assert len(emulator.bot_messages(HEAD)) == 1
    assert len(emulator.bot_messages(GUARD)) == 1
