"""aiogram FSM storage on the project's own database, so a flow survives a restart.

The storage without REDIS_URL; with it, the state is in Redis (storage/redis_state.py,
chosen by bot.state_backend.conversation_storage).

Inside a unit of work (an update: `Database.current()`), each key is read once, with one
statement, and kept on the session; reads after that, and writes, touch only that copy. What
changed is written once, when the unit of work commits (an upsert, or a delete when the flow
is over), inside the same transaction as the rest of the update: a rollback takes the step
back with everything else. Outside a unit of work (tools, tests) each call is its own
transaction, as before.
"""

from __future__ import annotations

import copy
import json
import json.encoder
import json.scanner
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import Table, bindparam, delete, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database, UnitSession
from storage.direct_sql import write_on_next_trip
from storage.models import FsmRecord
from storage.types import utcnow

FSM_TABLE: Table = FsmRecord.__table__  # type: ignore[attr-defined]
_PENDING = "gridbot_fsm"


def _state_name(state: StateType) -> str | None:
    if isinstance(state, State):
        return state.state
    return state


@dataclass
class _Slot:
    state: str | None
    data: dict[str, Any]
    stored: bool | None
    """Whether the row exists in the database; None: not known (written before any read)."""
    dirty: bool = False


@dataclass
class _Pending:
    """The keys a unit of work has read or written, on its session."""

    slots: dict[str, _Slot] = field(default_factory=dict)


def _column(name: str) -> Any:
    return bindparam(name, type_=FSM_TABLE.c[name].type)


@cache
def _upsert(dialect: str) -> Any:
    """Built once per dialect with bind parameters: building it was a tenth of an update."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(FSM_TABLE).values(
        key=_column("key"),
        state=_column("state"),
        data=_column("data"),
        updated_at=_column("updated_at"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[FSM_TABLE.c.key],
        set_={"state": stmt.excluded.state, "data": stmt.excluded.data,
              "updated_at": stmt.excluded.updated_at},
    )  # fmt: skip


_DELETE = delete(FSM_TABLE).where(FSM_TABLE.c.key == _column("key"))


def _write(dialect: str, key: str, slot: _Slot) -> tuple[Any, dict[str, Any]] | None:
    """The one statement (and its values) that stores `slot`, or None when the row is
    already as it should be."""
    if slot.state is None and not slot.data:
        if slot.stored is False:
            return None
        return _DELETE, {"key": key}
    values = {"key": key, "state": slot.state, "data": slot.data, "updated_at": utcnow()}
    return _upsert(dialect), values


def _flush(session: Session) -> None:
    """Before the commit: each changed key written with one statement."""
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None:
        return
    connection = None
    for key, slot in pending.slots.items():
        if not slot.dirty:
            continue
        if connection is None:
            # What session.execute runs a Core statement on (it neither flushes nor adds
            # options for one), without its ORM dispatch: that cost more than the statement.
            connection = session.connection()
        write = _write(connection.dialect.name, key, slot)
        if write is not None:
            write_on_next_trip(connection, *write)  # on SQLite, with the commit
        slot.stored = write is not None and not (slot.state is None and not slot.data)
        slot.dirty = False


def _forget(session: Session, _previous: Any = None) -> None:
    """Rolled back: what was kept may not be what the database holds."""
    session.info.pop(_PENDING, None)


# A unit of work's session (storage.db.UnitSession) has these once for its whole class:
# putting them on each session cost more than the rest of the storage's work in an update.
event.listen(UnitSession, "before_commit", _flush)
event.listen(UnitSession, "after_soft_rollback", _forget)


def _pending(session: AsyncSession) -> _Pending:
    pending: _Pending | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending()
        sync = session.sync_session
        if not isinstance(sync, UnitSession):
            event.listen(sync, "before_commit", _flush)
            event.listen(sync, "after_soft_rollback", _forget)
    return pending


def _copy(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a state's data that shares nothing with it. The data is stored as JSON, so
    a JSON round trip copies it as the database would give it back, several times faster
    than `copy.deepcopy`; data that JSON cannot hold is deep-copied, and fails where it did,
    when the unit of work writes it. The round trip is json.dumps and json.loads without
    their Python layers: the encoder json.dumps makes (its defaults) and the decoder's scanner
    (its text is one JSON value, nothing around it), which each step runs a few times."""
    try:
        copied: dict[str, Any] = _round_trip(data)
    except (TypeError, ValueError):
        return copy.deepcopy(dict(data))
    return copied


