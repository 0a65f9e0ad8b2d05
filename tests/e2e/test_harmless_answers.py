"""Telegram's answers to a handler's own calls: "already done" is no error, a 429 is waited out.

On fire-safety-5-level.yaml; 800000021 林和东专管员 walks a patrol of LH-01. A press is
handled in one unit of work: it commits (its update id is kept as processed) or it is rolled
back, and `committed` tells which after the bot has answered the press.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from sqlmodel import select

from domain.clock import ManualClock
from storage.models import Patrol, Person, ProcessedUpdate
from tests.e2e.harness import World

STAFF = 800000021
HERE = (23.1291, 113.2644)


class BotClockTimer:
    """The retry's waits on the bot's ManualClock: a wait moves it, no real time passes."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.clock.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)


def last_update_id(world: World) -> int:
    """The id of the update the person's last action queued."""
    return int(world.emu.bot.next_update_id) - 1


async def committed(world: World, update_id: int) -> bool:
    # Called once the bot has shown something of this update: its unit of work holds the write
    # lock from its first statement, so this write session waits for its commit or rollback.
    assert world.bot is not None
    async with world.db.session() as s:
        return await s.get(ProcessedUpdate, (world.bot.id, update_id)) is not None


async def the_patrol(world: World) -> Patrol:
    async with world.db.session() as s:
        person = (await s.exec(select(Person).where(Person.tg_id == STAFF))).one()
        return (await s.exec(select(Patrol).where(Patrol.person_id == person.id))).one()


def item_status(patrol: Patrol, name: str) -> str | None:
    return next(i["status"] for i in patrol.checklist["items"] if i["name"] == name)


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def start_patrol(u: Any) -> Any:
    await u.send("/patrol")
    await u.expect_reply(contains="发送您的当前位置")
    await u.press("📍 发送当前位置", location=HERE)
    await u.expect_reply(contains="已签到")
    return await u.expect_reply(contains="巡查检查项")


async def test_a_second_tap_on_the_same_ok_button_is_no_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram_calls")
    staff = world.user(STAFF)
    await start_patrol(staff)
    await staff.press("安全疏散 正常")
    await staff.expect_answer()
    await staff.expect_reply(contains="✅ 安全疏散")

    await staff.press("安全疏散 正常")  # the same button again: the card is already so
    second = last_update_id(world)
    answer = await staff.expect_answer()
    assert answer.text is None and not answer.show_alert
    assert await committed(world, second)
    assert "message is not modified" in caplog.text

    await staff.press("下一步 ▶")  # the patrol goes on from where it was
    await staff.expect_answer()
    await staff.expect_reply(contains="可以发送文字备注")
    patrol = await the_patrol(world)
    assert item_status(patrol, "安全疏散") == "ok"
    assert errors(caplog) == []


async def test_an_edit_of_a_card_deleted_meanwhile_keeps_the_step(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram_calls")
    staff = world.user(STAFF)
    card = await start_patrol(staff)
    await staff.press("用电 正常")
    pressed = last_update_id(world)
    # The person deletes the card while the press is on its way (either side may delete in a
    # private chat; the emulator has no user-side delete, so it is marked as deleteMessage
    # marks it). Nothing awaits between the press and this: the bot has not read it yet.
    staff.chat.messages[card.message_id].deleted = True
    await staff.expect_answer()
    assert await committed(world, pressed)
    assert item_status(await the_patrol(world), "用电") == "ok"
    assert "message to edit not found" in caplog.text
    assert errors(caplog) == []
    # A call outside any update (as the notifier's) still sees Telegram's answer.
    assert world.bot is not None
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await world.bot.edit_message_text("x", chat_id=staff.chat.id, message_id=card.message_id)


async def test_a_reply_that_meets_flood_control_arrives_after_the_wait(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert world.app is not None
    timer = BotClockTimer(world.clock)
    world.app.timer = timer
    staff = world.user(STAFF)
    await staff.send("/patrol")
    await staff.expect_reply(contains="发送您的当前位置")
    world.emu.faults.too_many_requests(1, retry_after=3, method="sendMessage")
    await staff.press("📍 发送当前位置", location=HERE)
    checked_in = last_update_id(world)
    await staff.expect_reply(contains="已签到")
    await staff.expect_reply(contains="巡查检查项")
    assert world.emu.stats.too_many_requests == 1
    assert timer.waits == [3]
    assert await committed(world, checked_in)
    patrol = await the_patrol(world)
    assert patrol.status == "open"
    assert errors(caplog) == []


async def test_a_press_whose_answer_and_edit_meet_flood_control_is_kept(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    assert world.app is not None
    timer = BotClockTimer(world.clock)
    world.app.timer = timer
    staff = world.user(STAFF)
    await start_patrol(staff)
    world.emu.faults.too_many_requests(1, retry_after=2, method="answerCallbackQuery")
    world.emu.faults.too_many_requests(1, retry_after=3, method="editMessageText")
    await staff.press("安全疏散 正常")
    pressed = last_update_id(world)
    answer = await staff.expect_answer()
    assert not answer.show_alert
    await staff.expect_reply(contains="✅ 安全疏散")
    assert world.emu.stats.too_many_requests == 2
    assert timer.waits == [2, 3]
    assert await committed(world, pressed)
    assert item_status(await the_patrol(world), "安全疏散") == "ok"
    assert errors(caplog) == []
