"""Webhook mode: POST each pending update to the bot's URL (loopback only).

The header X-Telegram-Bot-Api-Secret-Token carries the secret. A 2xx answer
confirms the update; an answer whose JSON body names a ``method`` is run as a
Bot API call, as Telegram does. Failures are kept for getWebhookInfo
(last_error_date / last_error_message) and retried with a short back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp

from sandbox.botapi import METHODS, BotApi, Params
from sandbox.errors import ApiError
from sandbox.world import BotRecord, WebhookState, World


async def run_webhook(
    world: World, api: BotApi, bot: BotRecord, hook: WebhookState, retry_delay: float = 0.05
) -> None:
    delay = retry_delay
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while bot.webhook is hook and not world.closing:
            if not bot.updates:
                await bot.notifier.wait_for(
                    lambda: bool(bot.updates) or bot.webhook is not hook or world.closing, 30
                )
                continue
            update = bot.updates[0]
            headers = {}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            error: str | None = None
            reply: Any = None
            try:
                async with session.post(hook.url, json=update, headers=headers) as resp:
                    if 200 <= resp.status < 300:
                        reply = await _read_reply(resp)
                    else:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientConnectionError, OSError):
                error = "Connection refused"
            except TimeoutError:
                error = "Read timeout expired"
            if error is None:
                if bot.updates and bot.updates[0] is update:
                    bot.updates.pop(0)
                    bot.notifier.notify()
                    world.changed.notify()  # confirmed: see DriverUser.expect_silence
                delay = retry_delay
                if isinstance(reply, dict) and isinstance(reply.get("method"), str):
                    await _run_reply(api, bot, reply)
                continue
            hook.last_error_date = world.now()
            hook.last_error_message = error
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_never(world, bot, hook), delay)
            delay = min(delay * 2, 2.0)


async def _never(world: World, bot: BotRecord, hook: WebhookState) -> None:
    await bot.notifier.wait_for(lambda: bot.webhook is not hook or world.closing, 3600)


async def _read_reply(resp: aiohttp.ClientResponse) -> Any:
    ctype = resp.content_type
    if ctype == "application/json":
        try:
            return json.loads(await resp.text())
        except ValueError:
            return None
    if ctype == "multipart/form-data":
        reader = aiohttp.MultipartReader.from_response(resp)
        out: dict[str, Any] = {}
        while True:
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, aiohttp.BodyPartReader) and part.name:
                out[part.name] = await part.text()
        return out
    await resp.read()
    return None


async def _run_reply(api: BotApi, bot: BotRecord, reply: dict[str, Any]) -> None:
    spec = METHODS.get(str(reply["method"]).lower())
    if spec is None:
        return
    api.world.stats.calls[spec.name] += 1
    values = {k: v for k, v in reply.items() if k != "method"}
    with contextlib.suppress(ApiError):
        await spec.handler(api, bot, Params(values))
