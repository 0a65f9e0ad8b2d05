"""Polling and webhook runners: they only start what `bot.app` builds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.webhook.aiohttp_server import setup_application
from aiohttp import web

from bot.app import create_dispatcher
from bot.context import AppContext
from bot.inbox_worker import InboxWorker, let_outages_through
from bot.intake import Intake, IntakeRequestHandler
from bot.lifecycle import wire
from bot.startup_heap import freeze_startup_heap
from bot.state_backend import close_isolation, open_isolation

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


def build(
    app: AppContext,
    *,
    extra_routers: Sequence[Router] = (),
    events_isolation: BaseEventIsolation | None = None,
) -> Dispatcher:
    dp = create_dispatcher(app, extra_routers=extra_routers, events_isolation=events_isolation)
    wire(dp, app)
    freeze_startup_heap()  # everything the bot needs is built: before the first update
    return dp


async def run_polling(app: AppContext, bot: Bot) -> None:
    isolation = await open_isolation(app.settings)  # Redis when REDIS_URL is set
    try:
        dp = build(app, events_isolation=isolation)
        await bot.delete_webhook(drop_pending_updates=False)
        await dp.start_polling(bot, handle_signals=False, polling_timeout=20)
    finally:
        await close_isolation(isolation)


async def run_webhook(app: AppContext, bot: Bot, *, stop: asyncio.Event | None = None) -> None:
    settings = app.settings
    url, secret = settings.check_webhook()
    isolation = await open_isolation(settings)  # Redis when REDIS_URL is set
    dp = build(app, events_isolation=isolation)
    let_outages_through(dp)  # the database or Redis away: the update waits in the inbox
    inbox = InboxWorker(app, dp, bot, workers=settings.inbox_workers)
    web_app = web.Application()
    door = IntakeRequestHandler(dp, bot, Intake(app), secret, wake=inbox.wake)
    door.register(web_app, path=WEBHOOK_PATH)
    setup_application(web_app, dp, bot=bot)
    runner = web.AppRunner(web_app)
    await runner.setup()  # start-up: the schema check, the notifier, the scheduler
    try:
        # Rows left from before (a crash, another instance) are handled before the door opens.
        await inbox.start()
        site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await site.start()
        await bot.set_webhook(
            url, secret_token=secret, allowed_updates=dp.resolve_used_update_types()
        )
        log.info("webhook listening on %s:%s", settings.webhook_host, settings.webhook_port)
        await (stop or asyncio.Event()).wait()
    finally:
        await inbox.stop()
        await runner.cleanup()
        await close_isolation(isolation)
