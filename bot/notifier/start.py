"""The notifier as a background job of the bot process (bot/background.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING

from aiogram import Bot

from bot.notifier.limits import Limits, RealTimer
from bot.notifier.sender import OutboxNotifier
from scheduler.lock import lock_for
from services.groups import tell_unreachable

if TYPE_CHECKING:
    from bot.context import AppContext


async def _tell_unreachable(app: AppContext, person_id: int, cause: str) -> None:
    async with app.db.session() as session:
        await tell_unreachable(
            session,
            person_id=person_id,
            cause=cause,
            t=app.t,
            language=app.settings.default_language,
            deep_link=app.deep_link("open"),
            now=app.clock.now(),
        )


async def start_notifier(app: AppContext, bot: Bot) -> Callable[[], Awaitable[None]]:
    """Background starter (bot/background.py): one notifier per process, one sender at a time."""
    limits = app.notifier_limits or Limits().scaled(app.settings.notifier_rate_scale)
    timer = app.timer or RealTimer()
    notifier = OutboxNotifier(
        app.db,
        bot,
        clock=app.clock,
        limits=limits,
        timer=timer,
        lock=lock_for(app.db, "notifier"),
    )
    notifier.on_unreachable = partial(_tell_unreachable, app)
    app.notifier = notifier
    await notifier.start()

    async def stop() -> None:
        await notifier.stop()
        app.notifier = None

    return stop
