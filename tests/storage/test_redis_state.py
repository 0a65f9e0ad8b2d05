"""Conversation state in Redis (REDIS_URL): read once per update, written only after it ends
well, under gridbot's keys with a time to live; another instance sees it once written.

Against a real `redis-server` started for each test (tests/redis_server.py); each storage has
a client of its own, as two instances would.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from redis.asyncio import Redis

from bot.state_backend import key_builder
from storage.db import Database
from storage.redis_state import STATE_TTL_S, RedisStateStorage
from tests.redis_server import RedisServer, running_redis


class Flow(StatesGroup):
    describing = State()
    locating = State()


KEY = StorageKey(bot_id=7000000001, chat_id=7500000123, user_id=7500000123)
NAME = "gridbot:7000000001:7500000123:7500000123:default:state"


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def storage(redis: Redis) -> RedisStateStorage:
    return RedisStateStorage(redis, key_builder())


@pytest.fixture
async def other(redis_server: RedisServer) -> AsyncIterator[RedisStateStorage]:
    """Another instance's storage: its own client on the same server."""
    client = Redis.from_url(redis_server.url)
    yield RedisStateStorage(client, key_builder())
    await client.aclose()


async def _calls(redis: Redis, command: str) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_state_and_data_under_gridbots_key_with_a_time_to_live(
    storage: RedisStateStorage, other: RedisStateStorage, redis: Redis
) -> None:
    await storage.set_state(KEY, Flow.describing)
    await storage.set_data(KEY, {"photos": ["AgAD1"], "category": "用电隐患"})

    assert await redis.keys("*") == [NAME.encode()]
    assert STATE_TTL_S - 5 <= await redis.ttl(NAME) <= STATE_TTL_S
    assert await other.get_state(KEY) == "Flow:describing"
    assert await other.get_data(KEY) == {"photos": ["AgAD1"], "category": "用电隐患"}

    await other.set_state(KEY, None)
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {"photos": ["AgAD1"], "category": "用电隐患"}
    await other.set_data(KEY, {})
    assert await redis.keys("*") == []  # a finished flow leaves no key


async def test_an_update_reads_once_and_writes_once_when_it_ends(
    storage: RedisStateStorage, other: RedisStateStorage, redis: Redis
) -> None:
    await storage.set_state(KEY, Flow.describing)
    reads, multis = await _calls(redis, "hgetall"), await _calls(redis, "multi")

    async with storage.for_update(KEY) as raw_state:
        assert raw_state == "Flow:describing"
        assert await storage.get_state(KEY) == "Flow:describing"
        await storage.set_state(KEY, Flow.locating)
        await storage.update_data(KEY, {"description": "配电箱裸露"})
        data = await storage.get_data(KEY)
        data["description"] = "the handler's own copy, not stored"
        # Not yet written: another instance still sees the step before.
        assert await other.get_state(KEY) == "Flow:describing"
        assert await other.get_data(KEY) == {}

    assert await _calls(redis, "hgetall") == reads + 3  # the update's one, other's two
    assert await _calls(redis, "multi") == multis + 1  # all of it in one write
    assert await other.get_state(KEY) == "Flow:locating"
    assert await other.get_data(KEY) == {"description": "配电箱裸露"}
    assert STATE_TTL_S - 5 <= await redis.ttl(NAME) <= STATE_TTL_S


async def test_an_update_that_raises_writes_nothing(
    storage: RedisStateStorage, redis: Redis
) -> None:
    await storage.set_state(KEY, Flow.describing)
    await storage.set_data(KEY, {"category": "用电隐患"})
    with pytest.raises(RuntimeError, match="rolled back"):
        async with storage.for_update(KEY):
            await storage.set_state(KEY, Flow.locating)
            await storage.update_data(KEY, {"description": "配电箱裸露"})
            raise RuntimeError("the handler failed: its transaction rolled back")
    assert await storage.get_state(KEY) == "Flow:describing"
    assert await storage.get_data(KEY) == {"category": "用电隐患"}


async def test_an_update_that_changes_nothing_writes_nothing(
    storage: RedisStateStorage, redis: Redis
) -> None:
    await storage.set_state(KEY, Flow.describing)
    multis = await _calls(redis, "multi")
    async with storage.for_update(KEY):
        assert await storage.get_data(KEY) == {}
    assert await _calls(redis, "multi") == multis


async def test_another_conversation_touched_in_an_update_is_written_with_it(
    storage: RedisStateStorage, other: RedisStateStorage
) -> None:
    """A tap on a group's card that opens a flow in the person's private chat."""
    group = StorageKey(bot_id=KEY.bot_id, chat_id=-1001234567890, user_id=KEY.user_id)
    async with storage.for_update(group) as raw_state:
        assert raw_state is None
        await storage.set_state(KEY, Flow.describing)
        assert await other.get_state(KEY) is None
    assert await other.get_state(KEY) == "Flow:describing"
    assert await other.get_state(group) is None


async def test_data_that_is_not_json_fails_inside_the_update(storage: RedisStateStorage) -> None:
    with pytest.raises(TypeError):
        async with storage.for_update(KEY):
            await storage.set_data(KEY, {"when": object()})
    assert await storage.get_data(KEY) == {}


async def test_redis_gone_after_the_commit_is_logged_not_raised(
    storage: RedisStateStorage,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await storage.set_state(KEY, Flow.describing)
    async with storage.for_update(KEY):
        await storage.set_state(KEY, Flow.locating)
        redis_server.stop(for_good=False)  # between the commit and the write
    assert any(
        r.levelno == logging.ERROR
        and "not saved to Redis" in r.getMessage()
        and NAME in r.getMessage()
        for r in caplog.records
    ), caplog.text
    redis_server.start()
    # Nothing was saved to disk: the restarted server starts empty. The point is that the
    # block above returned; the person repeats the step.
    assert await storage.get_state(KEY) is None


async def test_the_write_follows_the_database_commit_not_the_blocks_outcome(
    storage: RedisStateStorage, other: RedisStateStorage, db: Database
) -> None:
    # Committed, then an exception on the way out (a stop cancelling the task as the session
    # closes): the step was taken, so its state is written.
    with pytest.raises(RuntimeError, match="after the commit"):
        async with storage.for_update(KEY):
            async with db.unit_of_work():
                await storage.set_state(KEY, Flow.describing)
            raise RuntimeError("after the commit")
    assert await other.get_state(KEY) == "Flow:describing"

    # Rolled back, though the block itself ends well (the failure caught further in): the
    # step was not taken, so nothing is written.
    async with storage.for_update(KEY):
        with contextlib.suppress(RuntimeError):
            async with db.unit_of_work():
                await storage.set_state(KEY, Flow.locating)
                raise RuntimeError("the handler failed")
    assert await other.get_state(KEY) == "Flow:describing"
