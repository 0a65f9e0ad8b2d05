"""The PostgreSQL pass's databases: template databases built once, a clone per test.

`CREATE DATABASE x TEMPLATE t` copies a migrated (or migrated and imported) database in a
fraction of the time migrating or importing takes, as copying the SQLite file does on the
SQLite pass. Every name starts with this process's prefix, so two runs against one server
never meet; each clone is dropped after its test (`WITH (FORCE)`: a test that left a
connection open, or a killed bot process, must not keep its database alive).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.engine import make_url

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    # Fixtures call this outside or inside a running loop; a thread of its own has neither.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class PgDatabases:
    def __init__(self, server_url: str) -> None:
        self.server = make_url(server_url)
        self.prefix = f"gb{os.getpid()}_"
        self._numbers = itertools.count(1)
        self._templates: dict[str, str] = {}
        self._alive: set[str] = set()
        self._strategy: str | None = None

    def url_of(self, name: str) -> str:
        """The SQLAlchemy URL of one database on the server."""
        return self.server.set(database=name).render_as_string(hide_password=False)

    async def _execute(self, *statements: str) -> None:
        dsn = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    async def _version(self) -> int:
        dsn = self.server.set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncpg.connect(dsn)
        try:
            return int(await conn.fetchval("SHOW server_version_num"))
        finally:
            await conn.close()

    def create(self, template: str | None) -> str:
        """A new database: empty (from template0), or a copy of `template`."""
        if self._strategy is None:
            # Copying the files is about three times faster than WAL-logging each block (the
            # default since 15) for databases this small; older servers only copy files.
            self._strategy = " STRATEGY FILE_COPY" if _run(self._version()) >= 150000 else ""
        name = f"{self.prefix}{next(self._numbers)}"
        source = f' TEMPLATE "{template}"' if template else " TEMPLATE template0"
        _run(self._execute(f'CREATE DATABASE "{name}"{source}{self._strategy}'))
        self._alive.add(name)
        return name

    def drop(self, name: str) -> None:
        _run(self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._alive.discard(name)

    def template(self, key: str, base: str | None, build: Callable[[str], Awaitable[None]]) -> str:
        """A template database, built once per key from `base` by `build(url)`."""
        if key not in self._templates:
            name = self.create(base)

            async def run_build() -> None:
                await build(self.url_of(name))

            _run(run_build())
            self._templates[key] = name
        return self._templates[key]

    @contextmanager
    def clone(self, template: str) -> Iterator[str]:
        name = self.create(template)
        try:
            yield self.url_of(name)
        finally:
            self.drop(name)

    def drop_all(self) -> None:
        if self._alive:
            _run(
                self._execute(
                    *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in sorted(self._alive))
                )
            )
        self._alive.clear()
        self._templates.clear()
