"""The same bot in webhook mode: the emulator POSTs updates with the secret header."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode

from bot.app import create_app
from bot.runners import run_webhook
from bot.settings import load_settings
from domain.clock import ManualClock
from sandbox.emulator import Emulator
from tests.e2e.conftest import DEFAULT_NOW
from tests.e2e.harness import TOKEN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_mode_answers_start(emulator: Emulator, world_db_url: str) -> None:
    port = free_port()
    settings = load_settings(
        bot_token=TOKEN,
        database_url=world_db_url,
        telegram_api_base=emulator.base_url,
        webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
        webhook_secret="s3cret-for-tests",
        webhook_host="127.0.0.1",
        webhook_port=port,
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
        head = emulator.user(800000020)
        # Sent before or after the webhook is set: the emulator holds it and then POSTs it.
        await head.send("/start")
        reply = await head.expect_reply(contains="林和东书记", timeout=20)
        assert "网格长" in reply.text
        hook = emulator.bot.webhook
        assert hook is not None and hook.secret_token == "s3cret-for-tests"
        assert hook.url.endswith("/telegram/webhook")
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await server
        await bot.session.close()
