"""Scheduler wiring: when jobs may fire, their ids, times in the deployment's zone, options,
and which missed daily jobs a start-up catches up on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import create_app
from bot.settings import load_settings
from domain.clock import Clock, ManualClock
from scheduler import jobs, monthly
from scheduler.lock import AlwaysHeld, FileLock, lock_for
from scheduler.runner import (
    MISFIRE_GRACE,
    REFRESH_MINUTES,
    SWEEP_MINUTES,
    Mode,
    configure,
    due_catch_up,
    job_options,
    mode_for,
)
from services.chasing import Rules
from storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
RULES = Rules(tz=SH, digest_time="18:00", nag_time="09:30")


def local(d: int, hh: int, mm: int = 0, tz: ZoneInfo = SH) -> datetime:
    return datetime(2026, 3, d, hh, mm, tzinfo=tz)


# -- when jobs may fire -----------------------------------------------------------------------


def fires(clock: Clock | None) -> bool:
    """What `create_app` decides for an app on the system clock (None) or on `clock`."""
    return create_app(load_settings(), clock=clock).jobs_fire


def test_only_the_system_clock_fires_jobs() -> None:
    on = load_settings(run_scheduler=True)
    off = load_settings(run_scheduler=False)
    system, manual = fires(None), fires(ManualClock(local(10, 9)))
    assert mode_for(on, jobs_fire=system) is Mode.LIVE
    assert mode_for(on, jobs_fire=manual) is Mode.PAUSED  # tests: never fire
    assert mode_for(off, jobs_fire=system) is Mode.OFF
    assert mode_for(off, jobs_fire=manual) is Mode.OFF


def test_run_scheduler_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings().run_scheduler is True
    monkeypatch.setenv("RUN_SCHEDULER", "false")
    assert mode_for(load_settings(), jobs_fire=fires(None)) is Mode.OFF


# -- jobs, triggers, options ------------------------------------------------------------------


def configured(rules: Rules = RULES) -> AsyncIOScheduler:
    sched = AsyncIOScheduler(timezone=rules.tz)
    configure(sched, rules, "app-key")
    return sched


def test_job_ids_functions_and_arguments() -> None:
    found = {job.id: job for job in configured().get_jobs()}
    assert set(found) == {"digest", "nag", "monthly", "sweep", "refresh"}
    assert found["monthly"].func is monthly.monthly_job
    assert found["digest"].func is jobs.digest_job
    assert found["nag"].func is jobs.nag_job
    assert found["sweep"].func is jobs.sweep_job
    assert found["refresh"].func is jobs.refresh_job
    for job in found.values():
        assert job.args == ("app-key",)  # a primitive key, never the app itself
        assert job.name == job.id


def test_options_coalesce_one_instance_hours_of_grace() -> None:
    opts = job_options()
    assert opts["replace_existing"] is True
    assert opts["coalesce"] is True and opts["max_instances"] == 1
    assert MISFIRE_GRACE.total_seconds() >= 3600
    assert opts["misfire_grace_time"] == MISFIRE_GRACE.total_seconds()
    for job in configured().get_jobs():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == MISFIRE_GRACE.total_seconds()


def test_daily_jobs_fire_at_local_time_in_the_deployments_zone() -> None:
    found = {job.id: job for job in configured().get_jobs()}
    digest, nag = found["digest"].trigger, found["nag"].trigger
    assert isinstance(digest, CronTrigger) and isinstance(nag, CronTrigger)
    assert digest.timezone == SH
    morning = local(10, 8)
    assert digest.get_next_fire_time(None, morning) == local(10, 18)
    assert digest.get_next_fire_time(None, morning).astimezone(UTC).time() == time(10, 0)
    assert nag.get_next_fire_time(None, morning) == local(10, 9, 30)
    assert nag.get_next_fire_time(None, morning).astimezone(UTC).time() == time(1, 30)
    # past today's time: tomorrow's
    assert digest.get_next_fire_time(None, local(10, 18, 1)) == local(11, 18)


def test_a_deployment_elsewhere_keeps_its_own_wall_clock_over_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    rules = Rules(tz=berlin, digest_time="18:00", nag_time="09:30")
    digest = next(j for j in configured(rules).get_jobs() if j.id == "digest").trigger
    before = digest.get_next_fire_time(None, datetime(2026, 3, 28, 12, tzinfo=berlin))
    after = digest.get_next_fire_time(None, datetime(2026, 3, 30, 12, tzinfo=berlin))
    assert before.astimezone(UTC).time() == time(17, 0)  # CET
    assert after.astimezone(UTC).time() == time(16, 0)  # CEST: still 18:00 locally


def test_sweep_and_refresh_intervals() -> None:
    found = {job.id: job for job in configured().get_jobs()}
    sweep, refresh = found["sweep"].trigger, found["refresh"].trigger
    assert isinstance(sweep, IntervalTrigger) and isinstance(refresh, IntervalTrigger)
    assert sweep.interval == timedelta(minutes=SWEEP_MINUTES)
    assert refresh.interval == timedelta(minutes=REFRESH_MINUTES)


async def test_configuring_a_running_scheduler_again_replaces_the_jobs_in_place() -> None:
    sched = configured()
    sched.start(paused=True)  # as the runner does under an injected clock: nothing fires
    try:
        configure(sched, Rules(tz=SH, digest_time="19:00", nag_time="08:15"), "app-key")
        found = {job.id: job for job in sched.get_jobs()}
        assert len(sched.get_jobs()) == 5
        assert found["digest"].trigger.get_next_fire_time(None, local(10, 8)) == local(10, 19)
        assert found["nag"].trigger.get_next_fire_time(None, local(10, 8)) == local(10, 8, 15)
        assert found["digest"].next_run_time.astimezone(SH).time() == time(19, 0)
    finally:
        sched.shutdown(wait=False)


# -- catching up after downtime ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (local(10, 9, 29), []),
        (local(10, 9, 30), ["nag"]),  # on time
        (local(10, 12, 0), ["nag"]),  # down at 09:30, back at noon
        (local(10, 15, 29), ["nag"]),
        (local(10, 15, 30), []),  # grace over
        (local(10, 17, 59), []),
        (local(10, 18, 0), ["digest"]),
        (local(10, 23, 59), ["digest"]),  # down at 18:00, back before midnight
        (local(11, 0, 30), []),  # a new day: yesterday's digest is not sent after midnight
    ],
)
def test_catch_up_runs_todays_missed_jobs_within_the_grace(now: datetime, due: list[str]) -> None:
    assert due_catch_up(RULES, now) == due
    assert due_catch_up(RULES, now.astimezone(UTC)) == due  # whatever zone `now` is in


def test_catch_up_both_when_they_are_close() -> None:
    rules = Rules(tz=SH, digest_time="12:00", nag_time="09:30")
    assert due_catch_up(rules, local(10, 13)) == ["nag", "digest"]


def test_the_monthly_push_fires_on_the_first_at_its_local_time() -> None:
    rules = Rules(tz=SH, digest_time="18:00", nag_time="09:30", monthly_time="08:00")
    push = next(j for j in configured(rules).get_jobs() if j.id == "monthly").trigger
    assert isinstance(push, CronTrigger) and push.timezone == SH
    first = datetime(2026, 4, 1, 8, 0, tzinfo=SH)
    assert push.get_next_fire_time(None, local(10, 12)) == first
    assert first.astimezone(UTC) == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    assert push.get_next_fire_time(None, first + timedelta(minutes=1)) == first.replace(month=5)
    # Missed on the 1st: caught up within the grace, never on another day.
    assert "monthly" in due_catch_up(rules, first + timedelta(hours=3))
    assert "monthly" not in due_catch_up(rules, first + timedelta(hours=7))
    assert "monthly" not in due_catch_up(rules, first + timedelta(days=1))


async def test_switching_the_monthly_push_off_removes_its_job() -> None:
    sched = configured()
    sched.start(paused=True)
    try:
        assert sched.get_job("monthly") is not None
        configure(sched, Rules(tz=SH, monthly_time=""), "app-key")
        assert sched.get_job("monthly") is None
        assert {j.id for j in sched.get_jobs()} == {"digest", "nag", "sweep", "refresh"}
    finally:
        sched.shutdown(wait=False)


# -- one holder at a time ---------------------------------------------------------------------


async def test_file_lock_one_holder_then_the_next(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    assert await first.acquire()
    assert await first.acquire()  # already held: still True
    assert not await second.acquire()
    await first.release()
    assert await second.acquire()
    await second.release()


async def test_lock_kind_follows_the_database(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/g.sqlite3")
    try:
        lock = lock_for(db, "scheduler")
        assert isinstance(lock, FileLock) and lock.path == tmp_path / "g.sqlite3.scheduler.lock"
    finally:
        await db.dispose()
    assert await AlwaysHeld().acquire()
