"""A real browser for the web chat's tests: Debian's headless Chromium driven by Playwright.

Playwright never downloads a browser here: it launches /usr/bin/chromium (`.ci/run` installs
it with apt-get when missing). Without it the tests skip and say so. `demo` is `gridbot demo`
started as a person starts it, in an empty folder, on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does)")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _read_until(stream: asyncio.StreamReader, needle: str, seen: list[str]) -> str:
    while True:
        line = await asyncio.wait_for(stream.readline(), timeout=90)
        if not line:
            raise AssertionError(f"ended before {needle!r}; got:\n" + "".join(seen))
        text = line.decode("utf-8", "replace")
        seen.append(text)
        if needle in text:
            return text


# 林和东社区 (LH-01) drawn around the spot the test's guard reports from (23.1291, 113.2644),
# and 林和西社区 (LH-02) as a circle beside it: the location picker draws them from the data.
FENCES = {
    "LH-01": "{polygon: [[23.135, 113.258], [23.135, 113.27], [23.124, 113.271], "
    "[23.123, 113.259]]}",
    "LH-02": "{center: [23.129, 113.250], radius_m: 500}",
}


def scenario_with_fences(folder: Path) -> Path:
    """The demo's own scenario, with the two grids' geofences added."""
    from bot.demo import default_scenario

    text = default_scenario().read_text(encoding="utf-8")
    for code, fence in FENCES.items():
        head = f"          - code: {code}\n"
        name = text.split(head, 1)[1].split("\n", 1)[0]
        text = text.replace(f"{head}{name}\n", f"{head}{name}\n            geofence: {fence}\n")
    path = folder / "demo-with-fences.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[str]:
    """The running demo's web chat URL (read from its banner), on the demo's scenario with
    two geofences."""
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    # The scheduler's own timers stay off (its start-up catch-up would nag everyone); the
    # web chat's clock runs the jobs itself when it jumps.
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT), RUN_SCHEDULER="false")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--scenario",
        str(scenario_with_fences(tmp_path)),
        "--port",
        str(_free_port()),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    seen: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        assert proc.stdout is not None
        banner = await _read_until(proc.stdout, "web chat:", seen)
        await _read_until(proc.stdout, "gridbot started", seen)
        stdout = proc.stdout

        async def keep_reading() -> None:  # a full pipe would stall the demo
            while line := await stdout.readline():
                seen.append(line.decode("utf-8", "replace"))

        drain = asyncio.create_task(keep_reading())
        yield banner.split("web chat:", 1)[1].split()[0]
    finally:
        if proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), timeout=15)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain
        # Shown by pytest when the test failed: what the demo logged.
        print("".join(seen[-200:]))
