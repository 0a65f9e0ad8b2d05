"""getUpdates (offset, timeout, limit, allowed_updates) and webhook mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from sandbox import Emulator
from tests.sandbox.conftest import ALICE, BOB


async def test_offset_confirms_and_limit(bot: Bot, emu: Emulator) -> None:
    for k in range(5):
        emu.user_send(ALICE, f"m{k}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["m0", "m1"]
    again = await bot.get_updates(limit=2)
    assert [u.update_id for u in again] == [u.update_id for u in first]  # not confirmed yet
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["m2", "m3", "m4"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_negative_offset_keeps_the_last(bot: Bot, emu: Emulator) -> None:
    for k in range(4):
        emu.user_send(ALICE, f"m{k}")
    last = await bot.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["m3"]


async def test_long_poll_wakes_on_a_new_update(bot: Bot, emu: Emulator) -> None:
    waiting = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)  # let the request reach the emulator and wait there
    assert not waiting.done()
    emu.user_send(ALICE, "wake up")
    updates = await asyncio.wait_for(waiting, 2)
    assert updates[0].message is not None and updates[0].message.text == "wake up"


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=1) == []


async def test_second_poller_conflicts_the_first(bot: Bot, emu: Emulator) -> None:
    other = Bot(bot.token, session=emu.bot_session())
    try:
        first = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(other.get_updates(timeout=10))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 2)
        emu.user_send(ALICE, "x")
        assert len(await asyncio.wait_for(second, 2)) == 1
    finally:
        await other.session.close()


async def test_allowed_updates_filter(bot: Bot, emu: Emulator) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    emu.user_send(ALICE, "dropped")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="a")]]
    )
    msg = await bot.send_message(ALICE, "pick", reply_markup=markup)
    emu.press(ALICE, "a")
    updates = await bot.get_updates()
    assert [u.callback_query.data for u in updates if u.callback_query] == ["a"]
    assert all(u.message is None for u in updates)
    query = updates[0].callback_query
    assert query is not None and query.message is not None
    assert msg.message_id == query.message.message_id
    # an empty list restores the default (everything but chat_member and reactions)
    await bot.get_updates(allowed_updates=[])
    emu.user_send(ALICE, "kept")
    assert any(u.message for u in await bot.get_updates())


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[dict, str | None]], list[int]]]:
    seen: list[tuple[dict, str | None]] = []
    statuses: list[int] = []  # answers to give, in order (default 200)
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        seen.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        arrived.set()
        status = statuses.pop(0) if statuses else 200
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/hook", seen, statuses
    await runner.cleanup()


async def test_webhook_delivers_with_secret_and_blocks_get_updates(
    bot: Bot, emu: Emulator, receiver: tuple[str, list[tuple[dict, str | None]], list[int]]
) -> None:
    url, seen, _ = receiver
    emu.user_send(ALICE, "before")
    assert await bot.set_webhook(url, secret_token="s3cr3t", drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()
    emu.user_send(ALICE, "via webhook")
    await emu.bot.notifier.wait_for(lambda: not emu.bot.updates and bool(seen), 3)
    assert seen[0][0]["message"]["text"] == "via webhook"
    assert seen[0][1] == "s3cr3t"
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    emu.user_send(ALICE, "polling again")
    polled = (await bot.get_updates())[0].message
    assert polled is not None and polled.text == "polling again"


async def test_webhook_errors_are_reported_and_retried(
    bot: Bot, emu: Emulator, receiver: tuple[str, list[tuple[dict, str | None]], list[int]]
) -> None:
    url, seen, statuses = receiver
    statuses.extend([500])
    await bot.set_webhook(url)
    emu.user_send(BOB, "retry me")
    await emu.bot.notifier.wait_for(lambda: len(seen) >= 2 and not emu.bot.updates, 3)
    assert [s[0]["message"]["text"] for s in seen] == ["retry me", "retry me"]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"


async def test_webhook_reply_runs_a_method(bot: Bot, emu: Emulator) -> None:
    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        return web.json_response(
            {"method": "sendMessage", "chat_id": update["message"]["chat"]["id"], "text": "pong"}
        )

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        alice = emu.user(ALICE)
        await alice.send("ping")
        assert (await alice.expect_reply(timeout=3)).text == "pong"
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


async def test_webhook_must_be_loopback(bot: Bot) -> None:
    from aiogram.exceptions import TelegramBadRequest

    with pytest.raises(TelegramBadRequest, match="bad webhook"):
        await bot.set_webhook("https://example.invalid/hook")
