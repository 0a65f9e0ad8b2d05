"""aiogram FSM storage on Redis (REDIS_URL), written only after the update's database commit.

With REDIS_URL the conversation's lock is in Redis (bot/state_backend.py), and so is its
state: one hash per conversation, `gridbot:<bot>:<chat>:<user>:<destiny>:state`, with the
fields `state` and `data` (JSON), the same key builder as the lock (whose key ends in
`:lock`). Each write sets the key's time to live again, to STATE_TTL_S (30 days): a flow
left half done is forgotten a month after its last step, as the database never did.

Inside an update (`for_update`, entered by bot.middlewares.UnitOfWork while it holds the
conversation's lock, around the database's unit of work):

- the conversation's state is read once, with one HGETALL, and kept; any other key a
  handler touches (a private flow opened from a group's card) is read once when first used;
- writes change only that copy; the changed keys are written to Redis in one MULTI after
  the database has committed (its session's after_commit, not the absence of an exception:
  a stop that cancels the task just after the commit still writes, to the end), still
  under the lock, so the person's next tap, on any instance, sees them;
- an update that rolls back (its handler raised) or was handled before writes nothing: the
  step is not half taken.

What this cannot promise, Redis being outside the database's transaction: a process that
dies, or a Redis that fails, between the commit and the write leaves the person one step
*behind* the database (they repeat the step; the flow's own checks see what is already
done), never ahead of it. That write's failure is logged and not raised, since everything
else the update did is committed and answered.

Outside an update (tools, tests) each call is one round trip of its own, at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Coroutine, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, KeyBuilder, StateType, StorageKey
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database, UnitSession

if TYPE_CHECKING:  # the redis package is an extra: only a REDIS_URL deployment has it
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

STATE_TTL_S = 30 * 24 * 3600
"""A conversation's state outlives its last step by this much (a real flow takes minutes to
days: a photo taken on the next patrol); every step sets it again."""
_STATE, _DATA = "state", "data"
T = TypeVar("T")


@dataclass
class _Slot:
    state: str | None
    data: str | None
    """The data as JSON, as stored: a handler's later changes to its dict cannot reach it."""
    dirty: bool = False


@dataclass
class _Update:
    """The keys one update has read or written, to be written after its commit."""

    storage: RedisStateStorage
    slots: dict[str, _Slot] = field(default_factory=dict)
    in_transaction: bool = False
    """A change was made inside a database unit of work: write only if that one commits."""
    committed: bool = False

    def watch(self, session: AsyncSession | None) -> None:
        """Learn from the unit of work itself whether it committed: an exception after its
        commit (the task cancelled as the session closes) must not lose the step."""
        if session is None or self.in_transaction:
            return
        self.in_transaction = True
        sync = session.sync_session
        if isinstance(sync, UnitSession):  # told by `_committed`, one listener for the class
            sync.info.setdefault(_WATCHING, []).append(self)
        else:
            event.listen(sync, "after_commit", self._on_commit)

    def _on_commit(self, _session: Session) -> None:
        self.committed = True

    def to_write(self, *, block_failed: bool) -> bool:
        return self.committed if self.in_transaction else not block_failed


_WATCHING = "gridbot_redis_state"


@event.listens_for(UnitSession, "after_commit")
def _committed(session: Session) -> None:
    """A unit of work committed: the updates watching it may write their state. Once for
    the class, not on each session: putting a listener on each cost more than the rest."""
    for update in session.info.pop(_WATCHING, ()):
        update.committed = True


_current: ContextVar[_Update | None] = ContextVar("gridbot_redis_state", default=None)


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _dump(data: Mapping[str, Any]) -> str | None:
    # Serialised when set, inside the handler: data that is not JSON fails the update there
    # (rolled back, as the database's JSON column would), not after the commit.
    return json.dumps(dict(data), ensure_ascii=False) if data else None


