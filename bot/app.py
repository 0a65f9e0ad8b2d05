"""Building the application: the Bot, the Dispatcher and everything they share.

Tests, the demo and the runners all call these same factories.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.fsm.storage.memory import SimpleEventIsolation

from bot.callback_answers import EarlyAnswer
from bot.context import AppContext
from bot.i18n import Translator
from bot.intake import GridDispatcher, Intake
from bot.middlewares import Identify, UnitOfWork
from bot.quick_routing import enter_only_routers_in_play
from bot.settings import Settings
from bot.state_backend import conversation_storage
from bot.sync_filters import inline_sync_filters
from bot.telegram_calls import AnsweringUpdate
from domain.clock import Clock, SystemClock
from handlers import routers
from storage.db import Database


def create_bot(settings: Settings, token: str | None = None) -> Bot:
    secret = token or (settings.bot_token.get_secret_value() if settings.bot_token else None)
    if not secret:
        raise ValueError("BOT_TOKEN is not set")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(secret, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def create_app(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    """The app on the system clock, or on `clock` (tests): then its scheduler never fires."""
    return AppContext(
        settings=settings,
        db=Database(settings.database_url),
        translator=Translator(settings.default_language),
        clock=clock or SystemClock(),
        jobs_fire=clock is None,
    )


def create_dispatcher(
    app: AppContext,
    *,
    events_isolation: BaseEventIsolation | None = None,
    extra_routers: Sequence[Router] = (),
) -> Dispatcher:
    """Everything an update meets, freshly built; `extra_routers` (tests) claim updates after
    the features and before the fallback. `events_isolation` is bot.state_backend's: a Redis
    one (REDIS_URL) puts the conversation's state in Redis too; without it, the database."""
    # aiogram's FSM middleware is left off: the unit of work does its work (the lock on the
    # conversation, then the state: read by the update's first statement and written in its
    # transaction, or, in Redis, read before it and written after its commit).
    dp = GridDispatcher(
        Intake(app),
        storage=conversation_storage(app.db, events_isolation),
        events_isolation=events_isolation or SimpleEventIsolation(),
        disable_fsm=True,
        app=app,
    )
    dp.update.outer_middleware(UnitOfWork(app, dp.fsm))
    dp.update.outer_middleware(Identify(app))
    AnsweringUpdate(app).setup(dp)
    EarlyAnswer(app).setup(dp)
    dp.include_routers(*routers(extra=extra_routers))
    enter_only_routers_in_play(dp)
    inline_sync_filters(dp)
    return dp
