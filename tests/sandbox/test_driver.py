"""The conversation driver against a real aiogram Dispatcher polling the emulator."""

from __future__ import annotations

import asyncio
import inspect
import textwrap

import pytest
from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

import sandbox.driver
from sandbox import Emulator
from tests.sandbox.bots import echo_router, polling
from tests.sandbox.conftest import ALICE, BOB, TOKEN


async def test_echo_round_trip(emu: Emulator) -> None:
    async with polling(emu, TOKEN, echo_router()):
        alice = emu.user(ALICE)
        await alice.send("你好 <world>")
        reply = await alice.expect_reply(timeout=5)
        assert reply.text == "你好 <world>"  # escaped by the bot, shown as typed
        await alice.start("invite_7")
        welcome = await alice.expect_reply(contains="欢迎")
        assert welcome.text == "欢迎 Alice invite_7"
        assert welcome.entities[0]["type"] == "bold"


async def test_buttons_edits_and_answers(emu: Emulator) -> None:
    async with polling(emu, TOKEN, echo_router()):
        alice = emu.user(ALICE)
        await alice.send("/menu")
        menu = await alice.expect_reply(contains="隐患类型")
        assert menu.button_texts == ["火灾隐患", "用电隐患"]
        assert menu.button_data["用电隐患"] == "type:power"
        press = await alice.press("火灾隐患")
        edited = await alice.expect_reply(contains="描述")
        assert edited.edited and edited.message_id == menu.message_id
        assert edited.button_texts == []  # edit_text without markup drops the keyboard
        answer = await alice.expect_answer()
        assert answer.text == "已选择" and not answer.show_alert
        assert not isinstance(press, dict) and press.answered


async def test_reply_keyboard_location(emu: Emulator) -> None:
    async with polling(emu, TOKEN, echo_router()):
        alice = emu.user(ALICE)
        await alice.send("/where")
        ask = await alice.expect_reply(contains="位置")
        assert ask.keyboard[0][0]["request_location"]
        await alice.press("📍 发送位置", location=(31.23, 121.47))
        assert "31.2300" in await alice.expect_reply(contains="收到位置")
        await alice.send_photo()
        await alice.expect_reply(contains="收到照片")


async def test_expect_silence_and_timeout_shows_transcript(emu: Emulator) -> None:
    async with polling(emu, TOKEN, echo_router()):
        alice = emu.user(ALICE)
        await alice.send("/quiet")
        await alice.expect_silence()
        with pytest.raises(AssertionError, match=r"(?s)no bot reply containing 'never'.*/quiet"):
            await alice.expect_reply(contains="never", timeout=0.2)
        await alice.send("loud")
        with pytest.raises(AssertionError, match="expected silence"):
            await alice.expect_silence()


# Longer than the 0.3 s a negative check used to wait on the wall clock: a slow database, say.
SLOW = 0.6


def slow_router() -> Router:
    router = Router()

    @router.message(Command("slow"))
    async def slow(message: Message) -> None:
        await asyncio.sleep(SLOW)
        await message.answer("终于")

    @router.message(Command("tell"))
    async def tell(message: Message, bot: Bot) -> None:
        await asyncio.sleep(SLOW)
        await bot.send_message(int((message.text or "").split()[1]), "有人找您")

    @router.message(Command("twice"))
    async def twice(message: Message) -> None:
        await message.answer("已上报")
        await asyncio.sleep(SLOW)
        await message.answer("已上报")

    @router.message(Command("edit"))
    async def edit(message: Message) -> None:
        sent = await message.answer("已上报")
        await sent.edit_text("已上报，等待立案")
        await message.answer("请等待")

    return router


async def test_silence_is_read_after_a_slow_handler_has_answered(emu: Emulator) -> None:
    async with polling(emu, TOKEN, slow_router()):
        alice = emu.user(ALICE)
        await alice.send("/slow")
        with pytest.raises(AssertionError, match=r"(?s)expected silence.*终于"):
            await alice.expect_silence()


async def test_silence_waits_for_what_other_people_sent_too(emu: Emulator) -> None:
    async with polling(emu, TOKEN, slow_router()):
        alice, bob = emu.user(ALICE), emu.user(BOB)
        await alice.send("/quiet")
        await bob.send(f"/tell {ALICE}")
        with pytest.raises(AssertionError, match=r"(?s)expected silence.*有人找您"):
            await alice.expect_silence()


