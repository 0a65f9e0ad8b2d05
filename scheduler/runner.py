"""APScheduler 3 wiring: the deployment's times, in its zone, one scheduler at a time.

Jobs (ids are stable; `replace_existing` so a reschedule replaces them in place):

- `digest` at `Deployment.digest_time`, `nag` at `Deployment.nag_time` (cron, local time in
  `Deployment.timezone`, set explicitly on the scheduler and on each trigger);
- `monthly` at `Deployment.monthly_time` on the 1st of each month (the monthly and quarterly
  scoreboards, `scheduler/monthly.py`); no job when it is off;
- `sweep` every 15 minutes (reports nobody accepted, assignments nobody acknowledged);
- `refresh` every 5 minutes (a `/schedule` change made in another process).

All with `coalesce=True`, `max_instances=1` and a misfire grace of hours. The jobs live in
memory, so a bot that was down at 18:00 would not know it missed the digest: at start-up
`catch_up` runs today's digest and nag jobs (and on the 1st the monthly push) when their time
passed less than the grace ago
(running them twice sends nothing twice).

A process whose jobs fire freezes its start-up heap before the first update
(`bot.startup_heap.freeze_startup_heap`): a full garbage collection no longer walks it.

Only the holder of the `scheduler` lock (scheduler/lock.py) runs jobs; another process tries
to take over every `SCHEDULER_LOCK_RETRY_S` seconds (15 by default) and, once it holds the
lock, catches up as at start-up. It logs "scheduler: this process holds the lock" then.

When jobs fire (`mode_for`, the one rule):

- `RUN_SCHEDULER=false`: no scheduler in this process (a second webhook instance, a one-off
  process, the SIGKILL test); `/schedule` still saves the times for the process that runs it.
- the system clock (`AppContext.jobs_fire`, set by `bot.app.create_app`): LIVE, jobs fire at
  the deployment's times, with the catch-up above.
- an injected clock (tests, always a `ManualClock`; `jobs_fire` false): PAUSED. APScheduler
  reads the real wall clock, not ours, so its jobs would fire at real instants that mean
  nothing to the test.
  The scheduler is built and configured exactly as in LIVE (ids, triggers, options, so
  `/schedule` can be checked on it) but started paused: nothing ever fires, no lock is taken,
  no catch-up runs. Tests call the job functions (`scheduler.jobs.digest_now(app, now)`, ...)
  with the clock set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.startup_heap import freeze_startup_heap
from domain.schedule_times import parse_hhmm
from scheduler import jobs, monthly
from scheduler.lock import SingletonLock, lock_for
from services.chasing import Rules, load_rules

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram import Bot

    from bot.context import AppContext
    from bot.settings import Settings

log = logging.getLogger(__name__)

MISFIRE_GRACE = timedelta(hours=6)
SWEEP_MINUTES = 15
REFRESH_MINUTES = 5


class Mode(StrEnum):
    OFF = "off"
    LIVE = "live"
    PAUSED = "paused"


def mode_for(settings: Settings, *, jobs_fire: bool) -> Mode:
    """Whether this process schedules, and whether its jobs may fire (`AppContext.jobs_fire`,
    decided where the clock is chosen; see the module doc)."""
    if not settings.run_scheduler:
        return Mode.OFF
    return Mode.LIVE if jobs_fire else Mode.PAUSED


def job_options() -> dict[str, Any]:
    return {
        "replace_existing": True,
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": int(MISFIRE_GRACE.total_seconds()),
    }


def configure(scheduler: AsyncIOScheduler, rules: Rules, app_key: str) -> None:
    """(Re)define every job from the rules. Safe to call again at any time."""
    tz = rules.tz
    for job_id, func, hhmm in (
        ("digest", jobs.digest_job, rules.digest_time),
        ("nag", jobs.nag_job, rules.nag_time),
    ):
        at = parse_hhmm(hhmm)
        scheduler.add_job(
            func,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=tz),
            id=job_id,
            name=job_id,
            args=[app_key],
            **job_options(),
        )
    if rules.monthly_time:
        at = parse_hhmm(rules.monthly_time)
        scheduler.add_job(
            monthly.monthly_job,
            CronTrigger(day=1, hour=at.hour, minute=at.minute, timezone=tz),
            id="monthly",
            name="monthly",
            args=[app_key],
            **job_options(),
        )
    elif scheduler.get_job("monthly") is not None:
        scheduler.remove_job("monthly")
    scheduler.add_job(
        jobs.sweep_job,
        IntervalTrigger(minutes=SWEEP_MINUTES, timezone=tz),
        id="sweep",
        name="sweep",
        args=[app_key],
        **job_options(),
    )
    scheduler.add_job(
        jobs.refresh_job,
        IntervalTrigger(minutes=REFRESH_MINUTES, timezone=tz),
        id="refresh",
        name="refresh",
        args=[app_key],
        **job_options(),
    )


def due_catch_up(rules: Rules, now: datetime) -> list[str]:
    """Which daily jobs ran (or should have) earlier today within the grace: run them now.

    Only today's (local) times count: a digest missed before midnight is not sent after it,
    since its figures and its key are the day's."""
    local = now.astimezone(rules.tz)
    out = []
    for job_id, hhmm in (("nag", rules.nag_time), ("digest", rules.digest_time)):
        at = datetime.combine(local.date(), parse_hhmm(hhmm), tzinfo=rules.tz)
        if at <= local < at + MISFIRE_GRACE:
            out.append(job_id)
    if rules.monthly_time and local.day == 1:
        at = datetime.combine(local.date(), parse_hhmm(rules.monthly_time), tzinfo=rules.tz)
        if at <= local < at + MISFIRE_GRACE:
            out.append("monthly")
    return out


