"""The terminal chat, driven with scripted input, against a bot polling the emulator."""

from __future__ import annotations

import asyncio

import pytest

from sandbox import Emulator
from sandbox.terminal import TerminalError, run_terminal_chat
from tests.sandbox.bots import echo_router, polling
from tests.sandbox.conftest import ALICE, BOB, TOKEN


class Script:
    """Feeds lines to the terminal, each once the output shows what it waits for."""

    def __init__(self, steps: list[tuple[str | None, str]]) -> None:
        self.steps = list(steps)
        self.lines: list[str] = []
        self.changed = asyncio.Event()

    def output(self, line: str) -> None:
        self.lines.append(line)
        self.changed.set()

    async def input(self, prompt: str) -> str:
        if not self.steps:
            raise EOFError
        wait_for, line = self.steps.pop(0)
        while wait_for is not None and not any(wait_for in seen for seen in self.lines):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 5)
        return line


async def test_terminal_chat(emu: Emulator) -> None:
    script = Script(
        [
            (None, "/start"),
            ("欢迎", "hello <b>"),
            ("hello <b>", "/menu"),
            ("[6.2] 用电隐患", "/menu"),
            ("[8.2] 用电隐患", "6.2"),  # the older menu's button, pressed by its number
            ("✏️ #6 已选 type:power", "火灾隐患"),  # by its text: the newest menu's
            ("✏️ #8 已选 type:fire", "/where"),
            ("<k1> 📍 发送位置", "k1"),  # the location key: no clash with 6.2 or 31.2, 121.5
            ("收到位置 39.9042", "31.2, 121.5"),
            ("收到位置 31.2000", ":photo"),
            ("收到照片", "9"),  # a bare number is text
            ("🤖 #18 9", ":who"),
            ("people:", "k3"),
            ("no key k3", "99.1"),
            ("no message 99", ":quit"),
        ]
    )
    async with polling(emu, TOKEN, echo_router()):
        await asyncio.wait_for(
            run_terminal_chat(emu.base_url, ALICE, script.input, script.output, poll_timeout=2),
            20,
        )
    text = "\n".join(script.lines)
    assert "🤖 #2 欢迎 Alice" in text  # HTML tags gone
    assert "🤖 #4 hello <b>" in text  # what the person typed, shown back as typed
    assert "   [6.1] 火灾隐患  [6.2] 用电隐患" in text
    assert "💬 已选择" in text
    assert any(line.startswith("🤖 #14 收到位置 31.2000") for line in script.lines)
    people = next(line for line in script.lines if line.startswith("people:"))
    assert f"{ALICE} Alice" in people
    assert "⚠️ no key k3; the keyboard: none" in text
    presses = [e.detail["data"] for e in emu.chat_transcript(ALICE) if e.kind == "press"]
    assert presses == ["type:power", "type:fire"]
    sent = [e.text for e in emu.chat_transcript(ALICE) if e.kind == "user"]
    assert "9" in sent and "6.2" not in sent and "k1" not in sent and "火灾隐患" not in sent


async def test_terminal_in_a_group_by_its_code(emu: Emulator) -> None:
    group = emu.create_group("一网格群", members=[ALICE, BOB])
    script = Script(
        [
            (None, "/menu"),
            ("[2.2] 用电隐患", "2.1"),
            ("已选 type:fire", ":quit"),
        ]
    )
    async with polling(emu, TOKEN, echo_router()):
        await asyncio.wait_for(
            run_terminal_chat(
                emu.base_url,
                ALICE,
                script.input,
                script.output,
                group="G-1",
                codes={"G-1": group.id},
                poll_timeout=2,
            ),
            20,
        )
    assert script.lines[0].startswith(f"— Alice ({ALICE}) in 一网格群")
    assert [e.text for e in emu.chat_transcript(group.id) if e.kind == "user"] == ["/menu"]
    assert [e.detail["data"] for e in emu.chat_transcript(group.id) if e.kind == "press"] == [
        "type:fire"
    ]


async def test_terminal_refuses_a_group_the_person_is_not_in(emu: Emulator) -> None:
    emu.create_group("一网格群", members=[ALICE])
    script = Script([])
    with pytest.raises(TerminalError, match="their groups: 一网格群 "):
        await run_terminal_chat(
            emu.base_url, ALICE, script.input, script.output, group="二网格群", poll_timeout=1
        )
    with pytest.raises(TerminalError, match="their groups: none"):
        await run_terminal_chat(
            emu.base_url, BOB, script.input, script.output, group="一网格群", poll_timeout=1
        )
    await run_terminal_chat(  # by (part of) its title
        emu.base_url, ALICE, script.input, script.output, group="一网格", poll_timeout=1
    )
    assert script.lines[-1].startswith(f"— Alice ({ALICE}) in 一网格群")


async def test_terminal_reports_errors_and_ends_on_eof(emu: Emulator) -> None:
    script = Script([(None, "5")])  # no buttons yet: sent as text, the bot is not running
    await asyncio.wait_for(
        run_terminal_chat(
            emu.base_url,
            7_500_000_099,
            script.input,
            script.output,
            first_name="Dora",
            poll_timeout=1,
        ),
        10,
    )
    assert script.lines[0].startswith("— Dora (7500000099)")
    assert emu.chat_transcript(7_500_000_099)[-1].text == "5"
