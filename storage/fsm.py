"""aiogram FSM storage on the project's own database, so a flow survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import FsmRecord
from storage.types import utcnow


def _state_name(state: StateType) -> str | None:
    if isinstance(state, State):
        return state.state
    return state


class DatabaseStorage(BaseStorage):
    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self.db = db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    async def _load(self, key: StorageKey) -> FsmRecord | None:
        joined = self.db.current()
        if joined is not None:
            return await joined.get(FsmRecord, self._key(key))
        async with self.db.reading() as session:
            return await session.get(FsmRecord, self._key(key))

    async def _save(self, key: StorageKey, **values: Any) -> None:
        joined = self.db.current()
        if joined is not None:
            await self._write(joined, key, values)
            return
        async with self.db.session() as session:
            await self._write(session, key, values)

    async def _write(self, session: AsyncSession, key: StorageKey, values: dict[str, Any]) -> None:
        record = await session.get(FsmRecord, self._key(key))
        if record is None:
            record = FsmRecord(key=self._key(key))
        for name, value in values.items():
            setattr(record, name, value)
        record.updated_at = utcnow()
        if record.state is None and not record.data:
            if record in session:
                await session.delete(record)
            return
        session.add(record)
        await session.flush()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._save(key, state=_state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        record = await self._load(key)
        return record.state if record else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._save(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        record = await self._load(key)
        return dict(record.data) if record else {}

    async def close(self) -> None:
        """The database belongs to the application; nothing to close here."""
