"""Two instances on one database: A handles the updates and runs no scheduler; B holds the
scheduler lock (a LIVE runner: the real lock, the real jobs). A change made on A moves B's jobs.

- PostgreSQL: A's `/schedule digest 19:00` and A's `gridbot import` send
  `NOTIFY gridbot_settings` in their transaction; B's listener (scheduler/changes.py) hears it
  on commit and reschedules at once. Also after B's listening connection is killed: it
  connects again and the next change still arrives.
- SQLite: nothing listens (one machine, usually one process); B keeps its times until its
  `refresh` job reads the database.

Each instance has its own Database (engine), AppContext and Runner, in this test's process.
The waits are on the listener's condition, with a timeout: never a sleep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import create_app
from bot.commands_cli import import_file
from bot.context import AppContext
from bot.settings import load_settings
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from scheduler import changes, jobs
from scheduler.changes import SettingsListener
from scheduler.runner import Mode, Runner
from storage.db import Database
from tests.conftest import ON_POSTGRES, scenario_path
from tests.e2e.conftest import DEFAULT_NOW, SHANGHAI
from tests.e2e.harness import ADMIN_TG_ID, TOKEN, World

HEARD_WITHIN = 15.0  # seconds; a notification arrives in milliseconds


@dataclass
class InstanceB:
    app: AppContext
    runner: Runner

    def digest_at(self) -> time:
        sched = self.runner.scheduler
        assert sched is not None
        job = sched.get_job("digest")
        assert job is not None
        local: time = job.next_run_time.astimezone(SHANGHAI).time()
        return local


@pytest.fixture
async def instance_a(emulator: Emulator, world_db_url: str) -> AsyncIterator[World]:
    """The instance people talk to: no scheduler here (RUN_SCHEDULER=false)."""
    world = World(emulator, world_db_url, ManualClock(DEFAULT_NOW), run_scheduler=False)
    await world.start()
    try:
        yield world
    finally:
        await world.stop()


@pytest.fixture
async def instance_b(emulator: Emulator, world_db_url: str) -> AsyncIterator[InstanceB]:
    """The instance that holds the scheduler lock, its jobs built from the database."""
    settings = load_settings(
        bot_token=TOKEN,
        database_url=world_db_url,
        telegram_api_base=emulator.base_url,
        admin_ids=frozenset({ADMIN_TG_ID}),
    )
    app = create_app(settings, clock=ManualClock(DEFAULT_NOW))
    runner = Runner(app, mode=Mode.LIVE)
    await runner.start()
    try:
        assert runner._task is not None
        await runner._task  # the lock taken, the jobs scheduled
        yield InstanceB(app, runner)
    finally:
        await runner.stop()
        await app.db.dispose()


def moved_file(tmp_path: Path, digest: str) -> Path:
    """The world's own scenario file with another digest time: what an import would bring."""
    source = scenario_path("fire-safety-5-level.yaml").read_text(encoding="utf-8")
    old = 'schedule: {digest: "18:00",'
    assert old in source
    path = tmp_path / "city.yaml"
    path.write_text(source.replace(old, f'schedule: {{digest: "{digest}",'), encoding="utf-8")
    return path


@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL's")
async def test_a_change_on_one_instance_moves_the_scheduler_on_the_other(
    instance_a: World, instance_b: InstanceB, tmp_path: Path
) -> None:
    a = instance_a.app
    assert a is not None and a.scheduler is None  # A cannot move anything itself
    assert instance_b.digest_at() == time(18, 0)
    listener = SettingsListener(instance_b.app)
    await listener.start()
    try:
        assert listener.connects == 1 and listener.backend_pid is not None

        admin = instance_a.user(ADMIN_TG_ID)
        await admin.send("/schedule digest 19:00")
        await admin.expect_reply(contains="日报 19:00")
        await listener.wait_for(lambda: instance_b.digest_at() == time(19, 0), HEARD_WITHIN)
        assert listener.heard >= 1

        # B's listening connection dies (a server restart, a failover): it comes back.
        probe = Database(instance_b.app.db.url)
        try:
            async with probe.session() as s:
                killed = await s.execute(
                    text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid}
                )
                assert killed.scalar() is True
        finally:
            await probe.dispose()
        await listener.wait_for(lambda: listener.connects == 2, HEARD_WITHIN)

        # An import (here on A, as `gridbot import` would) that moves the digest.
        heard = listener.heard
        lines = await import_file(a, moved_file(tmp_path, "20:30"))
        assert any("20:30" in line for line in lines), lines
        await listener.wait_for(lambda: instance_b.digest_at() == time(20, 30), HEARD_WITHIN)
        assert listener.heard > heard
    finally:
        await listener.stop()


@pytest.mark.sqlite_only("no LISTEN/NOTIFY on SQLite: the refresh job is the way across")
async def test_on_sqlite_the_other_instance_follows_at_its_refresh(
    instance_a: World, instance_b: InstanceB, tmp_path: Path
) -> None:
    assert instance_b.app.scheduler is instance_b.runner and instance_a.bot is not None
    assert await changes.start(instance_b.app, instance_a.bot) is None  # nothing listens
    admin = instance_a.user(ADMIN_TG_ID)
    await admin.send("/schedule digest 19:00")
    await admin.expect_reply(contains="日报 19:00")
    await instance_a.handled()  # A's unit of work committed
    assert instance_b.digest_at() == time(18, 0)  # saved; B has not read it yet
    await jobs.refresh_job(instance_b.runner.key)  # what fires every 5 minutes
    assert instance_b.digest_at() == time(19, 0)

    assert instance_a.app is not None
    await import_file(instance_a.app, moved_file(tmp_path, "20:30"))
    assert instance_b.digest_at() == time(19, 0)
    await jobs.refresh_job(instance_b.runner.key)
    assert instance_b.digest_at() == time(20, 30)