async def test_a_replayed_update_is_waited_for_though_its_id_was_confirmed(emu: Emulator) -> None:
    async with polling(emu, TOKEN, slow_router()):
        alice = emu.user(ALICE)
        mark = len(emu.bot.updates)
        await alice.send("/slow")
        first = dict(emu.bot.updates[mark])
        await alice.expect_reply(contains="终于", timeout=5)
        await alice.expect_silence()
        # Telegram delivers at least once: the same update again (this bot does not dedupe).
        emu.bot.updates.append(first)
        emu.bot.notifier.notify()
        with pytest.raises(AssertionError, match=r"(?s)expected silence.*终于"):
            await alice.expect_silence()


async def test_silence_cannot_pass_while_the_bot_has_not_confirmed(emu: Emulator) -> None:
    alice = emu.user(ALICE)  # no bot is polling: nothing sent can be called unanswered
    await alice.send("/quiet")
    with pytest.raises(AssertionError, match=r"did not confirm update\(s\) \[1\]"):
        await alice.expect_silence(timeout=0.2)


async def test_silence_waits_for_the_settlers(emu: Emulator) -> None:
    async with polling(emu, TOKEN, echo_router()) as bot:
        alice = emu.user(ALICE)
        outbox = [ALICE]

        async def send_the_outbox() -> None:  # a bot's own outbox, sent after handling
            while outbox:
                await bot.send_message(outbox.pop(), "日报")

        emu.settlers.append(send_the_outbox)
        await alice.send("/quiet")
        with pytest.raises(AssertionError, match=r"(?s)expected silence.*日报"):
            await alice.expect_silence()
        alice.skip_pending()
        await alice.expect_silence()  # the outbox is empty now


async def test_expect_once_finds_a_late_second_message(emu: Emulator) -> None:
    async with polling(emu, TOKEN, slow_router()):
        alice = emu.user(ALICE)
        await alice.send("/twice")
        with pytest.raises(AssertionError, match=r"(?s)expected one bot message.*got 2"):
            await alice.expect_once(contains="已上报")


async def test_expect_once_counts_messages_not_edits(emu: Emulator) -> None:
    async with polling(emu, TOKEN, slow_router()):
        alice = emu.user(ALICE)
        await alice.send("/edit")
        once = await alice.expect_once(contains="已上报")
        assert once.text == "已上报" and not once.edited
        # The edit of that same message is still there to read, then the next message.
        assert (await alice.expect_reply()).text == "已上报，等待立案"
        assert (await alice.expect_reply()).text == "请等待"


async def test_group_conversation(emu: Emulator) -> None:
    group = emu.create_group("一网格", members=[ALICE, BOB])
    async with polling(emu, TOKEN, echo_router()):
        alice = emu.user(ALICE).in_group(group)
        bob = emu.user(BOB).in_group(group)
        await alice.send("/start")
        assert (await alice.expect_reply()).chat_id == group.id
        # Bob has not consumed that reply yet: he sees it too
        assert "欢迎" in await bob.expect_reply()
        await alice.send("not addressed to the bot")
        await alice.expect_silence()


async def test_next_bot_message_at_the_emulator_level(emu: Emulator) -> None:
    async with polling(emu, TOKEN, echo_router()):
        mark = len(emu.log)
        emu.user_send(ALICE, "ping")
        entry = await emu.next_bot_message(ALICE, after=mark)
        assert entry.text == "ping" and entry.kind == "sent"
        with pytest.raises(AssertionError, match="no bot message"):
            await emu.next_bot_message(ALICE, after=entry.seq, timeout=0.2)


def test_the_docstring_example_runs() -> None:
    """The example in sandbox/driver.py is kept honest by running it."""
    doc = sandbox.driver.__doc__ or ""
    code = textwrap.dedent(doc[doc.index("    import asyncio") : doc.index("Rules of the road")])
    namespace: dict[str, object] = {}
    exec(compile(code, "sandbox/driver.py docstring", "exec"), namespace)
    example = namespace["test_report_flow"]
    assert inspect.iscoroutinefunction(example)
    asyncio.run(example())
