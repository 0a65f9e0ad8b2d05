"""The Emulator: the world of bots, people and chats, served on loopback.

    async with Emulator(clock=ManualClock()) as emu:
        emu.add_bot("123456789:TEST", "gridbot_test_bot")
        bot = Bot("123456789:TEST", session=emu.bot_session())
        alice = emu.user(800000001, first_name="Alice")
        await alice.send("/start")

See sandbox/driver.py for the conversation driver and sandbox/control.py for the
HTTP API other processes use.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from domain.clock import Clock
from sandbox.botapi import BotApi, FileRecord
from sandbox.flood import FloodLimits
from sandbox.server import BotApiServer
from sandbox.userside import DEFAULT_LOCATION, UserSide
from sandbox.webhook import run_webhook
from sandbox.world import BotRecord, CallbackPress, Chat, TranscriptEntry, chat_key

if TYPE_CHECKING:
    from aiogram.client.session.aiohttp import AiohttpSession

    from sandbox.driver import DriverUser

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class PressError(LookupError):
    """No button to press; the message lists the buttons there are."""


class Emulator(UserSide):
    """A Telegram Bot API emulator on 127.0.0.1 (a free port unless ``port`` is given).

    ``limits`` defaults to Telegram's (FloodLimits.telegram(), see sandbox/flood.py); a test
    that needs FloodLimits.relaxed() says why. People are created not started: the bot may
    not write first to someone until they have written to it in private.
    """

    def __init__(
        self,
        clock: Clock | None = None,
        limits: FloodLimits | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError("the emulator listens on loopback only")
        super().__init__(clock, limits)
        self.host = host
        self.port = port
        self.webhook_retry_delay = webhook_retry_delay
        self.api = BotApi(self)
        self.api.on_webhook_change = self._start_webhook
        self._stop_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        # More routes on the same server, added before start (the demo's web chat).
        self.route_hooks: list[Callable[[web.Application], None]] = []

    # -- lifecycle ------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self._runner is None:
            raise RuntimeError("the emulator is not running: use `async with Emulator()`")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        from sandbox.control import ControlApi

        self.closing = False
        self._stop_event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        BotApiServer(self, self.api, self._stop_event).routes(app)
        ControlApi(self).routes(app)
        for hook in self.route_hooks:
            hook(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        site = web.SockSite(runner, sock)
        await site.start()
        self.port = sock.getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        self.closing = True
        self._stop_event.set()
        tasks = []
        for bot in self.bots.values():
            if bot.webhook is not None and bot.webhook.task is not None:
                bot.webhook.task.cancel()
                tasks.append(bot.webhook.task)
            bot.notifier.notify()
        self.changed.notify()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _start_webhook(self, bot: BotRecord) -> None:
        hook = bot.webhook
        if hook is not None:
            hook.task = asyncio.get_running_loop().create_task(
                run_webhook(self, self.api, bot, hook, self.webhook_retry_delay)
            )

    def bot_session(self, timeout: float = 10.0) -> AiohttpSession:
        """An aiogram session pointed at this emulator (closing it does not sleep)."""
        from sandbox.session import emulator_session

        return emulator_session(self.base_url, timeout=timeout)

    # -- people and chats -------------------------------------------------------
    def user(
        self,
        tg_id: int,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        bot: BotRecord | None = None,
    ) -> DriverUser:
        """The conversation driver for a person (created if new)."""
        from sandbox.driver import DriverUser

        self.ensure_user(tg_id, first_name, username=username, language_code=language_code)
        return DriverUser(self, tg_id, None, bot)

    def group(self, chat_id: int) -> Chat:
        return self.groups[chat_id]

    def chat(self, chat_id: int, bot: BotRecord | None = None) -> Chat:
        """A group by id, or the private chat of a user id with the (first) bot."""
        if chat_id < 0:
            return self.groups[chat_id]
        return self.private_chat(bot or self.bot, self.user_record(chat_id))

    def chat_transcript(self, chat_id: int, bot: BotRecord | None = None) -> list[TranscriptEntry]:
        """Everything in that chat, in order: what people sent and what the bot did."""
        return self.transcript(self.chat(chat_id, bot))

    def bot_messages(self, chat_id: int, bot: BotRecord | None = None) -> list[dict[str, Any]]:
        """The bot's messages in a chat as they stand now (deleted ones left out)."""
        chat = self.chat(chat_id, bot)
        return [
            s.data
            for _, s in sorted(chat.messages.items())
            if s.bot_id is not None and not s.deleted
        ]

    def file_bytes(self, file_id: str) -> bytes:
        record = self.files.get(file_id)
        if not isinstance(record, FileRecord):
            raise LookupError(f"no file {file_id}")
        return record.data

    def visible_commands(
        self,
        user_id: int,
        chat_id: int | None = None,
        language_code: str | None = None,
        bot: BotRecord | None = None,
    ) -> list[dict[str, str]]:
        """The command menu a Telegram client would show that person in that chat.

        Scopes are tried narrowest first, each with the person's language, then
        without, as clients do.
        """
        bot = bot or self.bot
        user = self.user_record(user_id)
        lang = language_code if language_code is not None else (user.language_code or "")
        scopes: list[str] = []
        if chat_id is None or chat_id > 0:
            scopes += [f"chat:{user.id}", "all_private_chats"]
        else:
            chat = self.groups[chat_id]
            admin = chat.members.get(user.id) in ("creator", "administrator")
            scopes.append(f"chat_member:{chat.id}:{user.id}")
            if admin:
                scopes.append(f"chat_administrators:{chat.id}")
            scopes.append(f"chat:{chat.id}")
            if admin:
                scopes.append("all_chat_administrators")
            scopes.append("all_group_chats")
        scopes.append("default")
        for scope in scopes:
            for language in [lang, ""] if lang else [""]:
                found = bot.commands.get((scope, language))
                if found:
                    return [dict(c) for c in found]
        return []

    # -- pressing -----------------------------------------------------------------
    def press(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        number: int | None = None,
        message_id: int | None = None,
        location: tuple[float, float] | None = None,
        inaccessible: bool = False,
        bot: BotRecord | None = None,
    ) -> CallbackPress | dict[str, Any]:
        """Press a button by its text or its number (1-based, row by row).

        Inline buttons: the newest bot message carrying one (or ``message_id``);
        the result is the CallbackPress. Otherwise the reply keyboard shown in the
        chat: a text button sends its text, request_location sends ``location``
        (private chats only, as in Telegram), request_contact the person's
        contact; the result is the message sent.
        """
        user = self.ensure_user(user_id)
        chat = self.user_chat(user, chat_id, bot)
        target = None
        if message_id is not None:
            stored = chat.messages.get(message_id)
            if stored is None:
                raise PressError(f"no message {message_id} in chat {chat.id}")
            buttons = [
                b
                for row in (stored.data.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
            ]
            target = (stored, buttons)
        elif text is not None:
            found = self.latest_with_buttons(chat, text)
            if found is not None:
                target = (found[0], [found[1]])
                number = 1
        else:
            found = self.latest_with_buttons(chat)
            if found is not None:
                stored = found[0]
                buttons = [b for row in stored.data["reply_markup"]["inline_keyboard"] for b in row]
                target = (stored, buttons)
        if target is not None:
            stored, buttons = target
            picked = self._pick(buttons, text, number, chat)
            if picked is not None:
                if "callback_data" not in picked:
                    raise PressError(f"button {picked.get('text')!r} is not a callback button")
                return self.user_press(
                    user.id,
                    chat_id,
                    stored.message_id,
                    str(picked["callback_data"]),
                    inaccessible,
                    bot,
                )
        keyboard = [b for row in (chat.reply_keyboard or {}).get("keyboard", []) for b in row]
        key = self._pick(keyboard, text, number, chat) if keyboard else None
        if key is None:
            raise PressError(self._no_button(chat, text, number))
        if key.get("request_location"):
            if chat.type != "private":
                raise PressError("location buttons work in private chats only")
            lat, lon = location or DEFAULT_LOCATION
            return self.user_send_location(user.id, lat, lon, chat_id, bot=bot)
        if key.get("request_contact"):
            return self.user_send_contact(user.id, chat_id=chat_id, bot=bot)
        return self.user_send(user.id, str(key["text"]), chat_id, bot=bot)

    def _pick(
        self, buttons: list[dict[str, Any]], text: str | None, number: int | None, chat: Chat
    ) -> dict[str, Any] | None:
        if number is not None:
            if not 1 <= number <= len(buttons):
                raise PressError(self._no_button(chat, text, number))
            return buttons[number - 1]
        for button in buttons:
            if button.get("text") == text:
                return button
        return None

    def _no_button(self, chat: Chat, text: str | None, number: int | None) -> str:
        wanted = repr(text) if text is not None else f"number {number}"
        inline = [f"#{mid} {t!r}" for mid, t in self.all_buttons(chat)]
        keyboard = [
            repr(b.get("text"))
            for row in (chat.reply_keyboard or {}).get("keyboard", [])
            for b in row
        ]
        return (
            f"no button {wanted} in chat {chat.id}; inline buttons: {', '.join(inline) or 'none'}"
            f"; reply keyboard: {', '.join(keyboard) or 'none'}"
        )

    # -- waiting --------------------------------------------------------------------
    def entries_after(self, chat: Chat, seq: int) -> list[TranscriptEntry]:
        key = chat_key(chat)
        return [e for e in self.log[seq:] if e.chat_key == key]

    async def next_bot_message(
        self,
        chat_id: int,
        after: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
        bot: BotRecord | None = None,
    ) -> TranscriptEntry:
        """The first bot message or edit in that chat with ``seq > after``, waiting for it.

        ``after`` is a transcript position, e.g. ``len(emu.log)`` taken before acting.
        """
        chat = self.chat(chat_id, bot)

        def find() -> TranscriptEntry | None:
            return next(
                (e for e in self.entries_after(chat, after) if e.kind in ("sent", "edited")), None
            )

        found = await self.changed.wait_for(find, timeout)
        if found is None:
            from sandbox.render import render_transcript

            shown = render_transcript([e.as_dict() for e in self.transcript(chat)])
            raise AssertionError(f"no bot message in chat {chat_id} within {timeout}s:\n{shown}")
        return found
