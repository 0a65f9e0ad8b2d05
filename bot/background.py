"""Long-running services beside the update handlers (the notifier, the scheduler).

Each feature adds a starter to `STARTERS`; start-up runs them in order and shut-down stops
them in reverse.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot

from bot.context import AppContext

Stopper = Callable[[], Awaitable[None]]
Starter = Callable[[AppContext, Bot], Awaitable[Stopper | None]]

STARTERS: list[Starter] = []


async def _start_notifier(app: AppContext, bot: Bot) -> Stopper | None:
    from bot.notifier import start_notifier

    return await start_notifier(app, bot)


async def _start_scheduler(app: AppContext, bot: Bot) -> Stopper | None:
    from scheduler import start_scheduler

    return await start_scheduler(app, bot)


STARTERS.extend([_start_notifier, _start_scheduler])


async def start_background(app: AppContext, bot: Bot) -> None:
    stoppers: list[Stopper] = []
    for starter in STARTERS:
        stopper = await starter(app, bot)
        if stopper is not None:
            stoppers.append(stopper)
    app.extras["stoppers"] = stoppers


async def stop_background(app: AppContext) -> None:
    for stopper in reversed(app.extras.pop("stoppers", [])):
        await stopper()
