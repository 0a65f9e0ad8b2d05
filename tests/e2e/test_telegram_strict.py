"""The bot against a Telegram as strict as the real one: a busy group's 20 messages a minute,
a callback's ~15 s answer window, and people who never opened the bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel import select

from domain.clock import ManualClock
from sandbox.emulator import Emulator
from sandbox.world import CALLBACK_ANSWER_WINDOW
from storage.models import Person
from tests.e2e.case_steps import (
    GUARD,
    GUARD2,
    GUARD2_LABEL,
    PIANQU_LEADER,
    accept_and_assign,
    meet,
    report,
    set_chat,
)
from tests.e2e.conftest import DEFAULT_NOW
from tests.e2e.harness import World

# --- a busy group -------------------------------------------------------------------------


async def test_a_busy_group_gets_a_reply_to_each_of_30_commands_in_a_minute(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    people = [7_600_000_000 + k for k in range(30)]
    group = world.emu.create_group("林和东第1片区网格群", members=people)
    await set_chat(world, chat_id=group.id, grid_code="LH-01-1")
    world.emu.think_time = 2.0  # 30 commands in a minute
    for k, tg_id in enumerate(people):
        await world.user(tg_id).in_group(group).send("/report" if k % 2 else "/patrol")

    def replies() -> list[dict[str, object]]:
        return [m for m in world.emu.bot_messages(group.id) if m.get("reply_markup")]

    await world.emu.changed.wait_for(lambda: len(replies()) >= 30, 60.0)
    watcher = world.user(people[-1]).in_group(group)
    watcher.skip_pending()
    await watcher.expect_silence()  # and no reply comes twice
    assert len(replies()) == 30, [m.get("text") for m in world.emu.bot_messages(group.id)]
    assert world.emu.stats.too_many_requests > 0  # the group's limit did bite
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- a callback's answer window -----------------------------------------------------------

released = asyncio.Event()
EMU_CLOCKS: list[ManualClock] = []  # the running emulator's clock, for the handlers below


async def slow_card(message: Message) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="慢", callback_data="slow:flood")],
            [InlineKeyboardButton(text="卡住", callback_data="slow:stuck")],
        ]
    )
    await message.answer("测试按钮", reply_markup=markup)


async def slow_flood(query: CallbackQuery, bot: Bot) -> None:
    # A send that meets flood control, then database work that takes a while: the handling
    # outlasts the press's window on Telegram's clock.
    await bot.send_message(query.from_user.id, "处理结果")
    EMU_CLOCKS[-1].advance(CALLBACK_ANSWER_WINDOW)
    await query.answer("已处理")  # too late to be shown: dropped, not an error


async def slow_stuck(query: CallbackQuery) -> None:
    await released.wait()  # the test lets it go once the press was answered
    await query.answer("迟到的回答")


def slow() -> Router:
    r = Router(name="slow-press")
    r.message.register(slow_card, Command("slowcard"))
    r.callback_query.register(slow_flood, F.data == "slow:flood")
    r.callback_query.register(slow_stuck, F.data == "slow:stuck")
    return r


@pytest.fixture
async def slow_world(emulator: Emulator, world_db_url: str) -> AsyncIterator[World]:
    assert isinstance(emulator.clock, ManualClock)
    EMU_CLOCKS.append(emulator.clock)
    w = World(emulator, world_db_url, ManualClock(DEFAULT_NOW), extra_routers=(slow,))
    await w.start()
    try:
        yield w
    finally:
        released.set()
        await w.stop()
        EMU_CLOCKS.remove(emulator.clock)


def _answers(world: World) -> list[tuple[int, str | None]]:
    return [(e.date, e.detail.get("text")) for e in world.emu.log if e.kind == "callback_answer"]


async def test_a_press_handled_longer_than_the_window_is_answered_in_time(
    slow_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    u = slow_world.user(GUARD)
    await u.send("/slowcard")
    await u.expect_reply(contains="测试按钮")
    slow_world.emu.faults.too_many_requests(1, retry_after=9, method="sendMessage")
    press = await u.press("慢")
    pressed_at = slow_world.emu.clock.time()  # the transcript's dates are on this clock
    await u.expect_reply(contains="处理结果")
    await u._settle(30.0, "the slow press")
    assert not isinstance(press, dict) and press.answered
    assert slow_world.emu.clock.time() - pressed_at > CALLBACK_ANSWER_WINDOW
    (answered_at, text), = _answers(slow_world)  # fmt: skip
    assert text is None  # the spinner stopped before the wait; the late text was dropped
    assert answered_at - pressed_at <= CALLBACK_ANSWER_WINDOW
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_press_stuck_past_the_budget_still_stops_the_spinner(
    slow_world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert slow_world.app is not None
    slow_world.app.answer_budget_s = 0.05
    released.clear()
    u = slow_world.user(GUARD)
    await u.send("/slowcard")
    await u.expect_reply(contains="测试按钮")
    await u.press("卡住")
    answer = await u.expect_answer()  # while the handler is still stuck
    assert answer.text is None
    released.set()
    await u._settle(30.0, "the stuck press")
    assert [text for _, text in _answers(slow_world)] == [None]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# --- people who never opened the bot --------------------------------------------------------


async def test_an_assignee_who_never_opened_the_bot_is_asked_in_the_group_and_the_leader_told(
    world: World,
) -> None:
    group = world.emu.create_group("林和东第1片区网格群", members=[GUARD, GUARD2, PIANQU_LEADER])
    await set_chat(world, chat_id=group.id, grid_code="LH-01-1")
    await meet(world, GUARD, PIANQU_LEADER)  # GUARD2 never opens the bot
    code = await report(world)
    await accept_and_assign(world, code, PIANQU_LEADER, GUARD2_LABEL)

    in_group = world.user(GUARD2).in_group(group)
    asked = await in_group.expect_reply(contains="无法私信您")
    (button,) = [b for row in asked.raw["reply_markup"]["inline_keyboard"] for b in row]
    assert button["url"].startswith(f"https://t.me/{world.emu.bot.username}?start=")
    leader = world.user(PIANQU_LEADER)
    await leader.expect_reply(contains="无法私信")
    async with world.db.reading() as s:
        guard2 = (await s.exec(select(Person).where(Person.tg_id == GUARD2))).one()
    assert guard2.reachable is False

    # They follow the link: reachable again, and the next push reaches them.
    await world.user(GUARD2).start("open")
    await world.user(GUARD2).expect_reply()
    async with world.db.reading() as s:
        guard2 = (await s.exec(select(Person).where(Person.tg_id == GUARD2))).one()
    assert guard2.reachable is True
