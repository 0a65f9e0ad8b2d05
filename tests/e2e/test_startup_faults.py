"""`gridbot run` when what it needs is away at start: one line naming the setting and the
place (never a password or the token), exit code 1, no traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.e2e.harness import TOKEN
from tests.e2e.test_webhook import free_port

ROOT = Path(__file__).resolve().parents[2]


async def run_gridbot(cwd: Path, *args: str, **env_over: str) -> tuple[int, str]:
    """`gridbot run ARGS` to its end, in an environment of its own; its exit code and all it
    printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "REDIS_", "BOT_"))}
    env.update(PYTHONPATH=str(ROOT), BOT_TOKEN=TOKEN, RUN_SCHEDULER="false", **env_over)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, (out + err).decode()


def gridbot_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("gridbot:")]


async def test_a_database_that_is_away_is_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    code, output = await run_gridbot(
        tmp_path,
        DATABASE_URL=f"postgresql+asyncpg://gridbot:hunter2-secret@127.0.0.1:{port}/gridbot",
        TELEGRAM_API_BASE=f"http://127.0.0.1:{free_port()}",
    )
    assert code == 1, output
    lines = gridbot_lines(output)
    assert len(lines) == 1, output
    assert lines[0].startswith(
        f"gridbot: setting DATABASE_URL: cannot reach the database at "
        f"postgresql+asyncpg://gridbot:***@127.0.0.1:{port}/gridbot"
    )
    assert "Traceback" not in output and "hunter2" not in output


async def test_a_bot_api_that_is_away_is_one_line(tmp_path: Path, db_url: str) -> None:
    api = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, output = await run_gridbot(tmp_path, DATABASE_URL=db_url, TELEGRAM_API_BASE=api)
    assert code == 1, output
    lines = gridbot_lines(output)
    assert len(lines) == 1, output
    assert lines[0].startswith(f"gridbot: cannot reach the Bot API at {api}")
    assert "Traceback" not in output and TOKEN.split(":")[1] not in output
