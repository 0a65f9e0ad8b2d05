"""Injected faults and flood limits: what a notifier must survive."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from sandbox import Emulator, FloodLimits, ManualClock
from tests.sandbox.conftest import ALICE, BOB, CAROL, TOKEN


async def test_injected_429(bot: Bot, emu: Emulator) -> None:
    emu.faults.too_many_requests(2, retry_after=7)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(ALICE, "x")
        assert info.value.retry_after == 7
        assert "Original description: Too Many Requests: retry after 7" in info.value.message
    await bot.send_message(ALICE, "through")
    assert emu.stats.too_many_requests == 2
    assert emu.stats.count("sendMessage") == 3


async def test_injected_server_errors(bot: Bot, emu: Emulator) -> None:
    emu.faults.server_error(1, status=502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(ALICE, "x")
    emu.faults.server_error(1, status=502, html=True)
    with pytest.raises(ClientDecodeError):
        await bot.send_message(ALICE, "x")
    emu.faults.server_error(1, status=500, method="getMe")
    await bot.send_message(ALICE, "other methods pass")
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    assert emu.stats.server_errors == 3
    assert [e.text for e in emu.chat_transcript(ALICE)] == ["other methods pass"]


async def test_delay_beyond_the_client_timeout(emu: Emulator) -> None:
    impatient = Bot(TOKEN, session=emu.bot_session(timeout=0.2))
    try:
        emu.faults.delay(1.0, 1)  # applied at once, answered late: a duplicate in waiting
        with pytest.raises(TelegramNetworkError, match="Request timeout"):
            await impatient.send_message(ALICE, "maybe sent")
        assert [e.text for e in emu.chat_transcript(ALICE)] == ["maybe sent"]
        emu.faults.delay(1.0, 1, apply=False)
        with pytest.raises(TelegramNetworkError):
            await impatient.get_me()
    finally:
        await impatient.session.close()


async def test_blocked_and_deactivated(bot: Bot, emu: Emulator) -> None:
    emu.faults.block(ALICE)
    with pytest.raises(TelegramForbiddenError) as info:
        await bot.send_message(ALICE, "x")
    assert info.value.message == "Forbidden: bot was blocked by the user"
    emu.faults.unblock(ALICE)
    await bot.send_message(ALICE, "back")
    emu.faults.deactivate(BOB)
    with pytest.raises(TelegramForbiddenError, match="user is deactivated"):
        await bot.send_message(BOB, "x")
    assert emu.stats.forbidden == 2


async def test_user_blocking_sends_my_chat_member(bot: Bot, emu: Emulator) -> None:
    alice = emu.user(ALICE)
    await alice.block_bot()
    update = (await bot.get_updates())[-1]
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(ALICE, "x")


async def test_migrated_group(bot: Bot, emu: Emulator) -> None:
    group = emu.create_group("老群", members=[ALICE], admins=[BOB])
    new = emu.migrate_to_supergroup(group.id)
    with pytest.raises(TelegramMigrateToChat) as info:
        await bot.send_message(group.id, "x")
    assert info.value.migrate_to_chat_id == new.id
    assert "Original description: Bad Request: group chat was upgraded to a supergroup chat" in (
        info.value.message
    )
    msg = await bot.send_message(new.id, "到新群")
    assert msg.chat.type == "supergroup" and msg.chat.id == new.id


async def test_flood_one_chat_burst_then_refill(clock: ManualClock) -> None:
    async with Emulator(clock=clock) as emu:  # Telegram's limits by default
        emu.add_bot(TOKEN)
        emu.ensure_user(ALICE, started=True)
        emu.ensure_user(BOB, started=True)
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            burst = int(FloodLimits.telegram().chat_burst)
            for k in range(burst):
                await bot.send_message(ALICE, f"m{k}")
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(ALICE, "too fast")
            assert 1 <= info.value.retry_after <= 35
            # another chat is not limited by this one
            await bot.send_message(BOB, "fine")
            clock.advance(info.value.retry_after)
            await bot.send_message(ALICE, "after waiting")
            assert emu.stats.too_many_requests == 1
        finally:
            await bot.session.close()


async def _spam(clock: ManualClock, seed: int) -> list[int]:
    """retry_after answered to a bot that ignores it, on a fresh emulator seeded `seed`."""
    async with Emulator(clock=clock, limits=FloodLimits(seed=seed)) as emu:
        emu.add_bot(TOKEN)
        emu.ensure_user(ALICE, started=True)
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            waits = []
            for _ in range(8):
                try:
                    await bot.send_message(ALICE, "spam")
                except TelegramRetryAfter as exc:
                    waits.append(exc.retry_after)
            window = waits[-1]
            clock.advance(window - 1)
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(ALICE, "still inside the longer window")
            clock.advance(100)
            await bot.send_message(ALICE, "patience pays")
            return waits
        finally:
            await bot.session.close()


async def test_ignoring_retry_after_is_throttled_harder_reproducibly() -> None:
    waits = await _spam(ManualClock(), seed=7)
    assert len(waits) == 5  # the burst of 3 went through
    assert 1 <= waits[0] <= 35
    assert all(b > a for a, b in itertools.pairwise(waits))  # each call extends it
    assert await _spam(ManualClock(), seed=7) == waits  # seeded: the same run every time
    others = [await _spam(ManualClock(), seed=s) for s in range(1, 6)]
    assert any(o != waits for o in others)  # not one constant a client could be tuned to


async def test_group_limit_twenty_in_any_minute(clock: ManualClock) -> None:
    limits = FloodLimits(chat_per_second=100, chat_burst=100)  # only the group limit bites
    async with Emulator(clock=clock, limits=limits) as emu:
        emu.add_bot(TOKEN)
        group = emu.create_group("群", members=[ALICE])
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            for k in range(20):  # one every 2 s: 20 in the first 38 s
                await bot.send_message(group.id, f"m{k}")
                clock.advance(2)
            # 21st at 40 s: a bucket refilled at 1 per 3 s would let it through, but 20 were
            # sent in the last minute; the first of them leaves the window at 60 s.
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(group.id, "21st")
            assert 20 <= info.value.retry_after <= 35
            clock.advance(info.value.retry_after)
            await bot.send_message(group.id, "21st, after waiting")
        finally:
            await bot.session.close()


async def test_global_limit_thirty_in_any_second(clock: ManualClock) -> None:
    async with Emulator(clock=clock) as emu:
        emu.add_bot(TOKEN)
        users = [7_700_000_000 + k for k in range(31)]
        for uid in users:
            emu.ensure_user(uid, started=True)
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            await asyncio.gather(*(bot.send_message(uid, "digest") for uid in users[:30]))
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(users[30], "31st in the same second")
            clock.advance(info.value.retry_after)
            await bot.send_message(users[30], "after waiting")
        finally:
            await bot.session.close()


async def test_unlimited_and_bad_requests_counted(bot: Bot, emu: Emulator) -> None:
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(ALICE, "")
    assert emu.stats.bad_requests == 1
    assert emu.stats.statuses[400] == 1
    assert FloodLimits.unlimited().enabled is False
    emu.ensure_user(CAROL)
