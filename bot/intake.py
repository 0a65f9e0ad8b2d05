"""The bot's door: every update is parsed on its own before anything handles it.

aiogram parses a getUpdates batch whole, so one update its types reject (an older `audio`
without `file_unique_id`, say) fails every poll: the offset never moves and every update
behind it waits forever. Here each update of a batch, and each webhook body, is parsed
alone. One that cannot be parsed is kept raw in the quarantine table, logged once as a
warning, and confirmed like any other, so the ones behind it go on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.dispatcher import DEFAULT_BACKOFF_CONFIG
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.context import AppContext
from storage.inbox import keep_update
from storage.quarantine import quarantine_update

log = logging.getLogger(__name__)

# Replay protection keeps update ids as BIGINT, and the next offset (id + 1) must fit too.
# A negative id would turn that offset into getUpdates' "keep only the last N".
UPDATE_ID_LIMIT = 2**63 - 1
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SHOWN_ERRORS = 3


@dataclass(frozen=True)
class Unparsable:
    """Why an update was refused, and its id when that id is usable."""

    reason: str
    update_id: int | None


def usable_update_id(raw: object) -> int | None:
    """The update's id when it can be stored and confirmed, else None."""
    value = raw.get("update_id") if isinstance(raw, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < UPDATE_ID_LIMIT:
        return value
    return None


def looks_like_update(raw: object) -> bool:
    """A JSON object with a whole-number update_id: something Telegram could have sent."""
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return isinstance(value, int) and not isinstance(value, bool)


def parse_update(raw: object, bot: Bot) -> Update | Unparsable:
    """One update, alone: aiogram's Update, or the reason it is refused (one line)."""
    if not isinstance(raw, dict):
        return Unparsable(f"not a JSON object but {type(raw).__name__}", None)
    update_id = usable_update_id(raw)
    if update_id is None:
        shown = repr(raw.get("update_id", "missing"))[:40]
        return Unparsable(f"update_id {shown} is not a whole number in 0..2**63-2", None)
    try:
        return Update.model_validate(raw, context={"bot": bot})
    except ValidationError as exc:
        return Unparsable(_describe(exc), update_id)


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:SHOWN_ERRORS]]
    more = f" (+{len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
    return " ".join(("; ".join(parts) + more).split())  # one line, whatever the loc held


class Intake:
    """Parses one raw update; quarantines it when aiogram's types refuse it."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    async def admit(self, raw: object, bot: Bot) -> Update | None:
        """The parsed update, or None once an unparsable one is kept (or was already)."""
        parsed = parse_update(raw, bot)
        if isinstance(parsed, Update):
            return parsed
        async with self.app.db.session() as session:
            kept = await quarantine_update(
                session,
                update_id=parsed.update_id,
                raw=json.dumps(raw, ensure_ascii=False),
                reason=parsed.reason,
                now=self.app.clock.now(),
            )
        if kept is not None:
            log.warning(
                "update %s quarantined, skipped: %s",
                parsed.update_id if parsed.update_id is not None else "(no usable id)",
                parsed.reason,
            )
        return None


class GetRawUpdates(TelegramMethod[list[Any]]):
    """getUpdates answered as plain JSON, so that each update is parsed on its own."""

    __returning__ = list[Any]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class GridDispatcher(Dispatcher):
    """aiogram's Dispatcher with a polling reader that parses each update alone.

    Only the reader is replaced: concurrency, start-up and shut-down, the stop signal and
    allowed_updates stay aiogram's own.
    """

    def __init__(self, intake: Intake, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.intake = intake

    async def _listen_updates(  # type: ignore[override]
        self,
        bot: Bot,
        polling_timeout: int = 30,
        backoff_config: BackoffConfig = DEFAULT_BACKOFF_CONFIG,
        allowed_updates: list[str] | None = None,
    ) -> AsyncGenerator[Update, None]:
        backoff = Backoff(config=backoff_config)
        get_updates = GetRawUpdates(timeout=polling_timeout, allowed_updates=allowed_updates)
        kwargs: dict[str, Any] = {}
        if bot.session.timeout:
            # The request must outlive the long poll, as in aiogram's own reader.
            kwargs["request_timeout"] = int(bot.session.timeout + polling_timeout)
        while True:
            try:
                batch = await bot(get_updates, **kwargs)
            except Exception as exc:  # Telegram unreachable or answering nonsense: retry
                log.error("failed to fetch updates - %s: %s", type(exc).__name__, exc)
                await backoff.asleep()
                continue
            backoff.reset()
            confirmed = False
            for raw in batch:
                try:
                    update = await self.intake.admit(raw, bot)
                except Exception:
                    # The quarantine could not be written (the database is away): fetch the
                    # batch again from this update rather than lose it.
                    log.exception("update could not be quarantined; fetching it again")
                    await backoff.asleep()
                    break
                if update is not None:
                    yield update
                update_id = usable_update_id(raw)
                if update_id is not None:
                    get_updates.offset = update_id + 1
                    confirmed = True
            else:
                if batch and not confirmed:
                    # Nothing here can be confirmed by its own id; only a later update will
                    # move past it. Do not ask again at once in a hot loop.
                    await backoff.asleep()


class IntakeRequestHandler(SimpleRequestHandler):
    """The webhook endpoint: the secret first, then each body parsed alone, then kept.

    Not JSON, an empty body, or JSON that is not an update at all: 400 and one warning
    line, nothing written; only a broken or hostile client sends that, and Telegram never
    does. An update whose contents aiogram's types reject (or whose id does not fit in 64
    bits) is a real update from Telegram: it is quarantined and answered 200, because
    Telegram resends any non-2xx answer and a 400 would bring it back forever, holding up
    the updates queued behind it.

    A good update is written to the inbox (storage.inbox) before the 200: once Telegram
    has its answer, the update is on disk and a worker (bot.inbox_worker) hands it to the
    dispatcher, here or in another instance, after a crash too. When it cannot be written
    (the database is away) the answer is 503, and Telegram sends it again later.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        intake: Intake,
        secret: str,
        wake: Callable[[], None],
    ) -> None:
        super().__init__(dispatcher=dispatcher, bot=bot, secret_token=secret)
        self.intake = intake
        self.wake = wake

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            return web.Response(body="Unauthorized", status=401)
        body = await request.read()
        try:
            raw = json.loads(body)
        except ValueError:  # also an empty body, and bytes that are not UTF-8
            return self._refuse(request, f"not JSON ({len(body)} bytes)")
        if not looks_like_update(raw):
            return self._refuse(request, "JSON that is not an update")
        try:
            update = await self.intake.admit(raw, bot)
            if update is not None:
                await self._keep(bot, update, raw)
        except Exception as exc:
            log.error(
                "webhook: update %s not kept, answered 503 for Telegram to send it again: %s",
                raw.get("update_id"),
                " ".join(str(exc).split())[:300] or type(exc).__name__,
            )
            return web.Response(status=503, text="try again later")
        return web.json_response({})

    async def _keep(self, bot: Bot, update: Update, raw: dict[str, Any]) -> None:
        app = self.intake.app
        async with app.db.session() as session:
            await keep_update(
                session,
                bot_id=bot.id,
                update_id=update.update_id,
                raw=json.dumps(raw, ensure_ascii=False),
                now=app.clock.now(),
            )
        self.wake()

    def _refuse(self, request: web.Request, why: str) -> web.Response:
        log.warning("webhook: refused a request from %s: %s", request.remote, why)
        return web.Response(status=400, text=why)
