"""The HTTP face of the emulator: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``.

Each call: token (401 if unknown) -> method (404 if unknown) -> counted ->
injected faults -> the method, which checks the chat, the flood limits and its
parameters. Answers are Telegram's JSON with the HTTP status equal to error_code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from sandbox import botapi_forum, botapi_reactions, errors
from sandbox.botapi import METHODS, BotApi, Described, FileRecord, Params, Upload
from sandbox.errors import ApiError
from sandbox.faults import Fault
from sandbox.world import World

# Methods kept in modules of their own register themselves when imported.
_MORE_METHODS = (botapi_forum, botapi_reactions)
_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise errors.bad_request("can't parse JSON encoded request body") from None
            if isinstance(body, dict):
                values.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = Upload(value.filename, value.file.read(), value.content_type)
                else:
                    values[key] = value
    return Params(values, files)


class BotApiServer:
    def __init__(self, world: World, api: BotApi, stop_event: asyncio.Event) -> None:
        self.world = world
        self.api = api
        self.stop_event = stop_event

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self.handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self.download)

    def answer(self, status: int, body: dict[str, Any]) -> web.Response:
        self.world.stats.record_status(status)
        return json_response(body, status)

    def error(self, exc: ApiError) -> web.Response:
        return self.answer(exc.code, exc.body())

    async def pause(self, seconds: float) -> None:
        """Sleep, but end early when the emulator stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop_event.wait(), seconds)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        world = self.world
        world.stats.requests += 1
        bot = world.bots.get(request.match_info["token"])
        if bot is None:
            return self.error(errors.unauthorized())
        spec = METHODS.get(request.match_info["method"].lower())
        if spec is None:
            return self.error(errors.not_found())
        world.stats.calls[spec.name] += 1
        fault = world.faults.take(spec.name.lower())
        if fault is not None:
            early = await self.apply_fault(fault)
            if early is not None:
                return early
        try:
            params = await read_params(request)
            result = await spec.handler(self.api, bot, params)
        except ApiError as exc:
            response = self.error(exc)
        else:
            body: dict[str, Any] = {"ok": True}
            if isinstance(result, Described):
                body.update(result=result.result, description=result.description)
            else:
                body["result"] = result
            response = self.answer(200, body)
        if fault is not None and fault.kind == "delay" and fault.apply:
            await self.pause(fault.seconds)
        return response

    async def apply_fault(self, fault: Fault) -> web.Response | None:
        if fault.kind == "429":
            return self.error(errors.too_many_requests(fault.retry_after))
        if fault.kind == "5xx":
            reason = _REASONS.get(fault.status, "Internal Server Error")
            if fault.html:
                self.world.stats.record_status(fault.status)
                return web.Response(
                    text=_NGINX_502.replace("502 Bad Gateway", f"{fault.status} {reason}"),
                    status=fault.status,
                    content_type="text/html",
                )
            return self.error(ApiError(fault.status, reason))
        if fault.kind == "delay" and not fault.apply:
            await self.pause(fault.seconds)
        return None

    async def download(self, request: web.Request) -> web.StreamResponse:
        bot = self.world.bots.get(request.match_info["token"])
        if bot is None:
            return self.error(errors.unauthorized())
        path = request.match_info["path"]
        for record in self.world.files.values():
            if isinstance(record, FileRecord) and record.file_path == path:
                return web.Response(
                    body=record.data, content_type=record.mime_type or "application/octet-stream"
                )
        return self.error(errors.not_found())