def _round_trip(data: Mapping[str, Any]) -> Any:
    if _C_ENCODER is None or _SCAN is None:  # an interpreter without json's C speed-ups
        return json.loads(json.dumps(data))
    encode = _C_ENCODER({}, _DEFAULT, json.encoder.encode_basestring_ascii, None, ": ", ", ",
                        False, False, True)  # fmt: skip
    return _SCAN("".join(encode(data, 0)), 0)[0]


# json's own C encoder and scanner, as json.dumps and json.loads make them (None without).
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_C_SCANNER: Any = getattr(json.scanner, "c_make_scanner", None)
_DEFAULT = json.JSONEncoder().default  # what json.dumps does with what JSON cannot hold: raise
_SCAN: Any = _C_SCANNER(json.JSONDecoder()) if _C_SCANNER is not None else None


_KEPT_NAMES = 4096
"""Conversations whose row key is kept: more than talk at once in a district."""


class DatabaseStorage(BaseStorage):
    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)
        # A conversation's key is worked out on each read and write of its state, several
        # times an update; the same few conversations come back again and again.
        self._names = lru_cache(maxsize=_KEPT_NAMES)(self.key_builder.build)

    def _key(self, key: StorageKey) -> str:
        return self._names(key)

    def key_name(self, key: StorageKey) -> str:
        """The row's key for `key` (what `seed` and the fsm_state table use)."""
        return self._key(key)

    @staticmethod
    def seed(
        session: AsyncSession, name: str, state: str | None, data: dict[str, Any] | None
    ) -> None:
        """What the unit of work already read for row `name` (None data: no row), so the
        first get_state or get_data costs no statement."""
        _pending(session).slots[name] = _Slot(
            state=state, data=dict(data or {}), stored=data is not None
        )

    @staticmethod
    async def _select(session: AsyncSession, key: str) -> _Slot:
        row = (
            await session.execute(
                select(FSM_TABLE.c.state, FSM_TABLE.c.data).where(FSM_TABLE.c.key == key)
            )
        ).first()
        if row is None:
            return _Slot(state=None, data={}, stored=False)
        return _Slot(state=row.state, data=dict(row.data or {}), stored=True)

    async def _slot(self, session: AsyncSession, key: str) -> _Slot:
        pending = _pending(session)
        slot = pending.slots.get(key)
        if slot is None:
            slot = pending.slots[key] = await self._select(session, key)
        return slot

    async def _read(self, key: StorageKey) -> _Slot:
        joined = self.db.current()
        if joined is not None:
            return await self._slot(joined, self._key(key))
        async with self.db.reading() as session:
            return await self._select(session, self._key(key))

    async def _save(self, key: StorageKey, **values: Any) -> None:
        joined = self.db.current()
        name = self._key(key)
        if joined is not None:
            pending = _pending(joined)
            slot = pending.slots.get(name)
            if slot is None:  # written before it was read: the other half is unknown
                slot = pending.slots[name] = await self._select(joined, name)
            for attr, value in values.items():
                setattr(slot, attr, value)
            slot.dirty = True
            return
        async with self.db.session() as session:
            slot = await self._select(session, name)
            for attr, value in values.items():
                setattr(slot, attr, value)
            write = _write(self.db.engine.dialect.name, name, slot)
            if write is not None:
                await session.execute(*write)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._save(key, state=_state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._read(key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        # A copy: the handler may go on changing its dict; the stored value must not follow.
        await self._save(key, data=_copy(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return _copy((await self._read(key)).data)

    async def close(self) -> None:
        """The database belongs to the application; nothing to close here."""
