"""The web chat's routes on the emulator's own server, under ``/chat/``.

    GET  /chat/                         the page (static/index.html, app.js, style.css)
    GET  /chat/api/roster               whom one may be, grouped by grid and role
    GET  /chat/api/chats?user_id=       their private chat with the bot and their groups
    GET  /chat/api/messages?user_id=&chat_id=   the chat as it stands (edits in place)
    GET  /chat/api/events?user_id=      Server-Sent Events: which chat changed, press answers
    POST /chat/api/send      {user_id, chat_id, text}
    POST /chat/api/press     {user_id, chat_id, message_id, row, col}   any message's button
    POST /chat/api/key       {user_id, chat_id, row, col, latitude?, longitude?}  reply keyboard
    POST /chat/api/location  {user_id, chat_id, latitude, longitude}
    POST /chat/api/photo     multipart: user_id, chat_id, caption?, file
    GET  /chat/api/file/{file_id}       a photo's or document's bytes
    GET  /chat/api/map                  the grids' geofences for the location picker
    GET  /chat/api/clock, POST /chat/api/clock {time: "HH:MM"}   the demo's clock

Everything acts through the emulator's user side, as the terminal chat and the tests do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web

from sandbox.errors import ApiError
from sandbox.images import image_size, sniff_mime
from sandbox.userside import DEFAULT_LOCATION
from sandbox.web.views import chat_title, chat_view, concerns, event_of

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

STATIC = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {
    "index.html": "text/html",
    "app.js": "application/javascript",
    "style.css": "text/css",
}
MAX_PHOTO = 10 * 1024 * 1024
HEARTBEAT_S = 15.0

Provider = Callable[[], Awaitable[list[dict[str, Any]]]]


class ClockControl(Protocol):
    async def state(self) -> dict[str, Any]:
        """``{"now": "…", "digest": "HH:MM"}`` in the deployment's zone."""
        ...

    async def jump(self, hhmm: str) -> dict[str, Any]:
        """Move on to the next HH:MM and run what fell due; the new state plus ``ran``."""
        ...


class Bad(Exception):
    """A request the page should not have made; its text is shown as is."""


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


