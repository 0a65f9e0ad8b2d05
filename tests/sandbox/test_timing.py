"""Telegram's timing and first contact: a callback's answer window, people who never pressed
Start, and people who take time to act."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import Emulator, ManualClock
from tests.sandbox.conftest import ALICE, TOKEN

STRANGER = 7_500_000_077
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"


async def _pressed(bot: Bot, emu: Emulator) -> str:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="受理", callback_data="accept:1")]]
    )
    await bot.send_message(ALICE, "案件", reply_markup=keyboard)
    press = emu.press(ALICE, "受理")
    assert not isinstance(press, dict)
    return press.id


async def test_a_callback_answered_within_the_window_is_shown(
    bot: Bot, emu: Emulator, clock: ManualClock
) -> None:
    query_id = await _pressed(bot, emu)
    clock.advance(14)
    assert await bot.answer_callback_query(query_id, text="已受理")
    assert (await emu.user(ALICE).expect_answer()).text == "已受理"


async def test_a_callback_answered_after_the_window_is_refused_as_telegram_does(
    bot: Bot, emu: Emulator, clock: ManualClock
) -> None:
    query_id = await _pressed(bot, emu)
    clock.advance(16)
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.answer_callback_query(query_id, text="已受理")
    assert refused.value.message == QUERY_TOO_OLD
    assert not [e for e in emu.log if e.kind == "callback_answer"]


async def test_people_have_not_started_the_bot_until_they_write_to_it(
    bot: Bot, emu: Emulator
) -> None:
    emu.ensure_user(STRANGER, "陌生人")
    group = emu.create_group("网格群", members=[ALICE, STRANGER])
    stranger = emu.user(STRANGER)
    stranger.transcript()  # looking at the chat is not opening it
    with pytest.raises(TelegramForbiddenError) as refused:
        await bot.send_message(STRANGER, "你好")
    assert refused.value.message == CANT_INITIATE
    await stranger.in_group(group).send("/report")  # a group message does not start the bot
    with pytest.raises(TelegramForbiddenError):
        await bot.send_message(STRANGER, "你好")
    await stranger.send("/start")
    assert (await bot.send_message(STRANGER, "你好")).chat.id == STRANGER


async def test_think_time_moves_a_manual_clock_once_per_act(
    bot: Bot, emu: Emulator, clock: ManualClock
) -> None:
    emu.think_time = 3.0
    alice = emu.user(ALICE)
    before = clock.monotonic()
    await alice.send("一")
    await alice.send_album(3)  # one act, however many items
    await bot.send_message(ALICE, "x", reply_markup=InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="好", callback_data="ok")]]
    ))  # fmt: skip
    press = await alice.press("好")
    assert not isinstance(press, dict)
    assert clock.monotonic() - before == 9.0
    assert press.pressed_at == clock.monotonic()


async def test_the_emulator_defaults_to_telegram_limits() -> None:
    async with Emulator(clock=ManualClock()) as emu:
        emu.add_bot(TOKEN)
        emu.ensure_user(ALICE, started=True)
        bot = Bot(TOKEN, session=emu.bot_session())
        try:
            sent = 0
            with pytest.raises(TelegramRetryAfter):
                for _ in range(5):
                    await bot.send_message(ALICE, "快")
                    sent += 1
            assert sent == 3  # one a second, a burst of three
        finally:
            await bot.session.close()
