"""A message's answer in its own chat, as `Message.answer(text, reply_markup=...)` sends it.

`Message.answer` builds its SendMessage with every one of the method's twenty-odd fields
given (most as None or the bot's defaults), and aiogram's validator then looks at each: that
was half of what building the call cost, on every question a conversation asks. Here only
the fields the answer sets are given; the rest take the same defaults, so the method, and
what goes to Telegram, is the same (tests/unit/test_chat_answers.py holds the two side by
side).
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.types.reply_markup_union import ReplyMarkupUnion


def answer_method(
    message: Message, text: str, reply_markup: ReplyMarkupUnion | None
) -> SendMessage:
    """What `message.answer(text, reply_markup=reply_markup)` would send."""
    fields: dict[str, Any] = {}
    # What Message.answer fills in from the message: its chat, its topic, its business link.
    if message.is_topic_message:
        fields["message_thread_id"] = message.message_thread_id
    if message.business_connection_id is not None:
        fields["business_connection_id"] = message.business_connection_id
    method = SendMessage(chat_id=message.chat.id, text=text, reply_markup=reply_markup, **fields)
    return method.as_(message.bot)


async def answer(
    message: Message, text: str, reply_markup: ReplyMarkupUnion | None = None
) -> Message:
    """`message.answer(text, reply_markup=reply_markup)`, built for less (see above)."""
    return await answer_method(message, text, reply_markup)
