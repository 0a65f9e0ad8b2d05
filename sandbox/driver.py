"""Conversation driver: end-to-end tests that read like the conversation they test.

A complete example (an aiogram bot polling the emulator, driven as a person)::

    import asyncio

    from aiogram import Bot, Dispatcher, F, Router
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
    from sandbox import Emulator

    TOKEN = "123456789:TEST-token"

    async def test_report_flow() -> None:
        router = Router()

        @router.message(F.text == "/report")
        async def report(message: Message) -> None:
            kb = InlineKeyboardMarkup(inline_keyboard=[[
                InlineKeyboardButton(text="火灾隐患", callback_data="type:fire")]])
            await message.answer("请选择隐患类型", reply_markup=kb)

        @router.callback_query(F.data == "type:fire")
        async def fire(query: CallbackQuery) -> None:
            await query.answer("已选择")
            await query.message.edit_text("请描述隐患")

        async with Emulator() as emu:
            emu.add_bot(TOKEN, "gridbot_test_bot")
            bot = Bot(TOKEN, session=emu.bot_session())
            dp = Dispatcher()
            dp.include_router(router)
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False,
                                                           polling_timeout=1))
            try:
                alice = emu.user(800000001, first_name="Alice")
                await alice.send("/report")
                menu = await alice.expect_reply(contains="隐患类型")
                assert menu.button_texts == ["火灾隐患"]
                await alice.press("火灾隐患")
                edited = await alice.expect_reply(contains="描述")
                assert edited.edited
                assert (await alice.expect_answer()).text == "已选择"
                await alice.send_location(39.9, 116.4)
                await alice.send_photo()
                await alice.send_album(3)
                await alice.expect_silence(timeout=0.3)  # the router has no such handler
            finally:
                await dp.stop_polling()
                await polling
                await bot.session.close()

Rules of the road:

- ``emu.user(id)`` makes the person if new and returns a DriverUser bound to
  the private chat with the (first) bot; ``alice.in_group(group)`` returns one
  bound to a group (``emu.create_group(...)``).
- ``expect_reply`` waits for the next bot message or edit in that chat that
  this person has not consumed yet. With ``contains``/``regex`` it skips (and
  consumes) non-matching ones. On timeout it fails with the chat's transcript.
- ``expect_silence`` asserts no new bot message or edit arrives within the time.
- ``press(text)`` presses the inline button with that text on the newest bot
  message carrying it (or a reply-keyboard button); the error lists the buttons
  there are. ``press(number=2)`` presses by position.
- Nothing here sleeps to wait: waits are on the emulator's change notifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.render import render_transcript
from sandbox.world import BotRecord, CallbackPress, Chat, TranscriptEntry, chat_key

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

BOT_MESSAGE_KINDS = ("sent", "edited")


@dataclass(frozen=True)
class BotMessage:
    """A bot message (or edit) as it arrived, from the transcript."""

    entry: TranscriptEntry
    emu: Emulator

    @property
    def message_id(self) -> int:
        return int(self.entry.message_id or 0)

    @property
    def chat_id(self) -> int:
        return self.entry.chat_id

    @property
    def kind(self) -> str:
        return self.entry.kind

    @property
    def edited(self) -> bool:
        return self.entry.kind == "edited"

    @property
    def raw(self) -> dict[str, Any]:
        return self.entry.message or {}

    @property
    def text(self) -> str:
        """The text (or caption) as the person sees it, HTML already applied."""
        return self.entry.text or ""

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def buttons(self) -> list[list[str]]:
        return [[b.get("text", "") for b in row] for row in self.entry.buttons]

    @property
    def button_texts(self) -> list[str]:
        return self.entry.button_texts

    @property
    def button_data(self) -> dict[str, str]:
        return {
            b.get("text", ""): b.get("callback_data", "") for row in self.entry.buttons for b in row
        }

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """The reply keyboard sent with the message (buttons as dicts)."""
        return self.entry.keyboard

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.raw.get("photo")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def location(self) -> dict[str, Any] | None:
        return self.raw.get("location")

    def document_bytes(self) -> bytes:
        if not self.document:
            raise AssertionError(f"message {self.message_id} has no document")
        return self.emu.file_bytes(self.document["file_id"])

    def has_button(self, text: str) -> bool:
        return text in self.button_texts

    def __contains__(self, part: str) -> bool:
        return part in self.text

    def __str__(self) -> str:
        return self.text


class LiveLocation:
    """A live location a person shares; ``move`` sends edited_message updates."""

    def __init__(self, user: DriverUser, message: dict[str, Any]) -> None:
        self.user = user
        self.message = message

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    async def move(self, latitude: float, longitude: float) -> dict[str, Any]:
        u = self.user
        self.message = u.emu.user_move_live_location(
            u.id, self.message_id, latitude, longitude, u.chat_id, bot=u.bot
        )
        return self.message

    async def stop(self) -> dict[str, Any]:
        loc = self.message["location"]
        u = self.user
        self.message = u.emu.user_move_live_location(
            u.id,
            self.message_id,
            loc["latitude"],
            loc["longitude"],
            u.chat_id,
            stop=True,
            bot=u.bot,
        )
        return self.message


class DriverUser:
    """One person in one chat (their private chat with the bot, or a group)."""

    def __init__(
        self, emu: Emulator, user_id: int, chat_id: int | None = None, bot: BotRecord | None = None
    ) -> None:
        self.emu = emu
        self.id = user_id
        self.chat_id = chat_id
        self.bot = bot

    # -- where ----------------------------------------------------------------
    @property
    def chat(self) -> Chat:
        return self.emu.user_chat(self.emu.user_record(self.id), self.chat_id, self.bot)

    def in_group(self, group: Chat | int) -> DriverUser:
        chat_id = group.id if isinstance(group, Chat) else group
        return DriverUser(self.emu, self.id, chat_id, self.bot)

    def private(self) -> DriverUser:
        return DriverUser(self.emu, self.id, None, self.bot)

    @property
    def _cursor_key(self) -> tuple[object, ...]:
        return (self.id, chat_key(self.chat))

    @property
    def _answer_cursor_key(self) -> tuple[object, ...]:
        return (self.id, chat_key(self.chat), "answers")

    # -- saying things --------------------------------------------------------
    async def send(
        self, text: str, reply_to: int | BotMessage | None = None, anonymous: bool = False
    ) -> dict[str, Any]:
        """Text as typed (``/cmd``, ``/cmd@bot``, ``/start payload`` get bot_command entities).

        ``anonymous=True`` in a group sends as the group (an anonymous admin).
        """
        mid = reply_to.message_id if isinstance(reply_to, BotMessage) else reply_to
        return self.emu.user_send(self.id, text, self.chat_id, mid, anonymous, self.bot)

    async def start(self, payload: str | None = None) -> dict[str, Any]:
        """``/start`` or the deep link ``/start payload``."""
        return await self.send(f"/start {payload}" if payload else "/start")

    async def press(
        self,
        text: str | None = None,
        *,
        number: int | None = None,
        message: BotMessage | int | None = None,
        inaccessible: bool = False,
        location: tuple[float, float] | None = None,
    ) -> CallbackPress | dict[str, Any]:
        mid = message.message_id if isinstance(message, BotMessage) else message
        if text is None and number is None:
            raise ValueError("press(text) or press(number=N)")
        return self.emu.press(
            self.id,
            text,
            chat_id=self.chat_id,
            number=number,
            message_id=mid,
            location=location,
            inaccessible=inaccessible,
            bot=self.bot,
        )

    async def send_location(
        self,
        latitude: float,
        longitude: float,
        *,
        forwarded_from: DriverUser | int | str | None = None,
        horizontal_accuracy: float | None = None,
        live_period: int | None = None,
    ) -> dict[str, Any]:
        origin = forwarded_from.id if isinstance(forwarded_from, DriverUser) else forwarded_from
        return self.emu.user_send_location(
            self.id,
            latitude,
            longitude,
            self.chat_id,
            live_period,
            horizontal_accuracy,
            origin,
            bot=self.bot,
        )

    async def send_live_location(
        self, latitude: float, longitude: float, live_period: int = 900
    ) -> LiveLocation:
        message = await self.send_location(latitude, longitude, live_period=live_period)
        return LiveLocation(self, message)

    async def send_photo(
        self, caption: str | None = None, data: bytes | None = None
    ) -> dict[str, Any]:
        return self.emu.user_send_photo(self.id, self.chat_id, caption, data, bot=self.bot)

    async def send_album(self, count: int = 3, caption: str | None = None) -> list[dict[str, Any]]:
        return self.emu.user_send_album(self.id, count, self.chat_id, caption, self.bot)

    async def send_document(
        self, data: bytes, file_name: str = "file.txt", caption: str | None = None
    ) -> dict[str, Any]:
        return self.emu.user_send_document(
            self.id, data, file_name, self.chat_id, caption, bot=self.bot
        )

    async def send_contact(self, phone_number: str | None = None) -> dict[str, Any]:
        return self.emu.user_send_contact(self.id, phone_number, self.chat_id, self.bot)

    async def block_bot(self) -> None:
        self.emu.block_bot(self.id, self.bot)

    async def unblock_bot(self) -> None:
        self.emu.unblock_bot(self.id, self.bot)

    # -- reading ----------------------------------------------------------------
    def transcript(self) -> list[TranscriptEntry]:
        return self.emu.transcript(self.chat)

    def transcript_text(self) -> str:
        return render_transcript([e.as_dict() for e in self.transcript()])

    def _pending(
        self, kinds: tuple[str, ...], cursor: tuple[object, ...] | None = None
    ) -> list[TranscriptEntry]:
        seq = self.emu.cursors.get(cursor or self._cursor_key, 0)
        return [e for e in self.emu.entries_after(self.chat, seq) if e.kind in kinds]

    async def expect_reply(
        self,
        contains: str | None = None,
        *,
        regex: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        kinds: tuple[str, ...] = BOT_MESSAGE_KINDS,
    ) -> BotMessage:
        """The next bot message/edit here not yet consumed (matching, if asked)."""
        pattern = re.compile(regex) if regex else None

        def match(entry: TranscriptEntry) -> bool:
            text = entry.text or ""
            if contains is not None and contains not in text:
                return False
            return not (pattern is not None and not pattern.search(text))

        def find() -> TranscriptEntry | None:
            return next((e for e in self._pending(kinds) if match(e)), None)

        found = await self.emu.changed.wait_for(find, timeout)
        if found is None:
            wanted = " ".join(
                part
                for part in (
                    f"containing {contains!r}" if contains is not None else "",
                    f"matching /{regex}/" if regex else "",
                )
                if part
            )
            raise AssertionError(
                f"no bot reply {wanted} for user {self.id} in chat {self.chat.id} within "
                f"{timeout}s. Transcript:\n{self.transcript_text()}"
            )
        self.emu.cursors[self._cursor_key] = found.seq
        return BotMessage(found, self.emu)

    async def expect_answer(self, timeout: float = 5.0) -> CallbackAnswer:  # noqa: ASYNC109
        """The bot's answer to this person's latest press (answerCallbackQuery)."""

        def find() -> TranscriptEntry | None:
            for e in self._pending(("callback_answer",), self._answer_cursor_key):
                if e.detail.get("user_id") == self.id:
                    return e
            return None

        found = await self.emu.changed.wait_for(find, timeout)
        if found is None:
            raise AssertionError(
                f"the bot did not answer the press of user {self.id} within {timeout}s. "
                f"Transcript:\n{self.transcript_text()}"
            )
        self.emu.cursors[self._answer_cursor_key] = found.seq
        return CallbackAnswer(found.detail.get("text"), bool(found.detail.get("show_alert")))

    async def expect_silence(self, timeout: float = 0.3) -> None:  # noqa: ASYNC109
        """Fail if a bot message or edit arrives here within ``timeout`` seconds."""
        arrived = await self.emu.changed.wait_for(lambda: self._pending(BOT_MESSAGE_KINDS), timeout)
        if arrived:
            shown = render_transcript([e.as_dict() for e in arrived])
            raise AssertionError(f"expected silence in chat {self.chat.id}, got:\n{shown}")

    def skip_pending(self) -> None:
        """Consume everything so far: the next expect_reply sees only what comes later."""
        self.emu.cursors[self._cursor_key] = len(self.emu.log)
        self.emu.cursors[self._answer_cursor_key] = len(self.emu.log)


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
