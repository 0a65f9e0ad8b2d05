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
