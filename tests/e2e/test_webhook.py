"""The same bot in webhook mode: the emulator POSTs updates with the secret header.

Webhook mode never runs open (no start without WEBHOOK_SECRET), and its door parses each
body alone: garbage is refused with 400, an update aiogram's types reject is quarantined.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from sqlmodel import func, select

from bot.app import create_app
from bot.context import AppContext
from bot.runners import run_webhook
from bot.settings import load_settings
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from storage.models import ProcessedUpdate, QuarantinedUpdate
from storage.quarantine import quarantined_updates
from tests.e2e.conftest import DEFAULT_NOW
from tests.e2e.harness import TOKEN

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-for-tests"
HEAD = 800000020  # 林和东书记
GUARD = 810000001  # 保安巡查员


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def webhook_bot(emulator: Emulator, db_url: str) -> AsyncIterator[tuple[AppContext, str]]:
    """The bot serving its webhook (set at the emulator); yields the app and the hook's URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    settings = load_settings(
        bot_token=TOKEN,
        database_url=db_url,
        telegram_api_base=emulator.base_url,
        webhook_url=url,
        webhook_secret=SECRET,
        webhook_host="127.0.0.1",
        webhook_port=port,
        run_scheduler=False,
    )
    app = create_app(settings, clock=ManualClock(DEFAULT_NOW))
    bot = Bot(
        TOKEN,
        session=emulator.bot_session(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    stop = asyncio.Event()
    server = asyncio.create_task(run_webhook(app, bot, stop=stop))
    try:
        assert await emulator.bot.notifier.wait_for(lambda: emulator.bot.webhook, 20)
        yield app, url
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await server
        await bot.session.close()


async def table_counts(app: AppContext) -> tuple[int, int]:
    async with app.db.reading() as session:
        processed = (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
        kept = (await session.exec(select(func.count()).select_from(QuarantinedUpdate))).one()
    return int(processed), int(kept)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_webhook_mode_answers_start(emulator: Emulator, world_db_url: str) -> None:
    async with webhook_bot(emulator, world_db_url):
        head = emulator.user(HEAD)
        await head.send("/start")
        reply = await head.expect_reply(contains="林和东书记", timeout=20)
        assert "网格长" in reply.text
        hook = emulator.bot.webhook
        assert hook is not None and hook.secret_token == SECRET
        assert hook.url.endswith("/telegram/webhook")


async def test_webhook_mode_refuses_to_start_without_a_secret(
    emulator: Emulator, world_db_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "BOT_TOKEN"))}
    env.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        DATABASE_URL=world_db_url,
        TELEGRAM_API_BASE=emulator.base_url,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        WEBHOOK_PORT=str(port),
        RUN_SCHEDULER="false",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--webhook",
        cwd=tmp_path,  # no stray .env
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:  # it started open: the old behaviour
            proc.kill()
            await proc.wait()
    assert proc.returncode == 2, (out, err)
    line = err.decode().strip()
    assert line.startswith("gridbot: setting WEBHOOK_SECRET: required in webhook mode")
    assert "\n" not in line and "Traceback" not in line
    assert emulator.bot.webhook is None  # nothing was listening, nothing was registered


async def test_bodies_that_are_no_update_get_400_and_nothing_is_written(
    emulator: Emulator, world_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bodies = [
        b"",  # empty
        b'{"update_id": 5, "message": ',  # not JSON
        b"[1, 2, 3]",  # JSON, not an object
        b'{"hello": "world"}',  # an object, not an update
    ]

    async def post_all(url: str, secret: str) -> list[int]:
        statuses = []
        async with aiohttp.ClientSession() as http:
            for body in bodies:
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                async with http.post(url, data=body, headers=headers) as resp:
                    statuses.append(resp.status)
        return statuses

    async with webhook_bot(emulator, world_db_url) as (app, url):
        # the secret is checked first: a stranger learns nothing about bodies
        assert await post_all(url, "wrong-secret-0000") == [401] * 4
        assert not [r for r in caplog.records if r.name == "bot.intake"]
        assert await post_all(url, SECRET) == [400] * 4
        assert await table_counts(app) == (0, 0)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.intake"]
    assert len(warnings) == 4 and all("refused" in w and "\n" not in w for w in warnings)
    assert not tracebacks(caplog)


async def test_an_update_aiogram_rejects_is_quarantined_and_confirmed(
    emulator: Emulator, world_db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    outsider = emulator.user(7_500_000_321)
    message: dict[str, Any] = {
        "message_id": 4242,
        "date": 1773104400,
        "chat": {"id": outsider.id, "type": "private", "first_name": "Outsider"},
        "from": {"id": outsider.id, "is_bot": False, "first_name": "Outsider"},
    }
    old_audio = {"message": {**message, "audio": {"file_id": "old", "duration": 3}}}
    start = {**message, "text": "/start", "entities": [{"type": "bot_command", "offset": 0,
                                                         "length": 6}]}  # fmt: skip
    async with webhook_bot(emulator, world_db_url) as (app, _):
        head, guard = emulator.user(HEAD), emulator.user(GUARD)
        await head.send("/start")
        poisoned = emulator.inject_raw_update(old_audio)
        beyond = emulator.inject_raw_update({"update_id": 2**70, "message": start})
        await guard.send("/start")
        await head.expect_reply(contains="林和东书记", timeout=20)
        await guard.expect_reply(contains="保安巡查员", timeout=20)
        # every POST was answered 2xx: Telegram (the emulator) will not send them again
        assert await emulator.bot.notifier.wait_for(lambda: not emulator.bot.updates, 10)
        assert emulator.bot.webhook is not None and emulator.bot.webhook.last_error_date is None
        async with app.db.reading() as session:
            rows = list(await quarantined_updates(session))
    assert [(r.update_id, json.loads(r.raw)) for r in rows] == [
        (poisoned["update_id"], poisoned),
        (None, beyond),
    ]
    assert "message.audio.file_unique_id" in rows[0].reason
    assert "update_id" in rows[1].reason
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.intake"]
    assert len(warnings) == 2 and all("quarantined" in w and "\n" not in w for w in warnings)
    assert not tracebacks(caplog)
    assert not [e for e in outsider.transcript() if e.kind in ("sent", "edited")]
