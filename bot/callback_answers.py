"""Every button press is answered, once and in time, in one place.

Telegram shows a spinner on a pressed button until the bot answers the callback query, and it
refuses an answer that comes more than about 15 seconds after the press ("query is too old
and response timeout expired or query ID is invalid"). Handlers answer with a text of their
own (a refusal, "continue in private"), often after database work and sometimes after other
calls to Telegram, and some paths never answer at all. So, around every callback_query:

- the handler's first answer goes out as it is, text and alert included;
- if the handler has not answered `ANSWER_BUDGET_S` seconds after the update reached it, an
  empty answer goes out then (the spinner stops; the press was seen), and so it does just
  before the handler waits out flood control (a 429's `retry_after` can outlast the window);
- a handler that finishes without answering gets the empty answer at the end;
- every answer after the first is dropped here (Telegram would refuse it): logged at INFO.

aiogram's `CallbackAnswerMiddleware` answers either before the handler (no handler text ever
reaches the person) or after it (too late on a slow path), and refuses a second answer by
raising; neither keeps the handler's text when it is in time and the window when it is not.

The budget is real time on purpose: Telegram's window runs on real time, and what the bot
can measure is how long its own handling has taken so far.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import CallbackQuery, TelegramObject

from bot.telegram_calls import on_session

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

# Well inside Telegram's ~15 s, with room for the update's way to the bot.
ANSWER_BUDGET_S: Final = 8.0

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@dataclass
class _Press:
    query_id: str
    answered: bool = False
    open: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


_press: ContextVar[_Press | None] = ContextVar("gridbot_press", default=None)


def _current() -> _Press | None:
    press = _press.get()
    return press if press is not None and press.open else None


async def _answer_empty(bot: Bot, press: _Press, why: str) -> None:
    """The spinner stops; a failure here must not fail the handler's own work."""
    if press.answered:
        return
    log.info("callback %s answered early (%s)", press.query_id, why)
    try:
        await bot.answer_callback_query(press.query_id)
    except TelegramAPIError as exc:
        log.warning("could not answer callback %s: %s", press.query_id, exc)


class AnswerOnce(BaseRequestMiddleware):
    """On the bot's session: the first answer to the press being handled goes out, later
    ones are dropped; a call about to wait out flood control answers the press first."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        press = _current()
        if press is None:
            return await make_request(bot, method)
        answer = method if isinstance(method, AnswerCallbackQuery) else None
        if answer is not None and answer.callback_query_id == press.query_id:
            async with press.lock:
                if press.answered:
                    log.info("callback %s: answered already; %r dropped", press.query_id,
                             answer.text)  # fmt: skip
                    # The chain carries the method's result (True), as telegram_calls does.
                    return cast(Response[TelegramType], True)
                press.answered = True
            try:
                return await make_request(bot, method)
            except BaseException:
                press.answered = False  # not shown: the next answer (or the last) may be
                raise
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter:
            # The call will be made again after retry_after (telegram_calls.UpdateCalls):
            # the press cannot wait that long for its answer.
            await _answer_empty(bot, press, "before waiting out flood control")
            raise


class EarlyAnswer(BaseMiddleware):
    """Outer middleware on callback queries: see the module docstring."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    def setup(self, dp: Dispatcher) -> None:
        dp.callback_query.outer_middleware(self)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        bot: Bot = data["bot"]
        # Here rather than where the Bot is built, as telegram_calls.AnsweringUpdate does; put
        # on after its UpdateCalls, so this one is inside it and sees a 429 before the wait.
        if not on_session(bot, AnswerOnce):
            bot.session.middleware(AnswerOnce())
        press = _Press(event.id)
        token = _press.set(press)
        budget = self.app.answer_budget_s or ANSWER_BUDGET_S

        # A timer, not a task per press: most presses are answered long before it rings.
        late: list[asyncio.Task[None]] = []

        def overdue() -> None:
            late.append(
                asyncio.create_task(_answer_empty(bot, press, f"no answer after {budget:g} s"))
            )

        timer = asyncio.get_running_loop().call_later(budget, overdue)
        try:
            return await handler(event, data)
        finally:
            timer.cancel()
            for task in late:
                await task
            await _answer_empty(bot, press, "the handler gave none")
            press.open = False
            _press.reset(token)