class Runner:
    def __init__(
        self, app: AppContext, *, lock: SingletonLock | None = None, mode: Mode | None = None
    ) -> None:
        self.app = app
        self.mode = mode or mode_for(app.settings, jobs_fire=app.jobs_fire)
        self.lock = lock or lock_for(app.db, "scheduler")
        self.key = jobs.bind(app)
        self.scheduler: AsyncIOScheduler | None = None
        self.rules: Rules | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        return self.mode is Mode.LIVE

    async def start(self) -> None:
        self.app.scheduler = self
        if self.mode is Mode.LIVE:
            self._task = asyncio.create_task(self._take_over(), name="gridbot-scheduler")
        elif self.mode is Mode.PAUSED:
            await self._build(paused=True)

    async def _build(self, *, paused: bool) -> Rules:
        async with self.app.db.reading() as session:
            rules = await load_rules(session)
        self.rules = rules
        self.scheduler = AsyncIOScheduler(timezone=rules.tz)
        configure(self.scheduler, rules, self.key)
        self.scheduler.start(paused=paused)
        log.info(
            "scheduler%s: digest %s, nag %s (%s)",
            " (paused: injected clock)" if paused else "",
            rules.digest_time,
            rules.nag_time,
            rules.tz,
        )
        return rules

    async def _take_over(self) -> None:
        retry = self.app.settings.scheduler_lock_retry_s
        told = False
        while not await self.lock.acquire():  # another process holds it: try again now and then
            if not told:
                log.info("scheduler: another process holds the lock; trying every %s s", retry)
                told = True
            await asyncio.sleep(retry)
        log.info("scheduler: this process holds the lock")
        rules = await self._build(paused=False)
        for job_id in due_catch_up(rules, self.app.clock.now()):
            log.info("scheduler: catching up on today's %s", job_id)
            try:
                if job_id == "nag":
                    await jobs.nag_now(self.app)
                elif job_id == "monthly":
                    await monthly.monthly_now(self.app)
                else:
                    await jobs.digest_now(self.app)
            except Exception:
                log.exception("scheduler: catch-up %s failed", job_id)

    async def reschedule(self, rules: Rules | None = None) -> None:
        """Apply new times without a restart (from `/schedule`, or read from the database)."""
        if rules is None:
            async with self.app.db.reading() as session:
                rules = await load_rules(session)
        if self.scheduler is None or rules == self.rules:
            self.rules = rules
            return
        if self.rules is not None and rules.tz != self.rules.tz:
            self.scheduler.configure(timezone=rules.tz)  # pragma: no cover - zone changes
        self.rules = rules
        configure(self.scheduler, rules, self.key)
        log.info(
            "scheduler: now digest %s, nag %s, monthly %s",
            rules.digest_time,
            rules.nag_time,
            rules.monthly_time or "off",
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
        if self.mode is Mode.LIVE:
            await self.lock.release()
        jobs.unbind(self.key)
        self.app.scheduler = None


async def start(app: AppContext, bot: Bot) -> Callable[[], Awaitable[None]] | None:
    """Background starter (bot/background.py): the scheduler in the mode `mode_for` says."""
    mode = mode_for(app.settings, jobs_fire=app.jobs_fire)
    if mode is Mode.OFF:
        return None
    if mode is Mode.LIVE:
        freeze_startup_heap()  # before the first update and the first job
    runner = Runner(app, mode=mode)
    await runner.start()
    return runner.stop
