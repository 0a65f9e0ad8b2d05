"""The README's no-token path: `gridbot demo` in one process, `gridbot chat` in another.

Both are started as a person would start them (subprocesses of `python -m bot`), in an empty
folder, with no BOT_TOKEN. The chat presses a reply key (`k1`), then a button of an older
message by its number (`3.2`), lists the people by role (`:who`); another chat enters a
group by its code (`--group`), where the demo's admin binds it with `/bind` and nothing else.
A second demo on the same port stops with one line, and leaves the first one's database be.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUARD = "810000001"  # 保安巡查员 of 林和东第1片区
ADMIN = "800000001"  # 区长, the scenario's first person: the demo's gridbot admin

pytestmark = pytest.mark.sqlite_only(
    "the demo runs on its own embedded SQLite file, as a person starts it"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT), RUN_SCHEDULER="false")
    return env


@dataclass
class Proc:
    proc: asyncio.subprocess.Process
    seen: list[str] = field(default_factory=list)

    async def read_until(self, needle: str) -> str:
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=60)
            if not line:
                raise AssertionError(f"ended before {needle!r}; got:\n" + "".join(self.seen))
            text = line.decode("utf-8", "replace")
            self.seen.append(text)
            if needle in text:
                return text

    async def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                await asyncio.wait_for(self.proc.wait(), timeout=15)
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()


async def gridbot(folder: Path, *args: str, stdin: bool = False) -> Proc:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=folder,
        env=_env(),
        stdin=asyncio.subprocess.PIPE if stdin else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return Proc(proc)


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Proc, int]]:
    """`gridbot run` without a token (the demo), up, its banner read."""
    port = _free_port()
    running = await gridbot(tmp_path, "run", "--port", str(port))
    try:
        await running.read_until("BOT_TOKEN is not set")
        # The banner and the bot's start-up log come in either order (polling starts first).
        for needle in ("gridbot started", "Ctrl-C stops the demo."):
            if not any(needle in line for line in running.seen):
                await running.read_until(needle)
        yield running, port
    finally:
        await running.stop()


async def test_demo_and_terminal_chat(demo: tuple[Proc, int], tmp_path: Path) -> None:
    running, port = demo
    banner = "".join(running.seen)
    assert f"database: {tmp_path / 'data' / 'demo.sqlite3'}" in banner
    assert f"web chat: http://127.0.0.1:{port}/chat/" in banner
    assert f"  {GUARD}  保安巡查员: 林和东第1片区·保安巡查员1" in banner
    assert f"  {ADMIN}  网格长: 区长 (admin)" in banner
    assert (tmp_path / "data" / "demo.sqlite3").exists()

    chat = await gridbot(tmp_path, "chat", "--as", GUARD, stdin=True)
    try:
        await chat.read_until(f"({GUARD}) in")
        await chat.type("/start")
        await chat.read_until("保安巡查员")
        await chat.read_until("<k1> 上报隐患")  # the reply keyboard: keys, not numbers
        await chat.type("k1")
        categories = await chat.read_until("请选择隐患类别")
        first = int(re.search(r"#(\d+) ", categories).group(1))  # type: ignore[union-attr]
        await chat.read_until(f"[{first}.1] 消防通道堵塞")
        await chat.type(f"{first}.1")  # message #first's button 1
        await chat.read_until("请用文字描述隐患情况")
        await chat.type(":who")
        roles = await chat.read_until("保安巡查员: ")
        assert f"{GUARD} 林和东第1片区·保安巡查员1" in roles
        await chat.read_until("★ gridbot admin")
        assert any(line.startswith("网格长: ") and f"{ADMIN} 区长★" in line for line in chat.seen)
        await chat.type(":quit")
        assert await asyncio.wait_for(chat.proc.wait(), timeout=30) == 0
    finally:
        await chat.stop()

    # A second demo on the same port, in the same folder: one line, and the running demo's
    # database is still there.
    again = await gridbot(tmp_path, "demo", "--port", str(port))
    assert await asyncio.wait_for(again.proc.wait(), timeout=60) == 1
    assert again.proc.stdout is not None
    out = (await again.proc.stdout.read()).decode()
    assert out.strip().splitlines() == [
        f"gridbot: port {port} on 127.0.0.1 is taken (another demo running?): "
        f"stop it, or start this one with --port {port + 1}"
    ]
    assert (tmp_path / "data" / "demo.sqlite3").exists()

    # `kill` stops the demo as Ctrl-C does: it says where it ran no more.
    assert (tmp_path / "data" / "demo.json").exists()
    await running.stop()
    assert running.proc.returncode == 0
    assert not (tmp_path / "data" / "demo.json").exists()
    gone = await gridbot(tmp_path, "chat", "--as", GUARD)
    assert await asyncio.wait_for(gone.proc.wait(), timeout=30) == 1
    assert gone.proc.stdout is not None
    assert (await gone.proc.stdout.read()).decode().strip() == (
        "gridbot: no demo is running here: start one with `gridbot demo` first"
    )


async def test_a_chat_with_a_demo_that_is_gone_says_so(tmp_path: Path) -> None:
    """data/demo.json left behind (the demo killed hard): one line, no traceback."""
    url = f"http://127.0.0.1:{_free_port()}"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demo.json").write_text(json.dumps({"emulator_url": url}))
    chat = await gridbot(tmp_path, "chat", "--as", GUARD)
    assert await asyncio.wait_for(chat.proc.wait(), timeout=30) == 1
    assert chat.proc.stdout is not None
    assert (await chat.proc.stdout.read()).decode().strip() == (
        f"gridbot: cannot reach the demo at {url}: is `gridbot demo` running?"
    )


async def test_terminal_chat_in_groups_and_the_admin_binds_one(
    demo: tuple[Proc, int], tmp_path: Path
) -> None:
    running, _ = demo
    banner = "".join(running.seen)
    duty = re.search(rf"chat --as {ADMIN} --group (\S+) +# (\S+): type /bind", banner)
    assert duty is not None, banner
    code, title = duty.groups()

    # The admin, in the department's duty group the demo made: /bind CODE binds it at once.
    admin = await gridbot(tmp_path, "chat", "--as", ADMIN, "--group", code, stdin=True)
    try:
        await admin.read_until(f"({ADMIN}) in {title}")
        await admin.type(f"/bind {code}")
        await admin.read_until(f"本群已绑定到职能部门 区消防大队（{code}）")
        await admin.type(":quit")
        assert await asyncio.wait_for(admin.proc.wait(), timeout=30) == 0
    finally:
        await admin.stop()

    # The guard in their grid's group, by the grid's code; and a group they are not in.
    guard = await gridbot(tmp_path, "chat", "--as", GUARD, "--group", "LH-01", stdin=True)
    try:
        await guard.read_until(f"({GUARD}) in 林和东社区网格群")
        await guard.type(":quit")
        assert await asyncio.wait_for(guard.proc.wait(), timeout=30) == 0
    finally:
        await guard.stop()
    lost = await gridbot(tmp_path, "chat", "--as", GUARD, "--group", code)
    assert await asyncio.wait_for(lost.proc.wait(), timeout=30) == 1
    assert lost.proc.stdout is not None
    out = (await lost.proc.stdout.read()).decode()
    assert f"gridbot: {GUARD} is not in a group {code!r}; their groups: 林和东社区网格群" in out


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_a_port_that_is_not_one_is_refused_in_one_line(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--port", port])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"gridbot demo: error: argument --port: {port!r} is not a port (1-65535)"
    )
