"""One holder at a time: the scheduler and the notifier each run in a single process.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection kept
  open for as long as the lock is held; the server drops it when that connection dies.
- SQLite: an exclusive `flock` on a file beside the database. The kernel drops it when the
  process dies, so a bot killed with SIGKILL and started again takes over at once, with no
  lease to expire. (SQLite lives on one machine, so a file lock covers every process that
  can open the database.)
- SQLite in memory: one process by definition; always granted.

`acquire()` never waits: it answers True when this process holds the lock (now or already).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text

from storage.db import Database


class SingletonLock(Protocol):
    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


class AlwaysHeld:
    async def acquire(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    async def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class AdvisoryLock:
    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.key = zlib.crc32(f"gridbot:{name}".encode()) & 0x7FFFFFFF
        self._conn: Any = None

    async def acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = await self.db.engine.connect()
        try:
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            ).scalar()
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                await self._conn.commit()
            await self._conn.close()
            self._conn = None


def lock_for(db: Database, name: str) -> SingletonLock:
    if not db.is_sqlite:
        return AdvisoryLock(db, name)
    raw = db.url.split(":///", 1)[1] if ":///" in db.url else ""
    if not raw or raw == ":memory:":
        return AlwaysHeld()
    return FileLock(Path(raw).with_name(Path(raw).name + f".{name}.lock"))