async def run_to_end(work: Coroutine[Any, Any, T]) -> T:
    """`work` run to its end even if the awaiting task is cancelled meanwhile (a polling
    bot being stopped), then the cancellation goes on: a commit and the state's write after
    it are not cut between them. A second cancellation stops the waiting, not the work."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


class RedisStateStorage(BaseStorage):
    """Conversation state in Redis; see the module's docstring for when it is written."""

    def __init__(self, redis: Redis, key_builder: KeyBuilder, *, ttl_s: int = STATE_TTL_S) -> None:
        self.redis = redis
        self.key_builder = key_builder
        self.ttl_s = ttl_s

    def key_name(self, key: StorageKey) -> str:
        return self.key_builder.build(key, "state")

    @asynccontextmanager
    async def for_update(self, key: StorageKey) -> AsyncIterator[str | None]:
        """The update's scope: yields the conversation's state (read with one HGETALL);
        what the block changed is written at its end if the database unit of work it was
        changed in committed (changed outside one: if the block did not raise)."""
        update = _Update(self)
        name = self.key_name(key)
        update.slots[name] = await self._fetch(name)
        token = _current.set(update)
        failed = True
        try:
            yield update.slots[name].state
            failed = False
        finally:
            _current.reset(token)
            # A rolled-back update writes nothing; a committed one writes even when an
            # exception (a stop cancelling the task) follows its commit.
            if update.to_write(block_failed=failed):
                await run_to_end(self._write_after_commit(update))

    async def _fetch(self, name: str) -> _Slot:
        raw: dict[Any, Any] = await self.redis.hgetall(name)
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return _Slot(state=fields.get(_STATE), data=fields.get(_DATA))

    async def _write_after_commit(self, update: _Update) -> None:
        dirty = {name: slot for name, slot in update.slots.items() if slot.dirty}
        if not dirty:
            return
        from redis.exceptions import RedisError

        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                for name, slot in dirty.items():
                    self._queue_write(pipe, name, slot)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            # The database has committed and the person was answered: raising would only
            # make the handler chain fail after the fact. They are one step behind.
            log.error(
                "conversation state not saved to Redis after the commit (%s): %s; "
                "the person repeats the step",
                ", ".join(dirty),
                exc,
            )

    def _queue_write(self, pipe: Any, name: str, slot: _Slot) -> None:
        pipe.delete(name)
        fields = {k: v for k, v in ((_STATE, slot.state), (_DATA, slot.data)) if v is not None}
        if fields:  # an empty hash is no key: a finished flow leaves nothing behind
            pipe.hset(name, mapping=fields)
            pipe.expire(name, self.ttl_s)

    def _update(self) -> _Update | None:
        """This storage's update under way (another storage in the process is another
        instance's, in tests: it must not join it)."""
        update = _current.get()
        return update if update is not None and update.storage is self else None

    async def _read(self, key: StorageKey) -> _Slot:
        name = self.key_name(key)
        update = self._update()
        if update is None:
            return await self._fetch(name)
        slot = update.slots.get(name)
        if slot is None:
            slot = update.slots[name] = await self._fetch(name)
        return slot

    async def _save(self, key: StorageKey, field_name: str, value: str | None) -> None:
        name = self.key_name(key)
        update = self._update()
        if update is not None:
            slot = update.slots.get(name)
            if slot is None:  # written before it was read: the other field is needed too
                slot = update.slots[name] = await self._fetch(name)
            setattr(slot, field_name, value)
            slot.dirty = True
            update.watch(Database.current())
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            if value is None:
                pipe.hdel(name, field_name)
            else:
                pipe.hset(name, field_name, value)
                pipe.expire(name, self.ttl_s)
            await pipe.execute()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._save(key, _STATE, state.state if isinstance(state, State) else state)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._save(key, _DATA, _dump(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raw = (await self._read(key)).data
        return dict(json.loads(raw)) if raw else {}  # a fresh dict on every read

    async def close(self) -> None:
        """The Redis client is the events isolation's (bot.state_backend.close_isolation
        closes it)."""
