"""Fixtures for end-to-end tests; the harness itself is tests/e2e/harness.py."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
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
from tests.conftest import scenario_path
from tests.e2e.harness import BOT_USERNAME, TOKEN, World

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A plain Tuesday morning (not a holiday, not an adjusted working day).
DEFAULT_NOW = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario(name): scenario file imported for `world`")


@pytest.fixture(scope="session")
def imported_templates(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: Path
) -> dict[str, Path]:
    """Per scenario file, one migrated and imported database, copied for each test."""
    return {}


def _template_for(name: str, cache: dict[str, Path], base: Path, folder: Path) -> Path:
    if name in cache:
        return cache[name]
    path = folder / f"{name}.sqlite3"
    shutil.copy(base, path)

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        scenario = parse_scenario(scenario_path(name).read_text(encoding="utf-8"), source=name)
        async with db.session() as session:
            await apply_import(session, scenario, now=DEFAULT_NOW)
        await db.dispose()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(build())
    finally:
        loop.close()
    cache[name] = path
    return path


@pytest.fixture
def world_db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_template: Path,
    imported_templates: dict[str, Path],
) -> str:
    marker = request.node.get_closest_marker("scenario")
    name = marker.args[0] if marker else "fire-safety-5-level.yaml"
    template = _template_for(
        name, imported_templates, migrated_template, tmp_path_factory.getbasetemp()
    )
    target = tmp_path / "world.sqlite3"
    shutil.copy(template, target)
    return f"sqlite+aiosqlite:///{target}"


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
