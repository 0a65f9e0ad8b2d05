"""The scheduler's jobs: top-level functions that carry an id only (`app_key`).

Each job opens its own unit of work, calls the same services the handlers use, commits, and
wakes the notifier. They are safe to run twice (every push is keyed), so a retried job, a
catch-up after downtime or a second process queues nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.render.cases import CaseRender
from bot.render.digest import DigestButtonData
from services.chasing import ChasingTexts, Outcome, load_rules, run_daily, run_sweep
from services.digest import DigestRun, run_digests
from storage.housekeeping import forget_old_updates

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

_APPS: dict[str, AppContext] = {}


def bind(app: AppContext) -> str:
    """Register the app so jobs can find it by a primitive key."""
    key = f"app{id(app)}"
    _APPS[key] = app
    return key


def unbind(key: str) -> None:
    _APPS.pop(key, None)


def _texts(app: AppContext, tz: ZoneInfo) -> ChasingTexts:
    """What the chasing says, built as the handlers build theirs."""
    language = app.settings.default_language
    return ChasingTexts(
        t=app.translator.t,
        default_language=language,
        cases=CaseRender(app.translator, language, tz),
    )


def _wake(app: AppContext) -> None:
    if app.notifier is not None:
        app.notifier.wake()


async def digest_now(app: AppContext, now: datetime | None = None) -> DigestRun:
    now = now or app.clock.now()
    async with app.db.reading() as session:
        rules = await load_rules(session)
    run = await run_digests(
        app.db,
        now=now,
        tz=rules.tz,
        t=app.translator.t,
        buttons=DigestButtonData(),
        default_language=app.settings.default_language,
        quiet=rules.quiet,
    )
    log.info("digest: %s leaders, %s queued", run.leaders, run.queued)
    _wake(app)
    return run


async def nag_now(app: AppContext, now: datetime | None = None) -> Outcome:
    now = now or app.clock.now()
    async with app.db.reading() as session:
        rules = await load_rules(session, calendar=app.calendar)
    outcome = await run_daily(app.db, now=now, rules=rules, texts=_texts(app, rules.tz))
    log.info("nags: %s queued, %s escalated", len(outcome.queued), len(outcome.escalated))
    _wake(app)
    return outcome


async def sweep_now(app: AppContext, now: datetime | None = None) -> Outcome:
    now = now or app.clock.now()
    async with app.db.reading() as session:
        rules = await load_rules(session, calendar=app.calendar)
    outcome = await run_sweep(app.db, now=now, rules=rules, texts=_texts(app, rules.tz))
    async with app.db.session() as session:
        await forget_old_updates(session, now=now)
    _wake(app)
    return outcome


async def digest_job(app_key: str) -> None:
    await digest_now(_APPS[app_key])


async def nag_job(app_key: str) -> None:
    await nag_now(_APPS[app_key])


async def sweep_job(app_key: str) -> None:
    await sweep_now(_APPS[app_key])


async def refresh_job(app_key: str) -> None:
    """Pick up schedule changes made by another process."""
    app = _APPS[app_key]
    runner = app.scheduler
    if runner is not None:
        await runner.reschedule()
