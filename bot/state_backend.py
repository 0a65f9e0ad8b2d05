"""Where a conversation's lock and state live: in this process and the database, or in Redis
when REDIS_URL is set.

Each update takes its conversation's lock (aiogram's events isolation) before its unit of
work opens (bot.middlewares.UnitOfWork), so one person's taps are handled one after the
other.

- Without REDIS_URL the lock is aiogram's SimpleEventIsolation, in this process, and the
  state is in the database (storage/fsm.py): read by the update's first statement and
  written with its commit, in the same transaction as the rest of the update.
- With REDIS_URL the lock is RedisEventIsolation, so two instances behind one webhook never
  handle one person's taps at once, and the state is in Redis too (storage/redis_state.py,
  on the same client and key builder): read once when the update starts, written after the
  database has committed, while the lock is still held. A rolled-back update writes no
  state; a crash between the commit and that write leaves the person one step behind the
  database, never ahead of it.

Redis away while running is an outage (OUTAGE_ERRORS): the lock or the state cannot be
read, so the update fails before its transaction and the webhook inbox keeps it for later.
"""

from __future__ import annotations

import logging
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder

from bot.settings import Settings
from storage.db import Database
from storage.fsm import DatabaseStorage
from storage.redis_state import RedisStateStorage

log = logging.getLogger(__name__)

KEY_PREFIX = "gridbot"
# A lock outlives a dead instance by this much at most; a handler takes far less.
LOCK_TIMEOUT_S = 60
CONNECT_TIMEOUT_S = 5.0


class StateBackendError(Exception):
    """Redis could not be reached at start-up; the message fits on one line."""


def _outage_errors() -> tuple[type[BaseException], ...]:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # without the redis extra nothing here can raise them
        return ()
    return (RedisConnectionError, RedisTimeoutError)


OUTAGE_ERRORS: tuple[type[BaseException], ...] = _outage_errors()
"""Redis being away: the inbox keeps the update for later (bot.inbox_worker.is_outage)."""


def key_builder() -> DefaultKeyBuilder:
    """The lock's and the state's keys: the same on every instance (bot, chat, user, thread),
    ending in `:lock` and `:state`."""
    return DefaultKeyBuilder(prefix=KEY_PREFIX, with_bot_id=True, with_destiny=True)


async def open_isolation(settings: Settings) -> BaseEventIsolation | None:
    """RedisEventIsolation on REDIS_URL, checked with a PING; None without REDIS_URL (the
    dispatcher then keeps its in-process default). Close it with `close_isolation`."""
    if settings.redis_url is None:
        return None
    try:
        from aiogram.fsm.storage.redis import RedisEventIsolation
        from redis.asyncio import Redis
        from redis.exceptions import RedisError
    except ImportError:
        raise StateBackendError(
            "setting REDIS_URL: the redis package is not installed (pip install 'gridbot[redis]')"
        ) from None
    redis: Redis = Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=CONNECT_TIMEOUT_S,
    )
    where = _where(redis)
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        await redis.aclose()
        why = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise StateBackendError(
            f"setting REDIS_URL: cannot reach Redis at {where}: {why}"
        ) from None
    log.info("conversation locks and state in Redis at %s", where)
    return RedisEventIsolation(
        redis, key_builder=key_builder(), lock_kwargs={"timeout": LOCK_TIMEOUT_S}
    )


def conversation_storage(db: Database, isolation: BaseEventIsolation | None) -> BaseStorage:
    """The state lives where the lock does: in Redis, on the isolation's own client, when
    the lock is there; in the database otherwise."""
    redis: Any = getattr(isolation, "redis", None)
    if redis is None:
        return DatabaseStorage(db)
    return RedisStateStorage(redis, key_builder())


async def close_isolation(isolation: BaseEventIsolation | None) -> None:
    """Close what `open_isolation` opened (aiogram's close leaves Redis's connections open),
    the Redis state's client with it."""
    if isolation is None:
        return
    await isolation.close()
    redis: Any = getattr(isolation, "redis", None)
    if redis is not None:
        await redis.aclose()


def _where(redis: Any) -> str:
    """host:port (or the socket's path) of a client, never its password."""
    kwargs = redis.connection_pool.connection_kwargs
    if "path" in kwargs:
        return str(kwargs["path"])
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
