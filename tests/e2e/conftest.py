"""Fixtures for end-to-end tests; the harness itself is tests/e2e/harness.py."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from domain.clock import ManualClock
from domain.scenario import parse_scenario
from sandbox.emulator import Emulator
from storage.db import Database
from storage.importer import apply_import
from storage.models import Person
from tests.conftest import ON_POSTGRES, scenario_path
from tests.e2e.harness import BOT_USERNAME, TOKEN, World
from tests.pg_databases import PgDatabases

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A plain Tuesday morning (not a holiday, not an adjusted working day).
DEFAULT_NOW = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario(name): scenario file imported for `world`")


@pytest.fixture(scope="session")
def imported_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Per scenario file, one migrated and imported SQLite file, copied for each test."""
    return {}


async def _import_into(url: str, name: str) -> None:
    db = Database(url)
    try:
        scenario = parse_scenario(scenario_path(name).read_text(encoding="utf-8"), source=name)
        async with db.session() as session:
            await apply_import(session, scenario, now=DEFAULT_NOW)
    finally:
        await db.dispose()


def _template_for(name: str, cache: dict[str, Path], base: Path, folder: Path) -> Path:
    if name in cache:
        return cache[name]
    path = folder / f"{name}.sqlite3"
    shutil.copy(base, path)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_import_into(f"sqlite+aiosqlite:///{path}", name))
    finally:
        loop.close()
    cache[name] = path
    return path


@pytest.fixture
def world_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with the test's scenario imported: a copy of a SQLite file imported
    once per scenario, or on the PostgreSQL pass a clone of an imported template database."""
    marker = request.node.get_closest_marker("scenario")
    name = marker.args[0] if marker else "fire-safety-5-level.yaml"
    if ON_POSTGRES:
        databases: PgDatabases = request.getfixturevalue("pg_databases")
        base: str = request.getfixturevalue("pg_migrated_template")

        async def build(url: str) -> None:
            await _import_into(url, name)

        with databases.clone(databases.template(f"imported:{name}", base, build)) as url:
            yield url
        return
    template = _template_for(
        name,
        request.getfixturevalue("imported_templates"),
        request.getfixturevalue("migrated_template"),
        request.getfixturevalue("tmp_path_factory").getbasetemp(),
    )
    target = tmp_path / "world.sqlite3"
    shutil.copy(template, target)
    yield f"sqlite+aiosqlite:///{target}"


# People read a reply and tap or type the next step in a few seconds at best; Telegram's
# per-chat limits are made for people, not for a test driver acting at machine speed.
THINK_TIME = 3.0


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    # Telegram's limits (the emulator's default) on the emulator's own manual clock, which
    # people's acts and the bot's waits move: strict, and nothing waits in real time.
    async with Emulator(clock=ManualClock(DEFAULT_NOW)) as emu:
        emu.think_time = THINK_TIME
        emu.add_bot(TOKEN, BOT_USERNAME)
        yield emu


@pytest.fixture
async def world(emulator: Emulator, world_db_url: str) -> AsyncIterator[World]:
    await _roster_on_telegram(emulator, world_db_url)
    w = World(emulator, world_db_url, ManualClock(DEFAULT_NOW))
    await w.start()
    try:
        yield w
    finally:
        await w.stop()


async def _roster_on_telegram(emu: Emulator, db_url: str) -> None:
    """Everyone on the imported roster has a Telegram account, as in life, and none of them
    has opened the bot yet: a push to them meets Telegram's 403, not "chat not found"."""
    db = Database(db_url)
    try:
        async with db.reading() as session:
            people = (await session.exec(select(Person.tg_id, Person.name))).all()
    finally:
        await db.dispose()
    for tg_id, name in people:
        if tg_id is not None and tg_id not in emu.users:
            emu.ensure_user(tg_id, first_name=name)
