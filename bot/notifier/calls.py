"""One delivery as one Bot API call: a message, a photo, an album, a file, or an edit.

A new message goes into the row's forum topic when it names one (`message_thread_id`); an
edit needs none (a message id is the chat's, whatever topic the message is in)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, InputMediaPhoto, Message

from bot.notifier.queue import EditTarget, _Row


async def send_row(bot: Bot, row: _Row, target: EditTarget | None) -> int | None:
    """Make the call; returns the message id Telegram gave (an album: its first)."""
    markup = InlineKeyboardMarkup.model_validate(row.reply_markup) if row.reply_markup else None
    thread = row.message_thread_id
    if row.edit_of is not None:
        if target is None or target.message_id is None:
            raise TelegramBadRequest(
                method=None,  # type: ignore[arg-type]
                message=f"nothing to edit: {row.edit_of} was not delivered",
            )
        if target.captioned:
            result = await bot.edit_message_caption(
                chat_id=target.chat_id,
                message_id=target.message_id,
                caption=row.text,
                reply_markup=markup,
            )
        else:
            result = await bot.edit_message_text(
                chat_id=target.chat_id,
                message_id=target.message_id,
                text=row.text,
                reply_markup=markup,
            )
        return result.message_id if isinstance(result, Message) else target.message_id
    if row.document_name is not None:
        body = row.document_bytes
        if body is None:
            body = (row.document_body or "").encode("utf-8")
        file = BufferedInputFile(body, filename=row.document_name)
        sent = await bot.send_document(
            row.chat_id,
            file,
            caption=row.text or None,
            reply_markup=markup,
            message_thread_id=thread,
        )
    elif row.album:
        album = [
            InputMediaPhoto(media=photo, caption=row.text or None if place == 0 else None)
            for place, photo in enumerate(row.album)
        ]
        messages = await bot.send_media_group(
            row.chat_id, media=list(album), message_thread_id=thread
        )
        return messages[0].message_id
    elif row.photo is not None or row.document_bytes is not None:
        # a photo uploaded from bytes (a chart) when there is no file id or URL
        photo = row.photo or BufferedInputFile(row.document_bytes or b"", filename="photo.png")
        sent = await bot.send_photo(
            row.chat_id,
            photo,
            caption=row.text or None,
            reply_markup=markup,
            message_thread_id=thread,
        )
    else:
        sent = await bot.send_message(
            row.chat_id, row.text, reply_markup=markup, message_thread_id=thread
        )
    return sent.message_id
