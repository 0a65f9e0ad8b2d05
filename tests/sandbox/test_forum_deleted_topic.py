"""A forum topic a person deletes (``emu.delete_topic``): its messages go with it, and every
kind of send naming it is refused as Telegram refuses it, through a real aiogram Bot."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InputMediaPhoto

from sandbox import Emulator
from sandbox.images import make_jpeg
from tests.sandbox.conftest import ALICE, BOB


async def test_a_deleted_topic_takes_its_messages_and_refuses_sends(
    bot: Bot, emu: Emulator
) -> None:
    chat_id = emu.create_group(
        "消防论坛", members=[BOB], admins=[ALICE], supergroup=True, bot_admin=True
    ).id
    emu.make_forum(chat_id)
    topic = await bot.create_forum_topic(chat_id, "🔴 LH-250101-0001")
    thread = topic.message_thread_id
    inside = await bot.send_message(chat_id, "已立案", message_thread_id=thread)
    general = await bot.send_message(chat_id, "大家好")
    emu.delete_topic(chat_id, thread)

    assert thread not in emu.group(chat_id).topics
    left = {m["message_id"] for m in emu.bot_messages(chat_id)}
    assert left == {general.message_id}  # the topic's messages went with it
    assert inside.message_id not in left
    photo = BufferedInputFile(make_jpeg(64, 48), "p.jpg")
    sends = (
        bot.send_message(chat_id, "处理反馈", message_thread_id=thread),
        bot.send_photo(chat_id, photo, caption="卡片", message_thread_id=thread),
        bot.send_document(chat_id, BufferedInputFile(b"x", "x.txt"), message_thread_id=thread),
        bot.send_media_group(
            chat_id,
            [InputMediaPhoto(media=photo), InputMediaPhoto(media=photo)],
            message_thread_id=thread,
        ),
    )
    for send in sends:
        with pytest.raises(TelegramBadRequest, match="message thread not found"):
            await send
    assert {m["message_id"] for m in emu.bot_messages(chat_id)} == left
    # The same message without the thread goes to General.
    assert (await bot.send_message(chat_id, "处理反馈")).message_thread_id is None
    with pytest.raises(LookupError):
        emu.delete_topic(chat_id, thread)
