"""A terminal chat with the bot, as one person, through the emulator's HTTP API.

    await run_terminal_chat("http://127.0.0.1:8081", 800000001)

Every bot message is printed with its number (``#3``) and its buttons numbered after it
(``[3.1] 火灾隐患  [3.2] 用电隐患``): type ``3.2`` to press message 3's second button, at any
time, or a button's text; the reply keyboard's keys are ``k1``, ``k2`` (``k1 31.2,121.5``
shares that spot through a location key). ``lat,lon`` sends a location, ``:photo`` a photo,
``:who`` lists the people by role (the demo's roster), ``:help``; ``:quit`` (or end of input)
leaves. Anything else is sent as typed. ``group`` opens a group instead of the private chat:
a grid's code (looked up in ``codes``), a title, or a chat id.
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

from sandbox.render import media_summary
from sandbox.userside import DEFAULT_LOCATION

InputFn = Callable[[str], "str | Awaitable[str]"]
OutputFn = Callable[[str], None]

_LOCATION_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,，]\s*(-?\d+(?:\.\d+)?)\s*$")
_BUTTON_RE = re.compile(r"^(\d+)\.(\d+)$")
_KEY_RE = re.compile(r"^[kK](\d+)(?:\s+(.*))?$")
HELP = (
    "text or /command — send it; 3.2 — press message #3's button 2 (or type a button's text); "
    "k1 — reply-keyboard key 1; lat,lon — send a location; :photo — a photo; "
    ":who — people by role; :quit — leave"
)
WHO_PER_ROLE = 6


class TerminalError(Exception):
    pass


@dataclass
class _Buttons:
    """What can be pressed: every bot message's inline buttons as last shown, the keyboard."""

    inline: dict[int, list[str]] = field(default_factory=dict)  # message id -> button texts
    keyboard: list[dict[str, Any]] = field(default_factory=list)

    def by_text(self, text: str) -> int | None:
        """The newest message with a button of that text."""
        for mid in sorted(self.inline, reverse=True):
            if text in self.inline[mid]:
                return mid
        return None


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
    """Lines to print for one transcript entry; updates what can be pressed."""
    kind = entry["kind"]
    message = entry.get("message") or {}
    text = entry.get("text") or ""
    media = media_summary(message)
    body = "\n".join(p for p in (media, text) if p)
    mid = entry.get("message_id")
    if kind == "user":
        sender = message.get("from", {})
        if sender.get("id") == me:
            return []
        return [f"👤 {sender.get('first_name', '?')}: {body}"]
    if kind in ("press", "service"):
        return []
    if kind == "callback_answer":
        detail = entry.get("detail") or {}
        if not detail.get("text") or detail.get("user_id") != me:
            return []
        return [("⚠️ " if detail.get("show_alert") else "💬 ") + str(detail["text"])]
    if kind == "deleted":
        buttons.inline.pop(int(mid or 0), None)
        return [f"🗑 (message #{mid} deleted)"]
    if kind in ("pinned", "unpinned"):
        return [f"📌 ({kind} message #{mid})"]
    lines = [("✏️ " if kind == "edited" else "🤖 ") + f"#{mid} {body}"]
    rows = entry.get("buttons") or []
    texts = [str(b.get("text", "")) for row in rows for b in row]
    if texts and mid is not None:
        buttons.inline[int(mid)] = texts
    elif mid is not None:
        buttons.inline.pop(int(mid), None)
    n = 1
    for row in rows:
        cells = []
        for b in row:
            cells.append(f"[{mid}.{n}] {b.get('text', '')}" + (" ↗" if "url" in b else ""))
            n += 1
        lines.append("   " + "  ".join(cells))
    if entry.get("keyboard"):
        buttons.keyboard = [b for row in entry["keyboard"] for b in row]
        lines += ["   " + _keys(buttons.keyboard)]
    elif (entry.get("detail") or {}).get("remove_keyboard"):
        buttons.keyboard = []
    return lines


def _keys(keyboard: list[dict[str, Any]]) -> str:
    return "  ".join(
        f"<k{i}> {b.get('text', '')}" + (" 📍" if b.get("request_location") else "")
        for i, b in enumerate(keyboard, 1)
    )


