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
            # handle_as_tasks=False: the next getUpdates, which confirms a batch, leaves
            # only once its handlers have finished, so "confirmed" means "handled".
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False,
                                                           polling_timeout=1,
                                                           handle_as_tasks=False))
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
                await alice.expect_silence()  # the router has no such handler
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
- ``expect_silence`` asserts the bot has said nothing here that this person has
  not consumed. It reads the transcript once the bot has confirmed every update
  queued until then (so the bot must fetch a batch only after handling the last
  one: aiogram's ``handle_as_tasks=False``) and each of ``emu.settlers`` (e.g. the
  bot's outbox drained) has finished; its ``timeout`` is a safety limit that fails.
- ``expect_once`` is ``expect_reply`` for "exactly once": after the same wait,
  no second message here may match.
- ``press(text)`` presses the inline button with that text on the newest bot
  message carrying it (or a reply-keyboard button); the error lists the buttons
  there are. ``press(number=2)`` presses by position.
- ``react(message, "👍")`` sets the person's reaction (none given: takes it away); a bot
  hears of it only as an administrator that asked for message_reaction updates.
  Forums: ``emu.make_forum(chat_id)``, ``emu.set_bot_rights(chat_id, can_manage_topics=...)``,
  ``emu.delete_topic(chat_id, thread_id)`` (a person deletes a topic and its messages);
  a reply to a message in a topic lands in that topic.
- Nothing here sleeps to wait: waits are on the emulator's change notifier.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.render import render_transcript
from sandbox.world import BotRecord, CallbackPress, Chat, TranscriptEntry, chat_key

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

BOT_MESSAGE_KINDS = ("sent", "edited")
# How long a negative check may wait for the bot to finish before it fails (it never passes
# for want of time).
SAFETY_LIMIT = 30.0


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

    async def react(self, message: BotMessage | int, *emojis: str) -> None:
        """Set this person's reactions on a message (none given: take them away)."""
        mid = message.message_id if isinstance(message, BotMessage) else message
        self.emu.user_react(self.id, mid, list(emojis), self.chat_id, self.bot)

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
        match = _matcher(contains, regex)

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

    async def expect_once(
        self,
        contains: str | None = None,
        *,
        regex: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        kinds: tuple[str, ...] = BOT_MESSAGE_KINDS,
    ) -> BotMessage:
        """``expect_reply``, and the match is the only such message: once the bot has finished
        with everything sent so far (see ``expect_silence``), no other message here matches.
        An edit of the matched message itself is not a second message."""
        found = await self.expect_reply(contains, regex=regex, timeout=timeout, kinds=kinds)
        await self._settle(SAFETY_LIMIT, f"checking that {found.text[:40]!r} came once")
        match = _matcher(contains, regex)
        again = [
            e
            for e in self._pending(kinds)
            if match(e) and int(e.message_id or 0) != found.message_id
        ]
        if again:
            shown = render_transcript([e.as_dict() for e in [found.entry, *again]])
            raise AssertionError(
                f"expected one bot message like that in chat {self.chat.id}, got "
                f"{1 + len(again)}:\n{shown}"
            )
        return found

    async def expect_silence(self, timeout: float = SAFETY_LIMIT) -> None:  # noqa: ASYNC109
        """Fail if the bot has said anything here that this person has not consumed yet.

        The transcript is read once the bot has finished with every update queued so far,
        by anyone (``_settle``), so a late answer is never missed. ``timeout`` is only a
        safety limit for that wait, and reaching it fails.
        """
        await self._settle(timeout, f"expected silence in chat {self.chat.id}")
        arrived = self._pending(BOT_MESSAGE_KINDS)
        if arrived:
            shown = render_transcript([e.as_dict() for e in arrived])
            raise AssertionError(f"expected silence in chat {self.chat.id}, got:\n{shown}")

    async def _settle(self, limit: float, purpose: str) -> None:
        """Wait until every bot that can write here has confirmed each update queued until
        now (a later getUpdates offset; a 2xx webhook answer), then for the settlers.

        Confirmation means handled only when the bot fetches its next batch after its
        handlers finish (aiogram: ``start_polling(..., handle_as_tasks=False)``).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        # Kept by identity: a replayed update repeats an id the bot confirmed long ago.
        queued = [(bot, list(bot.updates)) for bot in self.emu.bots_in(self.chat)]
        waiting = [(bot, {id(u) for u in snapshot}) for bot, snapshot in queued]

        def confirmed() -> bool:
            return not any(id(u) in ids for bot, ids in waiting for u in bot.updates)

        if not await self.emu.changed.wait_for(confirmed, limit):
            left = [u.get("update_id") for bot, ids in waiting for u in bot.updates if id(u) in ids]
            raise AssertionError(
                f"{purpose}: the bot did not confirm update(s) {left} within {limit}s, so "
                f"nothing can be concluded. Transcript:\n{self.transcript_text()}"
            )
        for settle in self.emu.settlers:
            try:
                await asyncio.wait_for(settle(), max(deadline - loop.time(), 0.01))
            except TimeoutError:
                raise AssertionError(
                    f"{purpose}: {settle} did not finish within {limit}s"
                ) from None

    def skip_pending(self) -> None:
        """Consume everything so far: the next expect_reply sees only what comes later."""
        self.emu.cursors[self._cursor_key] = len(self.emu.log)
        self.emu.cursors[self._answer_cursor_key] = len(self.emu.log)


def _matcher(contains: str | None, regex: str | None) -> Callable[[TranscriptEntry], bool]:
    pattern = re.compile(regex) if regex else None

    def match(entry: TranscriptEntry) -> bool:
        text = entry.text or ""
        if contains is not None and contains not in text:
            return False
        return not (pattern is not None and not pattern.search(text))

    return match


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
