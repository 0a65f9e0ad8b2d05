"""Injected faults and flood limits: what a notifier must survive."""

from __future__ import annotations

import asyncio

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
    async with Emulator(clock=clock, limits=FloodLimits.telegram()) as emu:
        emu.add_bot(TOKEN)
        emu.ensure_user(ALICE)
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            burst = int(FloodLimits.telegram().chat_burst)
            for k in range(burst):
                await bot.send_message(ALICE, f"m{k}")
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(ALICE, "too fast")
            assert info.value.retry_after == 1
            # another chat is not limited by this one
            emu.ensure_user(BOB)
            await bot.send_message(BOB, "fine")
            clock.advance(info.value.retry_after)
            await bot.send_message(ALICE, "after waiting")
            assert emu.stats.too_many_requests == 1
        finally:
            await bot.session.close()


async def test_ignoring_retry_after_is_throttled_harder(clock: ManualClock) -> None:
    async with Emulator(clock=clock, limits=FloodLimits.telegram()) as emu:
        emu.add_bot(TOKEN)
        emu.ensure_user(ALICE)
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            waits = []
            for _ in range(8):
                try:
                    await bot.send_message(ALICE, "spam")
                except TelegramRetryAfter as exc:
                    waits.append(exc.retry_after)
            assert waits == [1, 2, 3, 4, 5]
            assert emu.stats.too_many_requests == 5
            clock.advance(2)
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(ALICE, "still inside the longer window")
            clock.advance(10)
            await bot.send_message(ALICE, "patience pays")
        finally:
            await bot.session.close()


async def test_group_limit_twenty_a_minute(clock: ManualClock) -> None:
    limits = FloodLimits(chat_per_second=100, chat_burst=100)  # only the group limit bites
    async with Emulator(clock=clock, limits=limits) as emu:
        emu.add_bot(TOKEN)
        group = emu.create_group("群", members=[ALICE])
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            for k in range(20):
                await bot.send_message(group.id, f"m{k}")
            with pytest.raises(TelegramRetryAfter) as info:
                await bot.send_message(group.id, "21st")
            assert info.value.retry_after == 3  # one more token every 3 s
        finally:
            await bot.session.close()


async def test_global_limit_holds_in_the_relaxed_profile(clock: ManualClock) -> None:
    async with Emulator(clock=clock) as emu:  # relaxed by default
        emu.add_bot(TOKEN)
        users = [7_700_000_000 + k for k in range(31)]
        for uid in users:
            emu.ensure_user(uid)
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            await asyncio.gather(*(bot.send_message(uid, "digest") for uid in users[:30]))
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(users[30], "31st in the same second")
            clock.advance(1)
            await bot.send_message(users[30], "next second")
            # relaxed: a conversation may burst in one chat
            for k in range(20):
                await bot.send_message(ALICE if ALICE in emu.users else users[0], f"r{k}")
        finally:
            await bot.session.close()


async def test_unlimited_and_bad_requests_counted(bot: Bot, emu: Emulator) -> None:
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(ALICE, "")
    assert emu.stats.bad_requests == 1
    assert emu.stats.statuses[400] == 1
    assert FloodLimits.unlimited().enabled is False
    emu.ensure_user(CAROL)
