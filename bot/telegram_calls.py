"""Telegram's answers to the calls a handler makes while it answers an update.

Two kinds of answer used to fail the update, roll back the person's step and log an ERROR:

- **Harmless answers**, which say the job is already done: an edit that changes nothing
  ("message is not modified", a second tap on the same button), an edit or a delete of a
  message that is gone ("message to edit not found", "message to delete not found"), a
  callback answer that comes too late to be shown ("query is too old ..."). The call returns
  what Telegram answers when such a call succeeds without a message, `true`, provided the
  method's result type admits it (edits, deletes, answerCallbackQuery). A method that must
  return a Message (sendMessage, editMessageChecklist) still raises: the handler would use it.
- **Flood control** (429, `retry_after`): the same call is made again after `retry_after`, at
  most `MAX_TRIES` times a call and `MAX_WAIT_S` seconds of waiting for the whole update,
  because the update holds its database transaction (and on SQLite the write lock) meanwhile.
  Past that it fails as before. A sendMessage is not handed to the outbox instead: handlers
  keep the Message it returns (its id, to edit the card later), which a queued row cannot give.

Only the calls made while an update is handled are treated so. The outbox notifier sends
through the same Bot, and it must go on seeing every answer: a 429 pauses all its sends and
reschedules the row, a vanished message fails the row (bot/notifier.py). A second bot and
session for the notifier would be the other way to keep them apart; a context variable set
around each update is simpler: nothing else changes, whoever builds the Bot.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import TelegramObject, Update
from pydantic import ValidationError

from bot.notifier import RealTimer, Timer

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

# How Telegram words an answer that means "already done" (the description after "Bad Request: ").
HARMLESS_ANSWERS: Final = (
    "message is not modified",
    "message to edit not found",
    "message to delete not found",
    "query is too old and response timeout expired or query ID is invalid",
)
MAX_TRIES: Final = 3
MAX_WAIT_S: Final = 10.0  # well under the callback's life and SQLite's busy timeout (30 s)


def is_harmless(description: str) -> bool:
    """True for Telegram's answers that mean the call's effect is already there."""
    text = description.removeprefix("Bad Request: ")
    return any(text.startswith(answer) for answer in HARMLESS_ANSWERS)


def done_result(bot: Bot, method: TelegramMethod[TelegramType]) -> TelegramType | None:
    """The result of `method` had Telegram answered `true`, or None if the method cannot."""
    response_type = Response[method.__returning__]  # type: ignore[name-defined]
    try:
        response = response_type.model_validate(
            {"ok": True, "result": True}, strict=True, context={"bot": bot}
        )
    except ValidationError:
        return None
    return cast(TelegramType, response.result)


def retry_wait(*, tries: int, waited: float, retry_after: float) -> float | None:
    """Seconds to wait after the `tries`-th try of a call met a 429, when the update has
    already waited `waited` seconds; None: give up."""
    if tries >= MAX_TRIES or waited + retry_after > MAX_WAIT_S:
        return None
    return retry_after


@dataclass
class _Answering:
    update_id: int
    open: bool = True
    waited: float = 0.0  # seconds this update has waited out flood control so far


_answering: ContextVar[_Answering | None] = ContextVar("gridbot_answering_update", default=None)


def _current() -> _Answering | None:
    current = _answering.get()
    return current if current is not None and current.open else None


def answering_update() -> bool:
    """True inside the handling of an update (and not after it ended)."""
    return _current() is not None


class answering:  # lower case: it replaced a function of that name
    """Marks what runs inside as the handling of update `update_id`. A class rather than a
    generator context manager: every update enters it, and the generator's machinery cost
    more than the marking."""

    __slots__ = ("current", "token")

    def __init__(self, update_id: int) -> None:
        self.current = _Answering(update_id)

    def __enter__(self) -> None:
        self.token = _answering.set(self.current)

    def __exit__(self, *_exc: object) -> None:
        # A task started by a handler copied this context and may outlive the update: its
        # later calls are not the update's answer any more.
        self.current.open = False
        _answering.reset(self.token)


def on_session(bot: Bot, kind: type[BaseRequestMiddleware]) -> bool:
    """Whether the bot's session has a request middleware of `kind`, asked once per session:
    every update asks, and walking aiogram's manager (a Sequence, item by item) cost more
    than the rest of the middleware's work."""
    found: dict[type, bool] = bot.session.__dict__.setdefault(_FOUND, {})
    if not found.get(kind):
        found[kind] = any(isinstance(m, kind) for m in bot.session.middleware)
    return found[kind]


_FOUND = "_gridbot_request_middlewares"


class UpdateCalls(BaseRequestMiddleware):
    """The bot session's request middleware: harmless answers as done, 429 waited out."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    @property
    def timer(self) -> Timer:
        # Read per use, not at start: tests put their timer into the running app.
        return self.app.timer or RealTimer()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        update = _current()
        if update is None:
            return await make_request(bot, method)
        name = method.__api_method__
        tries = 0
        while True:
            tries += 1
            try:
                return await make_request(bot, method)
            except TelegramBadRequest as exc:
                done = done_result(bot, method) if is_harmless(exc.message) else None
                if done is None:
                    raise
                log.info("%s answered %r: taken as done", name, exc.message)
                # aiogram's chain carries the method's result (the session returns
                # `response.result`) although it is annotated as a Response.
                return cast(Response[TelegramType], done)
            except TelegramRetryAfter as exc:
                wait = retry_wait(tries=tries, waited=update.waited, retry_after=exc.retry_after)
                if wait is None:
                    raise
                log.info("%s met flood control; trying again in %ss", name, wait)
                update.waited += wait
                await self.timer.sleep(wait)


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class AnsweringUpdate(BaseMiddleware):
    """Marks the calls made while an update is handled, and puts `UpdateCalls` on the bot."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    def setup(self, dp: Dispatcher) -> None:
        dp.update.outer_middleware(self)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot: Bot = data["bot"]
        # Here rather than where the Bot is built: production, the demo and the tests each
        # build their own Bot, and every one of them hands it to the dispatcher.
        if not on_session(bot, UpdateCalls):
            bot.session.middleware(UpdateCalls(self.app))
        with answering(event.update_id):
            return await handler(event, data)
