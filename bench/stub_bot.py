"""A Bot API answered in process, for benchmarks that measure the bot's own cost.

Every call succeeds at once: a send returns a Message (kept, with its keyboard, so a driver
can press its buttons), an edit returns the edited Message, anything answering `true` gets
true. No network, no flood limits: those are the emulator's business (sandbox/).
"""

from __future__ import annotations

import itertools
import time
import types
import typing
from collections.abc import AsyncGenerator
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import GetMe, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, Message, User


def _field(method: TelegramMethod[Any], name: str) -> Any:
    """The method's field, None when it has none (pydantic's getattr of a missing attribute
    is slow enough to show in the figures)."""
    return getattr(method, name) if name in type(method).model_fields else None


class StubSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.ids = itertools.count(1)
        self.said: list[tuple[int, str]] = []
        """(chat id, text or caption) of every message sent or edited, in order."""
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}
        """chat id -> message id -> the message as Telegram would send it to a client."""

    def mark(self) -> int:
        return len(self.said)

    def texts_since(self, mark: int, chat_id: int) -> list[str]:
        return [t for c, t in self.said[mark:] if c == chat_id]

    def button(self, chat_id: int, label: str) -> tuple[dict[str, Any], str]:
        """The newest message in the chat with an inline button so labelled, and its data."""
        for message in reversed(list(self.messages.get(chat_id, {}).values())):
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    if button.get("text") == label and "callback_data" in button:
                        return message, button["callback_data"]
        raise LookupError(f"no button {label!r} in chat {chat_id}")

    def _keep(self, method: TelegramMethod[Any]) -> dict[str, Any]:
        chat_id = int(_field(method, "chat_id") or 0)
        chat = self.messages.setdefault(chat_id, {})
        edited = _field(method, "message_id")
        message_id = int(edited) if edited is not None else next(self.ids)
        message = chat.get(message_id) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": {"id": 1, "is_bot": True, "first_name": "bot"},
        }
        said = _field(method, "text") or _field(method, "caption")
        if said is not None:
            message["text"] = str(said)
            self.said.append((chat_id, str(said)))
        markup = _field(method, "reply_markup")
        if isinstance(markup, InlineKeyboardMarkup):
            message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        elif "reply_markup" in type(method).model_fields and edited is not None:
            message.pop("reply_markup", None)
        chat[message_id] = message
        return message

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> TelegramType:
        returning = method.__returning__
        kinds = typing.get_args(returning) if isinstance(returning, types.UnionType) else ()
        if isinstance(method, GetMe):
            me = User(id=bot.id, is_bot=True, first_name="bench", username="gridbot_bench_bot")
            return typing.cast(TelegramType, me)
        if returning is Message or Message in kinds:
            kept = self._keep(method)
            return typing.cast(TelegramType, Message.model_validate(kept, context={"bot": bot}))
        if typing.get_origin(returning) is list and typing.get_args(returning) == (Message,):
            media = _field(method, "media") or []
            sent = [self._keep(method) for _ in media]
            return typing.cast(
                TelegramType, [Message.model_validate(m, context={"bot": bot}) for m in sent]
            )
        return typing.cast(TelegramType, True)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def close(self) -> None:
        return None
