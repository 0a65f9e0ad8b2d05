"""What the notifier's e2e tests share: a bot on the emulator and the notifier on its clock.

The emulator's token buckets and the notifier's read the same ManualClock, and the notifier's
sleeps advance it, so a test of the rate limits runs on virtual time and reads its figures
from that clock (`emu.clock.monotonic()`), never from the wall."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod

from bot.notifier import Limits, OutboxNotifier
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from storage.db import Database

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


class VirtualTimer:
    """The notifier's timer on the emulator's manual clock: sleeping moves the clock.

    A call to Telegram takes no virtual time: while one is under way (given `bot`, its session
    counts them) a sleep waits for it to be answered before it moves the clock. Else a send
    that left at t would reach the emulator's flood control at a later clock reading, after
    the sleeps other sends took meanwhile in real time, and the figures would be this
    machine's speed (the database's above all), not the limits' arithmetic."""

    def __init__(self, clock: ManualClock, bot: Bot | None = None) -> None:
        self.clock = clock
        self.calls = 0
        self.quiet = asyncio.Event()
        self.quiet.set()
        if bot is not None:
            bot.session.middleware(self._count)

    async def _count(
        self, make_request: NextRequestMiddlewareType[Any], bot: Bot, method: TelegramMethod[Any]
    ) -> Any:
        self.calls += 1
        self.quiet.clear()
        try:
            return await make_request(bot, method)
        finally:
            self.calls -= 1
            if not self.calls:
                self.quiet.set()

    def monotonic(self) -> float:
        return self.clock.monotonic()

    async def sleep(self, seconds: float) -> None:
        await self.quiet.wait()
        if seconds > 0:
            self.clock.advance(seconds)
        await asyncio.sleep(0)


def html_bot(emu: Emulator, token: str) -> Bot:
    return Bot(
        token, session=emu.bot_session(), default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )


def virtual_notifier(
    db: Database, bot: Bot, emu: Emulator, limits: Limits = Limits()
) -> OutboxNotifier:
    """A notifier whose rate limits run on the emulator's manual clock."""
    assert isinstance(emu.clock, ManualClock)
    return OutboxNotifier(
        db, bot, clock=ManualClock(NOW), limits=limits, timer=VirtualTimer(emu.clock, bot)
    )
