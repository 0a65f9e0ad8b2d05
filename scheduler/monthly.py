"""The monthly push's job (`services.stats_push`): at `Deployment.monthly_time` on the 1st
of each month, in the deployment's zone (``/schedule monthly HH:MM|off``).

Like the other jobs it opens its own units of work and is safe to run twice (every push is
keyed), so the catch-up after downtime (`scheduler.runner.due_catch_up`) sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.i18n import Translator
from bot.render.charts import render_chart
from bot.render.stats import chart_data, stats_text
from domain.stats import StatsPeriod
from scheduler import jobs
from services.chasing import hold_until, load_rules
from services.stats import StatsReport
from services.stats_push import PushRun, run_monthly_push

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)


class _Render:
    """`services.stats_push.PushRender` on the bot's renderers."""

    def __init__(self, translator: Translator) -> None:
        self.tr = translator

    def t(self, key: str, language: str, /, **params: object) -> str:
        return self.tr.t(key, language, **params)

    def board_text(self, language: str, report: StatsReport, period: StatsPeriod) -> str:
        return stats_text(self.tr, language, report, period, ended=True)

    def chart(self, language: str, report: StatsReport) -> bytes:
        return render_chart(chart_data(self.tr, language, report))


async def monthly_now(app: AppContext, now: datetime | None = None) -> PushRun:
    """Queue the ended month's (and quarter's) scoreboards for every leader; nothing when
    ``/schedule monthly off``."""
    now = now or app.clock.now()
    async with app.db.reading() as session:
        rules = await load_rules(session)
    if not rules.monthly_time:
        return PushRun(leaders=0, queued=0)
    run = await run_monthly_push(
        app.db,
        now=now,
        tz=rules.tz,
        render=_Render(app.translator),
        default_language=app.settings.default_language,
        not_before=hold_until(now, rules),
    )
    log.info("monthly push: %s leaders, %s sets queued", run.leaders, run.queued)
    if app.notifier is not None:
        app.notifier.wake()
    return run


async def monthly_job(app_key: str) -> None:
    await monthly_now(jobs._APPS[app_key])  # the registry `jobs.bind` fills
