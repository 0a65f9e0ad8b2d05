"""The conversation driver against a real aiogram Dispatcher polling the emulator."""

from __future__ import annotations

import pytest

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
        await alice.expect_silence(timeout=0.3)
        with pytest.raises(AssertionError, match=r"(?s)no bot reply containing 'never'.*/quiet"):
            await alice.expect_reply(contains="never", timeout=0.2)
        await alice.send("loud")
        with pytest.raises(AssertionError, match="expected silence"):
            await alice.expect_silence(timeout=2)


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
        await alice.expect_silence(timeout=0.3)


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
    import asyncio
    import textwrap

    import sandbox.driver

    doc = sandbox.driver.__doc__ or ""
    code = textwrap.dedent(doc[doc.index("    import asyncio") : doc.index("Rules of the road")])
    namespace: dict[str, object] = {}
    exec(compile(code, "sandbox/driver.py docstring", "exec"), namespace)
    asyncio.run(namespace["test_report_flow"]())  # type: ignore[operator]