async def _open_chat(
    client: _Client, tg_id: int, group: str | None, codes: dict[str, int]
) -> int | None:
    """The chat id for ``group`` (None: the private chat), or a TerminalError naming the
    person's groups."""
    if group is None:
        return None
    chats = await client.call("GET", "chats", params={"user_id": tg_id})
    groups = [c for c in chats if c.get("type") != "private"]
    wanted = codes.get(group)
    if wanted is None and re.fullmatch(r"-\d+", group):
        wanted = int(group)
    for chat in groups:
        if chat["id"] == wanted or chat.get("title") == group:
            return int(chat["id"])
    matches = [c for c in groups if group in (c.get("title") or "")]
    if len(matches) == 1:
        return int(matches[0]["id"])
    mine = "; ".join(f"{c.get('title')} ({c['id']})" for c in groups) or "none"
    raise TerminalError(f"{tg_id} is not in a group {group!r}; their groups: {mine}")


async def run_terminal_chat(
    base_url: str,
    tg_id: int,
    input_fn: InputFn = input,
    output: OutputFn = print,
    *,
    chat_id: int | None = None,
    group: str | None = None,
    codes: dict[str, int] | None = None,
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
        try:
            user = await client.call("POST", "users", profile)
        except aiohttp.ClientConnectionError:
            raise TerminalError(
                f"cannot reach the demo at {base_url}: is `gridbot demo` running?"
            ) from None
        if group is not None:
            chat_id = await _open_chat(client, tg_id, group, codes or {})
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
    if line == ":who":
        for row in await _who(client):
            output(row)
        return
    if line == ":photo":
        await client.call("POST", "photo", where)
        return
    found = _LOCATION_RE.match(line)
    if found:
        lat, lon = float(found.group(1)), float(found.group(2))
        await client.call("POST", "location", {**where, "latitude": lat, "longitude": lon})
        return
    pressed = _BUTTON_RE.match(line)
    if pressed:
        mid, n = int(pressed.group(1)), int(pressed.group(2))
        await client.call("POST", "press", {**where, "message_id": mid, "number": n})
        return
    key = _KEY_RE.match(line)
    if key:
        await _press_key(client, where, buttons, int(key.group(1)), key.group(2))
        return
    mid_with = buttons.by_text(line)
    if mid_with is not None:
        await client.call("POST", "press", {**where, "message_id": mid_with, "text": line})
        return
    await client.call("POST", "send", {**where, "text": line})


async def _press_key(
    client: _Client, where: dict[str, Any], buttons: _Buttons, n: int, rest: str | None
) -> None:
    if not 1 <= n <= len(buttons.keyboard):
        shown = _keys(buttons.keyboard) or "none"
        raise TerminalError(f"no key k{n}; the keyboard: {shown}")
    key = buttons.keyboard[n - 1]
    if key.get("request_location"):
        lat, lon = DEFAULT_LOCATION
        if rest:
            spot = _LOCATION_RE.match(rest)
            if spot is None:
                raise TerminalError("after a location key, give lat,lon (k1 31.2,121.5)")
            lat, lon = float(spot.group(1)), float(spot.group(2))
        await client.call("POST", "location", {**where, "latitude": lat, "longitude": lon})
    elif key.get("request_contact"):
        await client.call("POST", "press", {**where, "text": key.get("text", "")})
    else:
        await client.call("POST", "send", {**where, "text": key.get("text", "")})


async def _who(client: _Client) -> list[str]:
    """The people by role: the demo's roster (its web chat) when there is one, else the
    emulator's users."""
    try:
        async with client.http.get(f"{client.base}/chat/api/roster") as resp:
            data = await resp.json() if resp.status == 200 else None
    except (aiohttp.ClientError, ValueError):
        data = None
    if not data or not data.get("ok"):
        users = await client.call("GET", "users")
        return ["people: " + ", ".join(f"{u['id']} {u.get('first_name', '')}" for u in users)]
    by_role: dict[str, list[str]] = {}
    for row in data["result"]["people"]:
        label = str(row.get("role_label") or row.get("role") or "?")
        marks = "★" if row.get("admin") else ""
        by_role.setdefault(label, []).append(
            f"{row['tg_id']} {row['name']}{marks} ({row.get('grid_name', '')})"
        )
    lines = []
    for label, people in by_role.items():
        shown = people[:WHO_PER_ROLE]
        more = f", … {len(people) - len(shown)} more" if len(people) > len(shown) else ""
        lines.append(f"{label}: " + ", ".join(shown) + more)
    return [*lines, "★ gridbot admin"]
