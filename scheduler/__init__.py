"""The scheduler: nags, escalations and digests at the deployment's times (see runner.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiogram import Bot

    from bot.context import AppContext


async def start_scheduler(app: AppContext, bot: Bot) -> Callable[[], Awaitable[None]] | None:
    from scheduler.runner import start

    return await start(app, bot)
