"""Which of Telegram's answers mean "already done", what the call then returns, how long a
handler waits out flood control, and which calls count as an update's."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from aiogram import Bot
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageCaption,
    EditMessageChecklist,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import InputChecklist, InputChecklistTask

from bot.callback_answers import AnswerOnce
from bot.context import AppContext
from bot.telegram_calls import (
    MAX_TRIES,
    MAX_WAIT_S,
    UpdateCalls,
    answering,
    answering_update,
    done_result,
    is_harmless,
    on_session,
    retry_wait,
)

# The descriptions exactly as Telegram sends them (aiogram's TelegramBadRequest.message).
HARMLESS = [
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message",
    "Bad Request: message to edit not found",
    "Bad Request: message to delete not found",
    "Bad Request: query is too old and response timeout expired or query ID is invalid",
]
NOT_HARMLESS = [
    "Bad Request: message can't be edited",
    "Bad Request: message to be replied not found",
    "Bad Request: chat not found",
    "Bad Request: message is too long",
    "Bad Request: MESSAGE_TOO_LONG",
    "Bad Request: there is no text in the message to edit",
    'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0',
    "Forbidden: bot was blocked by the user",
    "Too Many Requests: retry after 5",
]


@pytest.mark.parametrize("description", HARMLESS)
def test_telegrams_already_done_answers_are_harmless(description: str) -> None:
    assert is_harmless(description)


@pytest.mark.parametrize("description", NOT_HARMLESS)
def test_real_refusals_are_not(description: str) -> None:
    assert not is_harmless(description)


def _checklist() -> InputChecklist:
    return InputChecklist(title="巡查", tasks=[InputChecklistTask(id=1, text="安全疏散")])


@pytest.mark.parametrize(
    "method",
    [
        EditMessageText(chat_id=1, message_id=2, text="x"),
        EditMessageCaption(chat_id=1, message_id=2, caption="x"),
        EditMessageReplyMarkup(chat_id=1, message_id=2),
        DeleteMessage(chat_id=1, message_id=2),
        AnswerCallbackQuery(callback_query_id="1"),
    ],
    ids=lambda m: m.__api_method__,
)
def test_a_method_that_may_answer_true_returns_true(method: TelegramMethod[object]) -> None:
    assert done_result(Bot("1:x"), method) is True


@pytest.mark.parametrize(
    "method",
    [
        SendMessage(chat_id=1, text="x"),
        EditMessageChecklist(
            business_connection_id="b", chat_id=1, message_id=2, checklist=_checklist()
        ),
    ],
    ids=lambda m: m.__api_method__,
)
def test_a_method_that_must_return_a_message_cannot_be_taken_as_done(
    method: TelegramMethod[object],
) -> None:
    assert done_result(Bot("1:x"), method) is None


def test_flood_control_is_waited_out_within_bounds() -> None:
    assert retry_wait(tries=1, waited=0.0, retry_after=3) == 3
    assert retry_wait(tries=MAX_TRIES - 1, waited=0.0, retry_after=1) == 1
    assert retry_wait(tries=MAX_TRIES, waited=0.0, retry_after=1) is None
    assert retry_wait(tries=1, waited=0.0, retry_after=MAX_WAIT_S) == MAX_WAIT_S
    assert retry_wait(tries=1, waited=0.0, retry_after=MAX_WAIT_S + 1) is None
    assert retry_wait(tries=2, waited=MAX_WAIT_S - 2, retry_after=3) is None


async def test_only_calls_made_while_an_update_is_handled_are_its_own() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    seen: list[bool] = []

    async def outlives_the_update() -> None:
        seen.append(answering_update())
        started.set()
        await release.wait()
        seen.append(answering_update())

    assert not answering_update()
    with answering(41):
        assert answering_update()
        task = asyncio.create_task(outlives_the_update())
        await started.wait()
    assert not answering_update()
    release.set()
    await task
    assert seen == [True, False]


def test_a_session_is_asked_for_its_request_middlewares_as_it_has_them() -> None:
    bot = Bot("1:x")
    assert not on_session(bot, UpdateCalls) and not on_session(bot, AnswerOnce)
    bot.session.middleware(UpdateCalls(cast(AppContext, None)))
    for _ in range(2):  # the second time from what was found
        assert on_session(bot, UpdateCalls) and not on_session(bot, AnswerOnce)
    bot.session.middleware(AnswerOnce())
    assert on_session(bot, AnswerOnce) and on_session(bot, UpdateCalls)
    assert [type(m) for m in bot.session.middleware] == [UpdateCalls, AnswerOnce]
    assert not on_session(Bot("1:x"), UpdateCalls)  # per session
