"""What the notifier's e2e tests share: a bot on the emulator and the notifier on its clock.

The emulator's token buckets and the notifier's read the same ManualClock, and the notifier's
sleeps advance it, so a test of the rate limits runs on virtual time and reads its figures
from that clock (`emu.clock.monotonic()`), never from the wall."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot.notifier import Limits, OutboxNotifier
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from storage.db import Database

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


class VirtualTimer:
    """The notifier's timer on the emulator's manual clock: sleeping moves the clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock

    def monotonic(self) -> float:
        return self.clock.monotonic()

    async def sleep(self, seconds: float) -> None:
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
        db, bot, clock=ManualClock(NOW), limits=limits, timer=VirtualTimer(emu.clock)
    )
