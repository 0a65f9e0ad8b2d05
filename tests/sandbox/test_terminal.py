"""The terminal chat, driven with scripted input, against a bot polling the emulator."""

from __future__ import annotations

import asyncio

from sandbox import Emulator
from sandbox.terminal import run_terminal_chat
from tests.sandbox.bots import echo_router, polling
from tests.sandbox.conftest import ALICE, TOKEN


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
            ("[2] 用电隐患", "2"),
            ("请描述隐患", "/where"),
            ("<1> 📍 发送位置", "1"),
            ("收到位置 39.9042", "31.2, 121.5"),
            ("收到位置 31.2000", ":photo"),
            ("收到照片", "9"),
            ("收到照片", ":quit"),
        ]
    )
    async with polling(emu, TOKEN, echo_router()):
        await asyncio.wait_for(
            run_terminal_chat(emu.base_url, ALICE, script.input, script.output, poll_timeout=2),
            20,
        )
    text = "\n".join(script.lines)
    assert "🤖 欢迎 Alice" in text  # HTML tags gone
    assert "🤖 hello <b>" in text  # what the person typed, shown back as typed
    assert "   [1] 火灾隐患  [2] 用电隐患" in text
    assert "✏️ 已选 type:power，请描述隐患" in text
    assert "💬 已选择" in text
    assert any(line.startswith("🤖 收到位置 31.2000") for line in script.lines)


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
