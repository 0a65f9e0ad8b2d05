"""bot.chat_answers builds the method `Message.answer` builds: the same fields, the same
values (the bot's defaults unresolved alike), bound to the same bot, for a message in a
private chat, in a forum topic, in a reply-keyboard chat and from a business connection."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.methods import SendMessage
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.types.reply_markup_union import ReplyMarkupUnion

from bot.chat_answers import answer_method

BOT = Bot("123456:TEST-TOKEN-NEVER-USED", default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def _sent(method: SendMessage) -> dict[str, Any]:
    """The fields as the bot's session sends them (AiohttpSession.build_form_data): the
    bot's defaults filled in, empty ones left out."""
    session = BOT.session
    sent = {
        key: session.prepare_value(value, bot=BOT, files={})
        for key, value in method.model_dump(warnings=False).items()
    }
    return {key: value for key, value in sent.items() if value}


PRIVATE: dict[str, Any] = {
    "message_id": 11,
    "date": 1773104400,
    "chat": {"id": 810000001, "type": "private", "first_name": "P"},
    "from": {"id": 810000001, "is_bot": False, "first_name": "P"},
    "text": "楼道堆放杂物",
}
TOPIC: dict[str, Any] = {
    **PRIVATE,
    "chat": {"id": -1001234567890, "type": "supergroup", "title": "网格", "is_forum": True},
    "message_thread_id": 7,
    "is_topic_message": True,
}
THREAD_NOT_TOPIC: dict[str, Any] = {**TOPIC, "is_topic_message": None}
BUSINESS: dict[str, Any] = {**PRIVATE, "business_connection_id": "bc-1"}

MARKUPS: list[ReplyMarkupUnion | None] = [
    None,
    InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="完成", callback_data="r:done:0")]]
    ),
    ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="📍 发送位置", request_location=True)]]),
    ReplyKeyboardRemove(),
]


@pytest.mark.parametrize("raw", [PRIVATE, TOPIC, THREAD_NOT_TOPIC, BUSINESS])
@pytest.mark.parametrize("markup", MARKUPS)
def test_the_method_is_what_message_answer_builds(
    raw: dict[str, Any], markup: ReplyMarkupUnion | None
) -> None:
    message = Message.model_validate(raw, context={"bot": BOT})
    ours = answer_method(message, "请描述隐患", markup)
    theirs = message.answer("请描述隐患", reply_markup=markup)
    assert type(ours) is type(theirs)
    assert ours.model_dump(warnings=False) == theirs.model_dump(warnings=False)
    assert _sent(ours) == _sent(theirs)
    assert ours.bot is theirs.bot is BOT