class WebChat:
    def __init__(
        self,
        emu: Emulator,
        tz: ZoneInfo | None = None,
        *,
        roster: Provider | None = None,
        fences: Provider | None = None,
        clock: ClockControl | None = None,
    ) -> None:
        self.emu = emu
        self.tz = tz or ZoneInfo("UTC")
        self.roster_provider = roster
        self.fences_provider = fences
        self.clock = clock
        self.clock_version = 0

    def routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/chat", self.redirect)
        r.add_get("/chat/", self.static)
        r.add_get("/chat/{name:(index.html|app.js|style.css)}", self.static)
        for path, fn in (
            ("roster", self.roster),
            ("chats", self.chats),
            ("messages", self.messages),
            ("map", self.map),
            ("clock", self.clock_state),
        ):
            r.add_get(f"/chat/api/{path}", self._wrap(fn))
        for path, fn in (
            ("send", self.send),
            ("press", self.press),
            ("key", self.key),
            ("location", self.location),
            ("clock", self.clock_jump),
        ):
            r.add_post(f"/chat/api/{path}", self._wrap(fn))
        r.add_post("/chat/api/photo", self._wrap(self.photo, form=True))
        r.add_get("/chat/font/sans.otf", self.font)
        r.add_get("/chat/api/events", self.events)
        r.add_get("/chat/api/file/{file_id}", self.file)

    # -- plumbing --------------------------------------------------------------
    def _wrap(self, fn: Any, form: bool = False) -> Any:
        async def handler(request: web.Request) -> web.Response:
            try:
                args: dict[str, Any] = dict(request.query)
                if request.method == "POST" and not form:
                    try:
                        body = await request.json()
                    except ValueError:
                        raise Bad("请求格式错误") from None
                    if isinstance(body, dict):
                        args.update(body)
                result = await (fn(args, request) if form else fn(args))
            except (Bad, LookupError, ValueError, PermissionError) as exc:
                text = exc.args[0] if exc.args else str(exc)
                return web.json_response({"ok": False, "error": str(text)}, status=400)
            except ApiError as exc:
                return web.json_response({"ok": False, "error": exc.description}, status=400)
            return web.json_response({"ok": True, "result": result}, dumps=_dumps)

        return handler

    @staticmethod
    def _int(args: dict[str, Any], name: str) -> int:
        try:
            return int(args[name])
        except (KeyError, TypeError, ValueError):
            raise Bad(f"{name} 必须是整数") from None

    def _me(self, args: dict[str, Any]) -> int:
        uid = self._int(args, "user_id")
        if uid not in self.emu.users:
            raise Bad(f"没有这个用户：{uid}")
        return uid

    def _chat_id(self, args: dict[str, Any]) -> int | None:
        value = args.get("chat_id")
        return None if value in (None, "", "0") else self._int(args, "chat_id")

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/chat/")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name") or "index.html"
        body = (STATIC / name).read_bytes()
        return web.Response(
            body=body,
            content_type=_STATIC_TYPES[name],
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def font(self, request: web.Request) -> web.StreamResponse:
        """Noto Sans SC from the project's own dependency (the charts' font): the page reads
        Chinese on a machine without CJK fonts, and nothing is fetched from elsewhere."""
        try:
            from pylopdf_fonts_zh_cn import sans_path
        except ImportError:
            raise web.HTTPNotFound() from None
        return web.FileResponse(
            Path(sans_path()),
            headers={"Content-Type": "font/otf", "Cache-Control": "max-age=86400"},
        )

    # -- reading ------------------------------------------------------------------
    async def roster(self, args: dict[str, Any]) -> Any:
        if self.roster_provider is not None:
            people = await self.roster_provider()
        else:
            people = [
                {"tg_id": u.id, "name": u.full_name, "grid_code": "", "grid_name": ""}
                for u in self.emu.users.values()
            ]
        return {"bot": self.emu.bot.as_user(), "people": people}

    async def chats(self, args: dict[str, Any]) -> Any:
        me = self._me(args)
        user = self.emu.user_record(me)
        private = self.emu.private_chat(self.emu.bot, user)
        out = [{"id": me, "type": "private", "title": chat_title(self.emu, private)}]
        out += [
            {"id": c.id, "type": c.type, "title": chat_title(self.emu, c)}
            for c in self.emu.groups.values()
            if c.migrated_to is None
            and c.members.get(me) in ("creator", "administrator", "member", "restricted")
        ]
        return {"user": user.as_dict(), "chats": out, "cursor": len(self.emu.log)}

    async def messages(self, args: dict[str, Any]) -> Any:
        me = self._me(args)
        chat = self.emu.user_chat(self.emu.user_record(me), self._chat_id(args))
        return chat_view(self.emu, chat, me, self.tz)

    async def map(self, args: dict[str, Any]) -> Any:
        fences = await self.fences_provider() if self.fences_provider is not None else []
        return {"fences": fences, "default": list(DEFAULT_LOCATION)}

    async def clock_state(self, args: dict[str, Any]) -> Any:
        return await self.clock.state() if self.clock is not None else None

    async def clock_jump(self, args: dict[str, Any]) -> Any:
        if self.clock is None:
            raise Bad("此环境的时钟不可调")
        hhmm = str(args.get("time") or "")
        result = await self.clock.jump(hhmm)
        self.clock_version += 1
        self.emu.changed.notify()
        return result

    async def file(self, request: web.Request) -> web.StreamResponse:
        try:
            data = self.emu.file_bytes(request.match_info["file_id"])
        except LookupError:
            raise web.HTTPNotFound() from None
        return web.Response(body=data, content_type=sniff_mime(data))

    # -- acting -------------------------------------------------------------------
    async def send(self, args: dict[str, Any]) -> Any:
        me = self._me(args)
        text = str(args.get("text") or "").strip()
        if not text:
            raise Bad("消息不能为空")
        if len(text) > 4096:
            raise Bad("消息太长（最多 4096 字）")
        return self.emu.user_send(me, text, self._chat_id(args))["message_id"]

    async def press(self, args: dict[str, Any]) -> Any:
        me = self._me(args)
        chat = self.emu.user_chat(self.emu.user_record(me), self._chat_id(args))
        stored = chat.messages.get(self._int(args, "message_id"))
        if stored is None or stored.deleted:
            raise Bad("这条消息已不存在")
        rows = (stored.data.get("reply_markup") or {}).get("inline_keyboard", [])
        try:
            button = rows[self._int(args, "row")][self._int(args, "col")]
        except IndexError:
            raise Bad("这个按钮已不存在") from None
        if "callback_data" not in button:
            raise Bad("这个按钮不能按")
        self.emu.user_press(me, self._chat_id(args), stored.message_id, button["callback_data"])
        return True

    async def key(self, args: dict[str, Any]) -> Any:
        me = self._me(args)
        chat_id = self._chat_id(args)
        chat = self.emu.user_chat(self.emu.user_record(me), chat_id)
        rows = (chat.reply_keyboard or {}).get("keyboard", [])
        try:
            button = rows[self._int(args, "row")][self._int(args, "col")]
        except IndexError:
            raise Bad("这个按钮已不存在") from None
        if not isinstance(button, dict):
            button = {"text": str(button)}
        if button.get("request_location"):
            if chat.type != "private":
                raise Bad("位置按钮只能在私聊中使用")
            lat, lon = self._point(args)
            return self.emu.user_send_location(me, lat, lon, chat_id)["message_id"]
        if button.get("request_contact"):
            return self.emu.user_send_contact(me, chat_id=chat_id)["message_id"]
        return self.emu.user_send(me, str(button.get("text", "")), chat_id)["message_id"]

    @staticmethod
    def _point(args: dict[str, Any]) -> tuple[float, float]:
        try:
            lat, lon = float(args["latitude"]), float(args["longitude"])
        except (KeyError, TypeError, ValueError):
            raise Bad("请给出纬度和经度") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Bad("坐标超出范围")
        return lat, lon

    async def location(self, args: dict[str, Any]) -> Any:
        me = self._me(args)
        lat, lon = self._point(args)
        return self.emu.user_send_location(me, lat, lon, self._chat_id(args))["message_id"]

    async def photo(self, args: dict[str, Any], request: web.Request) -> Any:
        form = await request.post()
        fields = {k: v for k, v in form.items() if not isinstance(v, web.FileField)}
        me = self._me(fields)
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise Bad("请选择一张图片")
        data = upload.file.read(MAX_PHOTO + 1)
        if len(data) > MAX_PHOTO:
            raise Bad("图片太大（最多 10 MB）")
        if image_size(data) is None:
            raise Bad("只支持 JPEG 或 PNG 图片")
        caption = str(fields.get("caption") or "").strip() or None
        sent = self.emu.user_send_photo(me, self._chat_id(fields), caption, data=data)
        return sent["message_id"]

    # -- live ---------------------------------------------------------------------
    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events for one person until they leave or the emulator stops."""
        try:
            me = self._me(dict(request.query))
        except Bad as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        emu = self.emu
        bot_id = emu.bot.id
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await resp.prepare(request)
        # A reconnecting EventSource says where it was (Last-Event-ID): nothing twice.
        since = request.headers.get("Last-Event-ID") or request.query.get("since")
        try:
            cursor = min(int(since or len(emu.log)), len(emu.log))
        except ValueError:
            cursor = len(emu.log)
        seen_clock = self.clock_version
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            await resp.write(b"retry: 1000\n\n")
            while not emu.closing:
                await emu.changed.wait_for(partial(self._news, cursor, seen_clock), HEARTBEAT_S)
                chunks: list[str] = []
                if self.clock_version != seen_clock:
                    seen_clock = self.clock_version
                    chunks.append(_dumps({"kind": "clock"}))
                entries, cursor = emu.log[cursor:], len(emu.log)
                chunks += [_dumps(event_of(e, me)) for e in entries if concerns(emu, e, me, bot_id)]
                # The batch's last event carries the cursor (the id a reconnect sends back).
                payload = "".join(f"data: {c}\n\n" for c in chunks[:-1])
                payload += f"id: {cursor}\ndata: {chunks[-1]}\n\n" if chunks else ": ping\n\n"
                await resp.write(payload.encode())
        return resp

    def _news(self, cursor: int, seen_clock: int) -> bool:
        emu = self.emu
        return len(emu.log) > cursor or emu.closing or self.clock_version != seen_clock
