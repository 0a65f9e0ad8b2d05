"""The /sandbox HTTP API other processes use."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import Emulator
from tests.sandbox.conftest import ALICE


async def call(http: aiohttp.ClientSession, verb: str, url: str, **kw: Any) -> dict[str, Any]:
    async with http.request(verb, url, **kw) as resp:
        return await resp.json()


async def test_users_send_press_and_transcript(bot: Bot, emu: Emulator) -> None:
    base = f"{emu.base_url}/sandbox"
    async with aiohttp.ClientSession() as http:
        made = await call(
            http, "POST", f"{base}/users", json={"id": 7_500_000_500, "first_name": "Eve"}
        )
        assert made["result"]["first_name"] == "Eve"
        users = await call(http, "GET", f"{base}/users")
        assert {u["id"] for u in users["result"]} >= {ALICE, 7_500_000_500}
        sent = await call(http, "POST", f"{base}/send", json={"user_id": ALICE, "text": "/menu"})
        assert sent["result"]["entities"][0]["type"] == "bot_command"
        first = await call(http, "GET", f"{base}/transcript", params={"user_id": str(ALICE)})
        cursor = first["result"]["cursor"]
        assert first["result"]["entries"][-1]["text"] == "/menu"

        waiting = asyncio.create_task(
            call(
                http,
                "GET",
                f"{base}/transcript",
                params={"user_id": str(ALICE), "since": str(cursor), "timeout": "5"},
            )
        )
        await asyncio.sleep(0.05)
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="甲", callback_data="a")]]
        )
        msg = await bot.send_message(ALICE, "pick", reply_markup=markup)
        news = (await asyncio.wait_for(waiting, 3))["result"]
        assert [e["text"] for e in news["entries"]] == ["pick"]
        assert news["entries"][0]["buttons"][0][0]["text"] == "甲"

        pressed = await call(
            http,
            "POST",
            f"{base}/press",
            json={"user_id": ALICE, "number": 1, "message_id": msg.message_id},
        )
        assert pressed["result"]["data"] == "a"
        loc = await call(
            http,
            "POST",
            f"{base}/location",
            json={"user_id": ALICE, "latitude": 39.9, "longitude": 116.4},
        )
        assert loc["result"]["location"]["latitude"] == 39.9
        photo = await call(http, "POST", f"{base}/photo", json={"user_id": ALICE})
        assert photo["result"]["photo"]
        chats = await call(http, "GET", f"{base}/chats", params={"user_id": str(ALICE)})
        assert chats["result"][0]["id"] == ALICE
        bad = await call(http, "POST", f"{base}/press", json={"user_id": ALICE, "text": "无"})
        assert bad["ok"] is False and "no button" in bad["description"]
        missing = await call(http, "POST", f"{base}/send", json={"user_id": 1, "text": "x"})
        assert missing["ok"] is False
        stats = await call(http, "GET", f"{base}/stats")
        assert stats["result"]["calls"]["sendMessage"] == 1
    updates = await bot.get_updates()
    kinds = [("message" if u.message else "callback_query") for u in updates]
    assert kinds == ["message", "callback_query", "message", "message"]
