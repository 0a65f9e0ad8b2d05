"""The README's no-token path: `gridbot demo` in one process, `gridbot chat` in another.

Both are started as a person would start them (subprocesses of `python -m bot`), in an empty
folder, with no BOT_TOKEN; the chat types `/start`, then presses the menu's first button by
its number, as a person at the keyboard would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _read_until(stream: asyncio.StreamReader, needle: str, seen: list[str]) -> str:
    while True:
        line = await asyncio.wait_for(stream.readline(), timeout=60)
        if not line:
            raise AssertionError(f"ended before {needle!r}; got:\n" + "".join(seen))
        text = line.decode("utf-8", "replace")
        seen.append(text)
        if needle in text:
            return text


async def test_demo_and_terminal_chat(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT), RUN_SCHEDULER="false")
    port = _free_port()
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    demo_out: list[str] = []
    chat = None
    try:
        assert demo.stdout is not None
        await _read_until(demo.stdout, "BOT_TOKEN is not set", demo_out)
        await _read_until(demo.stdout, "gridbot started", demo_out)
        assert (tmp_path / "data" / "demo.sqlite3").exists()
        chat = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "chat",
            "--as",
            "810000001",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert chat.stdin is not None and chat.stdout is not None
        seen: list[str] = []
        await _read_until(chat.stdout, "810000001", seen)
        chat.stdin.write(b"/start\n")
        await chat.stdin.drain()
        await _read_until(chat.stdout, "保安巡查员", seen)
        await _read_until(chat.stdout, "上报隐患", seen)  # the menu's buttons, numbered
        chat.stdin.write(b"1\n")  # press 上报隐患
        await chat.stdin.drain()
        await _read_until(chat.stdout, "请选择隐患类别", seen)
        chat.stdin.write(b":quit\n")
        await chat.stdin.drain()
        assert await asyncio.wait_for(chat.wait(), timeout=30) == 0
    finally:
        for proc in (chat, demo):
            if proc is not None and proc.returncode is None:
                proc.terminate()
                with contextlib.suppress(TimeoutError, ProcessLookupError):
                    await asyncio.wait_for(proc.wait(), timeout=15)
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
