"""The HTTP API for people and other processes, under ``/sandbox/``.

All bodies are JSON; answers are ``{"ok": true, "result": ...}`` or
``{"ok": false, "description": ...}`` with status 400/404.

    GET  /sandbox/bots                         the bots
    GET  /sandbox/users                        the people
    POST /sandbox/users      {id, first_name?, last_name?, username?, language_code?}
    GET  /sandbox/chats?user_id=ID             chats a person is in
    POST /sandbox/send       {user_id, text, chat_id?, reply_to?}
    POST /sandbox/location   {user_id, latitude, longitude, chat_id?, live_period?}
    POST /sandbox/photo      {user_id, chat_id?, caption?}
    POST /sandbox/press      {user_id, chat_id?, number? | text?, message_id?}
    GET  /sandbox/transcript?user_id=ID[&chat_id=C][&since=SEQ][&timeout=S]
         -> {"entries": [...], "cursor": SEQ}; long-polls up to S seconds for news
    GET  /sandbox/stats

``chat_id`` left out means the person's private chat with the (first) bot.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.world import CallbackPress, Chat, chat_key

if TYPE_CHECKING:
    from sandbox.emulator import Emulator


class _Bad(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _ok(result: Any) -> web.Response:
    return web.json_response(
        {"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )


class ControlApi:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/sandbox/bots", self._wrap(self.bots))
        r.add_get("/sandbox/users", self._wrap(self.users))
        r.add_post("/sandbox/users", self._wrap(self.ensure_user))
        r.add_get("/sandbox/chats", self._wrap(self.chats))
        r.add_post("/sandbox/send", self._wrap(self.send))
        r.add_post("/sandbox/location", self._wrap(self.location))
        r.add_post("/sandbox/photo", self._wrap(self.photo))
        r.add_post("/sandbox/press", self._wrap(self.press))
        r.add_get("/sandbox/transcript", self._wrap(self.transcript))
        r.add_get("/sandbox/stats", self._wrap(self.stats))

    def _wrap(self, fn: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            try:
                args: dict[str, Any] = dict(request.query)
                if request.method == "POST" and request.can_read_body:
                    try:
                        body = await request.json()
                    except ValueError:
                        raise _Bad(400, "the body must be JSON") from None
                    if not isinstance(body, dict):
                        raise _Bad(400, "the body must be a JSON object")
                    args.update(body)
                return _ok(await fn(args))
            except _Bad as exc:
                return web.json_response(
                    {"ok": False, "description": exc.description}, status=exc.status
                )
            except (LookupError, ValueError, PermissionError) as exc:
                text = exc.args[0] if exc.args else str(exc)
                return web.json_response({"ok": False, "description": str(text)}, status=400)

        return handler

    @staticmethod
    def _int(args: dict[str, Any], name: str, required: bool = True) -> int | None:
        value = args.get(name)
        if value in (None, ""):
            if required:
                raise _Bad(400, f"{name} is required")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _Bad(400, f"{name} must be an integer") from None

    def _user_id(self, args: dict[str, Any]) -> int:
        uid = self._int(args, "user_id")
        assert uid is not None
        if uid not in self.emu.users:
            raise _Bad(404, f"no user {uid}")
        return uid

    def _chat(self, user_id: int, chat_id: int | None) -> Chat:
        return self.emu.user_chat(self.emu.user_record(user_id), chat_id)

    async def bots(self, args: dict[str, Any]) -> Any:
        return [b.as_user() for b in self.emu.bots.values()]

    async def users(self, args: dict[str, Any]) -> Any:
        return [{**u.as_dict(), "started": u.started} for u in self.emu.users.values()]

    async def ensure_user(self, args: dict[str, Any]) -> Any:
        uid = self._int(args, "id")
        assert uid is not None
        user = self.emu.ensure_user(
            uid,
            args.get("first_name"),
            args.get("last_name"),
            args.get("username"),
            args.get("language_code"),
        )
        return user.as_dict()

    async def chats(self, args: dict[str, Any]) -> Any:
        uid = self._user_id(args)
        user = self.emu.user_record(uid)
        out = [self.emu.private_chat(self.emu.bot, user).as_dict()]
        out += [
            c.as_dict()
            for c in self.emu.groups.values()
            if c.migrated_to is None
            and c.members.get(uid) in ("creator", "administrator", "member")
        ]
        return out

    async def send(self, args: dict[str, Any]) -> Any:
        uid = self._user_id(args)
        text = args.get("text")
        if not isinstance(text, str) or not text:
            raise _Bad(400, "text is required")
        return self.emu.user_send(
            uid, text, self._int(args, "chat_id", False), self._int(args, "reply_to", False)
        )

    async def location(self, args: dict[str, Any]) -> Any:
        uid = self._user_id(args)
        try:
            lat, lon = float(args["latitude"]), float(args["longitude"])
        except (KeyError, TypeError, ValueError):
            raise _Bad(400, "latitude and longitude are required numbers") from None
        return self.emu.user_send_location(
            uid, lat, lon, self._int(args, "chat_id", False), self._int(args, "live_period", False)
        )

    async def photo(self, args: dict[str, Any]) -> Any:
        uid = self._user_id(args)
        return self.emu.user_send_photo(uid, self._int(args, "chat_id", False), args.get("caption"))

    async def press(self, args: dict[str, Any]) -> Any:
        uid = self._user_id(args)
        text = args.get("text")
        number = self._int(args, "number", False)
        if text is None and number is None:
            raise _Bad(400, "number or text is required")
        result = self.emu.press(
            uid,
            text,
            chat_id=self._int(args, "chat_id", False),
            number=number,
            message_id=self._int(args, "message_id", False),
        )
        if isinstance(result, CallbackPress):
            return {
                "callback_query_id": result.id,
                "data": result.data,
                "message_id": result.message_id,
            }
        return {"message": result}

    async def transcript(self, args: dict[str, Any]) -> Any:
        uid = self._user_id(args)
        chat = self._chat(uid, self._int(args, "chat_id", False))
        key = chat_key(chat)
        since = self._int(args, "since", False) or 0
        timeout = min(float(args.get("timeout") or 0), 60.0)

        def news() -> list[dict[str, Any]]:
            return [e.as_dict() for e in self.emu.log[since:] if e.chat_key == key]

        found = news()
        if not found and timeout > 0:
            await self.emu.changed.wait_for(lambda: bool(news()) or self.emu.closing, timeout)
            found = news()
        return {"entries": found, "cursor": len(self.emu.log), "chat": chat.as_dict()}

    async def stats(self, args: dict[str, Any]) -> Any:
        s = self.emu.stats
        return {
            "requests": s.requests,
            "too_many_requests": s.too_many_requests,
            "server_errors": s.server_errors,
            "forbidden": s.forbidden,
            "bad_requests": s.bad_requests,
            "calls": dict(s.calls),
        }
