"""Start-up and shut-down shared by polling, webhook, the demo and the tests."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher

from bot.background import start_background, stop_background
from bot.commands import set_command_menus
from bot.context import AppContext
from storage.migrate import ensure_current

log = logging.getLogger(__name__)


async def startup(app: AppContext, bot: Bot) -> None:
    """Refuse an old schema, learn who we are, publish menus, start background services."""
    await ensure_current(app.db)
    me = await bot.get_me()
    app.bot_username = me.username or ""
    await set_command_menus(bot, app.translator, app.settings.admin_ids)
    await start_background(app, bot)
    log.info("gridbot started as @%s", app.bot_username)


async def shutdown(app: AppContext, bot: Bot) -> None:
    await stop_background(app)
    await app.db.dispose()


def wire(dp: Dispatcher, app: AppContext) -> None:
    """Register startup/shutdown on the dispatcher (polling and webhook both fire them)."""

    async def _on_startup(bot: Bot) -> None:
        await startup(app, bot)

    async def _on_shutdown(bot: Bot) -> None:
        await shutdown(app, bot)

    dp.startup.register(_on_startup)
    dp.shutdown.register(_on_shutdown)
