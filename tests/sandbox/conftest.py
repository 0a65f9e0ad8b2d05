"""Fixtures for the emulator's own tests: an emulator with one bot, an aiogram Bot on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from sandbox import Emulator, FloodLimits, ManualClock

TOKEN = "7000000001:AAsandbox-test-token"
BOT_USERNAME = "gridbot_test_bot"
ALICE = 7_500_000_001  # ids beyond 32 bits, as real ones are now
BOB = 7_500_000_002
CAROL = 7_500_000_003


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def emu(clock: ManualClock) -> AsyncIterator[Emulator]:
    # Relaxed: these tests check each method's answers and send many messages to one chat on
    # a clock that does not move; Telegram's limits have their own tests (test_faults.py,
    # test_timing.py).
    async with Emulator(clock=clock, limits=FloodLimits.relaxed()) as emulator:
        emulator.add_bot(TOKEN, BOT_USERNAME, "网格通")
        # People who have opened the bot: these tests are about the methods, not about who
        # may be written to first (test_botapi.py and test_timing.py walk that).
        emulator.ensure_user(ALICE, "Alice", username="alice", started=True)
        emulator.ensure_user(BOB, "Bob", started=True)
        emulator.ensure_user(CAROL, "Carol", started=True)
        yield emulator


@pytest.fixture
async def bot(emu: Emulator) -> AsyncIterator[Bot]:
    b = Bot(TOKEN, session=emu.bot_session(timeout=5))
    yield b
    await b.session.close()
