"""The web chat's HTTP side (sandbox/web) without a browser: what the page reads and does.

A real aiogram bot polls the emulator; the page's requests go over HTTP to the emulator's own
server. tests/browser/ drives the same routes from Chromium.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from sandbox import Emulator, FloodLimits, ManualClock
from sandbox.images import make_jpeg
from sandbox.web import WebChat
from sandbox.web.views import concerns
from tests.sandbox.bots import echo_router, polling
from tests.sandbox.conftest import ALICE, BOB, TOKEN


@pytest.fixture
async def web(clock: ManualClock) -> AsyncIterator[tuple[Emulator, aiohttp.ClientSession]]:
    # Relaxed limits: the page's requests follow each other on a clock that does not move.
    emulator = Emulator(clock=clock, limits=FloodLimits.relaxed())
    emulator.route_hooks.append(WebChat(emulator, ZoneInfo("Asia/Shanghai")).routes)
    async with emulator:
        emulator.add_bot(TOKEN, "gridbot_test_bot", "网格通")
        emulator.ensure_user(ALICE, "Alice", started=True)
        emulator.ensure_user(BOB, "Bob", started=True)
        async with aiohttp.ClientSession(f"{emulator.base_url}/") as http:
            yield emulator, http


async def call(http: aiohttp.ClientSession, path: str, body: Any = None) -> tuple[int, Any]:
    verb = "GET" if body is None else "POST"
    async with http.request(verb, f"chat/api/{path}", json=body) as resp:
        data = await resp.json()
    return resp.status, data.get("result") if data["ok"] else data["error"]


async def test_any_message_s_buttons_press_and_edits_show_in_place(
    web: tuple[Emulator, aiohttp.ClientSession],
) -> None:
    emu, http = web
    async with polling(emu, TOKEN, echo_router()):
        for text in ("/menu", "/menu"):
            mark = len(emu.log)
            assert (await call(http, "send", {"user_id": ALICE, "text": text}))[0] == 200
            await emu.next_bot_message(ALICE, mark)
        status, view = await call(http, f"messages?user_id={ALICE}")
        assert status == 200 and view["chat"]["title"] == "网格通"
        menus = [m for m in view["messages"] if m["buttons"]]
        assert [len(m["buttons"][0]) for m in menus] == [2, 2]
        older = menus[0]["message_id"]
        mark = len(emu.log)
        press = {"user_id": ALICE, "message_id": older, "row": 0, "col": 1}
        assert await call(http, "press", press) == (200, True)
        await emu.next_bot_message(ALICE, mark)
    view = (await call(http, f"messages?user_id={ALICE}"))[1]
    edited = next(m for m in view["messages"] if m["message_id"] == older)
    assert edited["edited"] is True and edited["html"].startswith("已选 type:power")
    assert [m["edited"] for m in view["messages"] if m["buttons"]] == [False]  # the newer menu
    mine = [m for m in view["messages"] if m["mine"]]
    assert [m["html"] for m in mine] == ["/menu", "/menu"] and not any(m["from_bot"] for m in mine)


async def test_what_people_type_comes_back_escaped(
    web: tuple[Emulator, aiohttp.ClientSession],
) -> None:
    emu, http = web
    typed = '<img src=x onerror="alert(1)"> & <b>'
    assert (await call(http, "send", {"user_id": ALICE, "text": typed}))[0] == 200
    view = (await call(http, f"messages?user_id={ALICE}"))[1]
    # Inside an element, < > & escaped is enough: no tag can start.
    assert view["messages"][-1]["html"] == '&lt;img src=x onerror="alert(1)"&gt; &amp; &lt;b&gt;'
    assert emu.chat_transcript(ALICE)[-1].text == typed  # the bot gets it as typed


async def test_photos_go_up_and_come_back(web: tuple[Emulator, aiohttp.ClientSession]) -> None:
    emu, http = web
    jpeg = make_jpeg(120, 90, seed=3)
    form = aiohttp.FormData()
    form.add_field("user_id", str(ALICE))
    form.add_field("caption", "三号楼")
    form.add_field("file", jpeg, filename="a.jpg", content_type="image/jpeg")
    async with http.post("chat/api/photo", data=form) as resp:
        assert resp.status == 200, await resp.text()
    view = (await call(http, f"messages?user_id={ALICE}"))[1]
    photo = view["messages"][-1]
    assert photo["mine"] and photo["html"] == "三号楼"
    async with http.get(f"chat/api/file/{photo['photo']}") as resp:
        assert resp.content_type == "image/jpeg"
        assert await resp.read() == jpeg
    sent = emu.chat_transcript(ALICE)[-1]  # what the bot would get: a photo with its caption
    assert sent.kind == "user" and sent.message is not None
    assert sent.message["photo"][-1]["file_id"] == photo["photo"]


async def test_bad_requests_get_a_plain_answer(web: tuple[Emulator, aiohttp.ClientSession]) -> None:
    emu, http = web
    assert await call(http, "chats?user_id=42") == (400, "没有这个用户：42")
    assert await call(http, "chats?user_id=abc") == (400, "user_id 必须是整数")
    assert await call(http, "send", {"user_id": ALICE, "text": "  "}) == (400, "消息不能为空")
    long = {"user_id": ALICE, "text": "长" * 4097}
    assert await call(http, "send", long) == (400, "消息太长（最多 4096 字）")
    gone = {"user_id": ALICE, "message_id": 999, "row": 0, "col": 0}
    assert await call(http, "press", gone) == (400, "这条消息已不存在")
    far = {"user_id": ALICE, "latitude": 91, "longitude": 0}
    assert await call(http, "location", far) == (400, "坐标超出范围")
    assert await call(http, "location", {"user_id": ALICE, "latitude": "x"}) == (
        400,
        "请给出纬度和经度",
    )
    assert await call(http, "clock", {"time": "18:00"}) == (400, "此环境的时钟不可调")
    form = aiohttp.FormData()
    form.add_field("user_id", str(ALICE))
    form.add_field("file", b"not an image", filename="a.txt")
    async with http.post("chat/api/photo", data=form) as resp:
        assert (resp.status, (await resp.json())["error"]) == (400, "只支持 JPEG 或 PNG 图片")
    async with http.get("chat/api/file/nope") as resp:
        assert resp.status == 404
    async with http.post("chat/api/send", data=b"{") as resp:
        assert (resp.status, (await resp.json())["error"]) == (400, "请求格式错误")
    # Nothing of that reached the chat.
    assert [e for e in emu.chat_transcript(ALICE) if e.kind == "user"] == []


async def test_the_page_and_its_files_are_served(
    web: tuple[Emulator, aiohttp.ClientSession],
) -> None:
    _, http = web
    async with http.get("chat", allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/chat/"
    for name, kind in (("", "text/html"), ("app.js", "application/javascript")):
        async with http.get(f"chat/{name}") as resp:
            assert resp.content_type == kind
            assert len(await resp.read()) > 1000
    async with http.get("chat/index.html") as resp:
        page = await resp.text()
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere


async def test_news_arrives_over_server_sent_events(
    web: tuple[Emulator, aiohttp.ClientSession],
) -> None:
    emu, http = web
    group = emu.create_group("一网格群", members=[ALICE])
    async with http.get(f"chat/api/events?user_id={ALICE}") as stream:
        assert stream.content_type == "text/event-stream"
        assert await stream.content.readline() == b"retry: 1000\n"
        await stream.content.readline()
        emu.user_send(ALICE, "大家好", group.id)
        frame = await _frame(stream)
    assert frame["data"] == {"chat_id": group.id, "kind": "user", "seq": frame["data"]["seq"]}
    assert int(frame["id"]) == len(emu.log)  # what a reconnecting page sends back
    entry = emu.log[-1]
    assert concerns(emu, entry, ALICE, emu.bot.id)
    assert not concerns(emu, entry, BOB, emu.bot.id)  # not in that group


async def _frame(stream: aiohttp.ClientResponse) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 10)).decode().rstrip("\n")
        if not line:
            if "data" in fields:
                return fields
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(": ")
        fields[key] = json.loads(value) if key == "data" else value
