"""Long-running services beside the update handlers: the notifier, the scheduler and, on
PostgreSQL, its listener for settings changed by another instance (scheduler/changes.py), then
the forum-topic keeper (bot/forum_topics.py).
Start-up runs `STARTERS` in order and shut-down stops them in reverse."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiogram import Bot

from bot.context import AppContext
from bot.forum_topics import start_forum_keeper
from bot.notifier import start_notifier
from scheduler.changes import start as start_settings_listener
from scheduler.runner import start as start_scheduler

Stopper = Callable[[], Awaitable[None]]
Starter = Callable[[AppContext, Bot], Awaitable[Stopper | None]]

STARTERS: Final[tuple[Starter, ...]] = (
    start_notifier,
    start_scheduler,
    start_settings_listener,
    start_forum_keeper,
)


async def start_background(app: AppContext, bot: Bot) -> None:
    stoppers: list[Stopper] = []
    for starter in STARTERS:
        stopper = await starter(app, bot)
        if stopper is not None:
            stoppers.append(stopper)
    app.stoppers = stoppers


async def stop_background(app: AppContext) -> None:
    stoppers, app.stoppers = app.stoppers, []
    for stopper in reversed(stoppers):
        await stopper()
