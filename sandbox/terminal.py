"""A terminal chat with the bot, as one person, through the emulator's HTTP API.

    await run_terminal_chat("http://127.0.0.1:8081", 800000001)

Type text or ``/commands``; a number presses the Nth button of the latest bot
message (inline buttons first, then the reply keyboard, numbered as shown);
``lat,lon`` sends a location; ``:photo`` a photo; ``:help``; ``:quit`` (or
end of input) leaves. The bot's messages are printed as they arrive, as plain
text (the HTML already applied), with their buttons numbered.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from sandbox.render import button_rows, media_summary
from sandbox.userside import DEFAULT_LOCATION

InputFn = Callable[[str], "str | Awaitable[str]"]
OutputFn = Callable[[str], None]

_LOCATION_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*$")
HELP = (
    "text or /command — send it; N — press button N; lat,lon — send a location; "
    ":photo — send a photo; :quit — leave"
)


class TerminalError(Exception):
    pass


@dataclass
class _Buttons:
    message_id: int | None = None
    inline: int = 0
    keyboard: list[dict[str, Any]] = field(default_factory=list)


class _Client:
    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base = base_url.rstrip("/")

    async def call(
        self,
        verb: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        url = f"{self.base}/sandbox/{path}"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        async with self.http.request(verb, url, json=body, params=query) as resp:
            data = await resp.json()
        if not data.get("ok"):
            raise TerminalError(data.get("description", f"HTTP {resp.status}"))
        return data["result"]


async def _read(input_fn: InputFn, prompt: str) -> str:
    if inspect.iscoroutinefunction(input_fn):
        return str(await input_fn(prompt))
    result = await asyncio.to_thread(input_fn, prompt)
    if inspect.isawaitable(result):
        return str(await result)
    return str(result)


def format_entry(entry: dict[str, Any], me: int, buttons: _Buttons) -> list[str]:
    """Lines to print for one transcript entry; updates what numbers press."""
    kind = entry["kind"]
    message = entry.get("message") or {}
    text = entry.get("text") or ""
    media = media_summary(message)
    body = "\n".join(p for p in (media, text) if p)
    if kind == "user":
        sender = message.get("from", {})
        if sender.get("id") == me:
            return []
        return [f"👤 {sender.get('first_name', '?')}: {body}"]
    if kind == "press":
        return []
    if kind == "service":
        return []
    if kind == "callback_answer":
        detail = entry.get("detail") or {}
        if not detail.get("text") or detail.get("user_id") != me:
            return []
        return [("⚠️ " if detail.get("show_alert") else "💬 ") + str(detail["text"])]
    if kind == "deleted":
        return [f"🗑 (message {entry.get('message_id')} deleted)"]
    if kind in ("pinned", "unpinned"):
        return [f"📌 ({kind} message {entry.get('message_id')})"]
    lines = [("✏️ " if kind == "edited" else "🤖 ") + body]
    inline = sum(len(row) for row in entry.get("buttons") or [])
    if inline:
        buttons.message_id = entry.get("message_id")
        buttons.inline = inline
    elif kind == "sent":
        buttons.message_id, buttons.inline = None, 0
    if entry.get("keyboard"):
        buttons.keyboard = [b for row in entry["keyboard"] for b in row]
    elif (entry.get("detail") or {}).get("remove_keyboard"):
        buttons.keyboard = []
    shown = {**entry, "keyboard": entry.get("keyboard") or []}
    if not inline and not entry.get("keyboard") and buttons.keyboard and kind == "sent":
        shown["keyboard"] = [buttons.keyboard]
    lines += ["   " + row for row in button_rows(shown, numbered=True)]
    return lines


async def run_terminal_chat(
    base_url: str,
    tg_id: int,
    input_fn: InputFn = input,
    output: OutputFn = print,
    *,
    chat_id: int | None = None,
    first_name: str | None = None,
    prompt: str = "",
    poll_timeout: float = 25.0,
) -> None:
    """Chat with the bot as ``tg_id`` until ``:quit`` or end of input."""
    async with aiohttp.ClientSession() as http:
        client = _Client(http, base_url)
        profile: dict[str, Any] = {"id": tg_id}
        if first_name:
            profile["first_name"] = first_name
        user = await client.call("POST", "users", profile)
        first = await client.call(
            "GET", "transcript", params={"user_id": tg_id, "chat_id": chat_id}
        )
        cursor = int(first["cursor"])
        title = first["chat"].get("title") or "private chat with the bot"
        output(f"— {user['first_name']} ({tg_id}) in {title}. {HELP}")
        buttons = _Buttons()
        for entry in first["entries"][-5:]:
            for line in format_entry(entry, tg_id, buttons):
                output(line)

        async def printer() -> None:
            nonlocal cursor
            while True:
                try:
                    data = await client.call(
                        "GET",
                        "transcript",
                        params={
                            "user_id": tg_id,
                            "chat_id": chat_id,
                            "since": cursor,
                            "timeout": poll_timeout,
                        },
                    )
                except (TerminalError, aiohttp.ClientError) as exc:
                    output(f"⚠️ {exc}")
                    return
                cursor = int(data["cursor"])
                for entry in data["entries"]:
                    for line in format_entry(entry, tg_id, buttons):
                        output(line)

        task = asyncio.create_task(printer())
        try:
            while True:
                try:
                    line = (await _read(input_fn, prompt)).strip()
                except (EOFError, KeyboardInterrupt):
                    break
                if not line:
                    continue
                if line == ":quit":
                    break
                try:
                    await _act(client, tg_id, chat_id, line, buttons, output)
                except (TerminalError, aiohttp.ClientError) as exc:
                    output(f"⚠️ {exc}")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _act(
    client: _Client, tg_id: int, chat_id: int | None, line: str, buttons: _Buttons, output: OutputFn
) -> None:
    where = {"user_id": tg_id, "chat_id": chat_id}
    if line == ":help":
        output(HELP)
        return
    if line == ":photo":
        await client.call("POST", "photo", where)
        return
    found = _LOCATION_RE.match(line)
    if found:
        lat, lon = float(found.group(1)), float(found.group(2))
        await client.call("POST", "location", {**where, "latitude": lat, "longitude": lon})
        return
    if line.isdigit():
        n = int(line)
        if buttons.message_id is not None and 1 <= n <= buttons.inline:
            await client.call(
                "POST", "press", {**where, "number": n, "message_id": buttons.message_id}
            )
            return
        k = n - buttons.inline
        if 1 <= k <= len(buttons.keyboard):
            key = buttons.keyboard[k - 1]
            if key.get("request_location"):
                lat, lon = DEFAULT_LOCATION
                await client.call("POST", "location", {**where, "latitude": lat, "longitude": lon})
            else:
                await client.call("POST", "send", {**where, "text": key.get("text", "")})
            return
        if buttons.inline or buttons.keyboard:
            output(f"⚠️ no button {n}")
            return
    await client.call("POST", "send", {**where, "text": line})
