"""Fixtures every kind of test shares: a fresh, migrated database per test, scenario paths.

The database is SQLite unless GRIDBOT_TEST_DB=postgres: then `db_url` (and e2e's
`world_db_url`) is a fresh PostgreSQL database on the server at GRIDBOT_TEST_PG_URL, cloned
from a migrated template database with `CREATE DATABASE ... TEMPLATE` and dropped after the
test. A test that can only run on SQLite says why: `@pytest.mark.sqlite_only("why")`; the
PostgreSQL pass skips it with that reason.

No test may reach Telegram: the network guard below refuses any connection that is not to
this machine.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage.db import Database
from storage.migrate import upgrade
from tests.pg_databases import PgDatabases

ROOT = Path(__file__).resolve().parent.parent
SHARED_SCENARIOS = ROOT.parent / "shared" / "scenarios"
BUNDLED = ROOT / "bot" / "demo_data"

TEST_DB = os.environ.get("GRIDBOT_TEST_DB", "sqlite")
ON_POSTGRES = TEST_DB == "postgres"


def scenario_path(name: str) -> Path:
    for folder in (SHARED_SCENARIOS, BUNDLED):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(why): runs on SQLite only; the PostgreSQL pass skips it, saying why"
    )
    if TEST_DB not in ("sqlite", "postgres"):
        raise pytest.UsageError(f"GRIDBOT_TEST_DB is {TEST_DB!r}: 'sqlite' or 'postgres'")
    if ON_POSTGRES and not os.environ.get("GRIDBOT_TEST_PG_URL"):
        raise pytest.UsageError(
            "GRIDBOT_TEST_DB=postgres needs a server: set GRIDBOT_TEST_PG_URL, or run"
            " `python3 dev.py test --postgres`"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is None:
            continue
        if not marker.args or not str(marker.args[0]).strip():
            raise pytest.UsageError(f"{item.nodeid}: sqlite_only needs its reason")
        if ON_POSTGRES:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {marker.args[0]}"))


@pytest.fixture(autouse=True)
def _no_outside_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"tests must not reach the network (tried {address!r})")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for every test (migrating each time is slow)."""
    import asyncio

    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    """The PostgreSQL pass's databases: templates built once, a clone per test."""
    url = os.environ.get("GRIDBOT_TEST_PG_URL")
    assert url is not None
    databases = PgDatabases(url)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def pg_migrated_template(pg_databases: PgDatabases) -> str:
    """One migrated PostgreSQL database, the template of every test's database."""

    async def migrate(url: str) -> None:
        db = Database(url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    return pg_databases.template("migrated", None, migrate)


@pytest.fixture
def new_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """A factory of empty (not migrated) databases of the pass's backend, gone after the test."""

    def make(name: str) -> str:
        if not ON_POSTGRES:
            return f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite3'}"
        databases: PgDatabases = request.getfixturevalue("pg_databases")
        db_name = databases.create(None)
        request.addfinalizer(lambda: databases.drop(db_name))
        return databases.url_of(db_name)

    return make


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test: a copied SQLite file, or a PostgreSQL clone."""
    if ON_POSTGRES:
        databases: PgDatabases = request.getfixturevalue("pg_databases")
        with databases.clone(request.getfixturevalue("pg_migrated_template")) as url:
            yield url
        return
    target = tmp_path / "gridbot.sqlite3"
    shutil.copy(request.getfixturevalue("migrated_template"), target)
    yield f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()
