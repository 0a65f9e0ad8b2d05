"""The Bot API methods: what each answers, in Telegram's shapes and with its errors.

Each method is ``async def m(self, bot, p) -> result`` registered under its
Telegram name with ``@method("sendMessage", sends=True)``; names are looked up
case-insensitively. ``sends`` marks methods that count against flood limits.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sandbox import errors
from sandbox.errors import ApiError, bad_request
from sandbox.html_text import HtmlParseError, parse_html, strip_text, utf16_len
from sandbox.images import image_size, sniff_mime
from sandbox.topics import MANAGE_TOPICS, thread_fields
from sandbox.world import (
    CALLBACK_ANSWER_WINDOW,
    DEFAULT_UPDATE_TYPES,
    MEMBER_STATUSES,
    MESSAGE_AGE_LIMIT,
    BotRecord,
    Chat,
    StoredMessage,
    World,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
# Limits the Bot API server and TDLib enforce (tdlib/telegram-bot-api Client.cpp,
# td/telegram/Location.cpp, td/telegram/MessageContent.cpp), and the photo rules of sendPhoto's
# documentation: width + height at most 10000, a side at most 20 times the other.
DOWNLOAD_LIMIT = 20 << 20  # MAX_DOWNLOAD_FILE_SIZE: getFile answers "file is too big" above
PHOTO_SIDES_LIMIT = 10000
PHOTO_RATIO_LIMIT = 20
ALBUM_LIMIT = 10
LIVE_FOREVER = 0x7FFFFFFF  # live_period meaning "until stopped"
LIVE_PERIODS = (60, 86400)
HEADINGS = (1, 360)
PROXIMITY_LIMIT = 100000
ACCURACY_LIMIT = 1500.0
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# In the order the Bot API server tries them: the first one a button has is its action and any
# other is dropped without an error (get_inline_keyboard_button_type in Client.cpp).
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)
FILE_PREFIXES = {
    "photo": ("AgACAgIAAxkBAAI", "photos"),
    "document": ("BQACAgIAAxkBAAI", "documents"),
    "audio": ("CQACAgIAAxkBAAI", "music"),
    "video": ("BAACAgIAAxkBAAI", "videos"),
}
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


@dataclass
class Upload:
    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class FileRecord:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | audio | video
    data: bytes
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    width: int = 0
    height: int = 0
    photo_set: list[dict[str, Any]] = field(default_factory=list)  # photos: all sizes


@dataclass
class Described:
    """A result with a ``description`` beside it, as setWebhook answers."""

    result: Any
    description: str


class Params:
    """The parameters of one call, from the query string, a form or a JSON body."""

    def __init__(self, values: dict[str, Any], files: dict[str, Upload] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def get_float(self, name: str) -> float | None:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Float') from None

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str, what: str | None = None) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what or name} JSON object") from None
        return value

    def chat_id(self) -> Any:
        value = self.values.get("chat_id")
        if value in (None, ""):
            raise bad_request("chat_id is empty")
        return value

    def input_file(self, value: Any) -> Upload | str:
        """An upload (``attach://name`` or the field itself) or a file_id / URL."""
        if isinstance(value, Upload):
            return value
        text = str(value)
        if text.startswith("attach://"):
            upload = self.files.get(text[len("attach://") :])
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return upload
        return text

    def file(self, name: str) -> Upload | str:
        if name in self.files:
            return self.files[name]
        value = self.values.get(name)
        if value in (None, ""):
            raise bad_request(f"there is no {name} in the request")
        return self.input_file(value)


Handler = Callable[["BotApi", BotRecord, Params], Awaitable[Any]]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    handler: Handler
    sends: bool


METHODS: dict[str, MethodSpec] = {}


def method(name: str, sends: bool = False) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name.lower()] = MethodSpec(name, fn, sends)
        return fn

    return register


def _random_id(prefix: str, n: int = 24) -> str:
    return prefix + base64.urlsafe_b64encode(os.urandom(n)).decode().rstrip("=")


def _is_loopback(host: str | None) -> bool:
    return bool(host) and (host in ("localhost", "::1") or str(host).startswith("127."))


class BotApi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.on_webhook_change: Callable[[BotRecord], None] = lambda bot: None

    # -- helpers ------------------------------------------------------------
    def flood(self, bot: BotRecord, chat: Chat, cost: int = 1, edit: bool = False) -> None:
        world = self.world
        if edit and not world.flood.limits.count_edits:
            return
        retry = world.flood.check(bot.id, chat.id, chat.is_group, world.clock.monotonic(), cost)
        if retry is not None:
            raise errors.too_many_requests(retry)

    def formatted(
        self,
        p: Params,
        field_name: str,
        mode_name: str,
        entities_name: str,
        limit: int,
        empty: str,
        too_long: str,
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = p.get_str(field_name) or ""
        mode = (p.get_str(mode_name) or "").lower()
        entities: list[dict[str, Any]] = []
        if mode == "html":
            try:
                text, entities = parse_html(raw)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "none"):
            text = raw
            given = p.get_json(entities_name)
            if given:
                if not isinstance(given, list):
                    raise bad_request(f"can't parse {entities_name} JSON object")
                total = utf16_len(text)
                for e in given:
                    if not isinstance(e, dict) or "type" not in e:
                        raise bad_request("can't parse MessageEntity: type is missing")
                    if e.get("offset", 0) + e.get("length", 0) > total:
                        raise bad_request("entity beginning or end is out of text bounds")
                entities = [dict(e) for e in given]
        elif mode in ("markdown", "markdownv2"):
            text = raw  # not interpreted: gridbot writes HTML
        else:
            raise bad_request(f"unsupported parse_mode {p.get_str(mode_name)}")
        text, entities = strip_text(text, entities)
        if not text and empty:
            raise bad_request(empty)
        if len(text) > limit:
            raise bad_request(too_long)
        return text, entities

    def text(self, p: Params) -> tuple[str, list[dict[str, Any]]]:
        return self.formatted(
            p,
            "text",
            "parse_mode",
            "entities",
            TEXT_LIMIT,
            "message text is empty",
            "message is too long",
        )

    def caption(
        self, p: Params, values: dict[str, Any] | None = None
    ) -> tuple[str, list[dict[str, Any]]]:
        params = Params(values) if values is not None else p
        return self.formatted(
            params,
            "caption",
            "parse_mode",
            "caption_entities",
            CAPTION_LIMIT,
            "",
            "message caption is too long",
        )

    def markup(
        self, p: Params, bot: BotRecord
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(inline keyboard for the Message, reply keyboard / removal / force reply)."""
        raw = p.get_json("reply_markup", "reply keyboard markup")
        if raw is None:
            return None, None
        if not isinstance(raw, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in raw:
            rows = raw["inline_keyboard"]
            if not isinstance(rows, list):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array'
                )
            clean: list[list[dict[str, Any]]] = []
            for row in rows:
                out_row = []
                for button in row if isinstance(row, list) else []:
                    out_row.append(self._inline_button(button, bot))
                clean.append(out_row)
            return {"inline_keyboard": clean}, None
        if "keyboard" in raw:
            rows = [
                [b if isinstance(b, dict) else {"text": str(b)} for b in row]
                for row in raw["keyboard"]
            ]
            for row in rows:
                for b in row:
                    if not isinstance(b.get("text"), str) or not b["text"]:
                        raise bad_request(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
            return None, {**raw, "keyboard": rows}
        if raw.get("remove_keyboard") or raw.get("force_reply"):
            return None, raw
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _inline_button(self, button: Any, bot: BotRecord) -> dict[str, Any]:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        # an empty url or callback_data counts as none, as in the Bot API server
        actions = [
            k
            for k in INLINE_ACTIONS
            if button.get(k) is not None and not (k in ("url", "callback_data") and not button[k])
        ]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        action = actions[0]
        value = button[action]
        if action == "callback_data":
            if len(str(value).encode("utf-8")) > CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
        elif action == "url":
            scheme = urlsplit(str(value)).scheme
            if scheme not in ("http", "https", "tg"):
                raise bad_request("BUTTON_URL_INVALID")
        elif action == "login_url":
            url = value.get("url") if isinstance(value, dict) else None
            if not isinstance(url, str):
                raise bad_request(
                    'can\'t parse inline keyboard button: Field "url" must be of type String'
                )
            # Telegram signs the login only for the domain set with BotFather's /setdomain
            host = (urlsplit(url).hostname or "").lower()
            if bot.domain is None or host != bot.domain.lower():
                raise bad_request("BOT_DOMAIN_INVALID")
        return {"text": button["text"], action: value}

    def reply_to(self, chat: Chat, p: Params) -> dict[str, Any] | None:
        params = p.get_json("reply_parameters")
        mid = None
        allow = p.get_bool("allow_sending_without_reply")
        if isinstance(params, dict):
            mid = params.get("message_id")
            allow = allow or bool(params.get("allow_sending_without_reply"))
        elif p.has("reply_to_message_id"):
            mid = p.get_int("reply_to_message_id")
        if mid is None:
            return None
        snap = self.world.reply_snapshot(chat, int(mid))
        if snap is None and not allow:
            raise bad_request("message to be replied not found")
        return snap

    def send(
        self,
        bot: BotRecord,
        chat: Chat,
        p: Params,
        inline: dict[str, Any] | None,
        keyboard: dict[str, Any] | None,
        reply: dict[str, Any] | None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Store and record a message the bot sent; return it as Telegram does."""
        fields.update(thread_fields(bot, chat, p.get_int("message_thread_id"), reply))
        message = self.world.new_message(chat, bot.as_user(), **fields)
        if reply is not None:
            message["reply_to_message"] = reply
        if inline is not None:
            message["reply_markup"] = inline
        if p.get_bool("protect_content"):
            message["has_protected_content"] = True
        self.world.store(chat, message, bot.id, keyboard=keyboard)
        if keyboard is not None:
            chat.reply_keyboard = keyboard if "keyboard" in keyboard else None
        removal = (
            {"remove_keyboard": True} if keyboard and keyboard.get("remove_keyboard") else None
        )
        self.world.record(
            chat, "sent", _copy(message), bot_id=bot.id, keyboard=keyboard, detail=removal
        )
        return _copy(message)

    def own_message(self, chat: Chat, p: Params, bot: BotRecord, verb: str) -> StoredMessage:
        if p.has("inline_message_id") and not p.has("chat_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        mid = p.get_int("message_id")
        if mid is None:
            raise bad_request("message identifier is not specified")
        stored = chat.messages.get(mid)
        if stored is None or stored.deleted:
            raise bad_request(f"message to {verb} not found")
        if stored.bot_id != bot.id:
            raise bad_request("message can't be edited")
        return stored

    def commit_edit(
        self, bot: BotRecord, chat: Chat, stored: StoredMessage, changes: dict[str, Any]
    ) -> dict[str, Any]:
        data = stored.data
        if all(data.get(k) == v for k, v in changes.items()):
            raise bad_request(errors.NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        data["edit_date"] = self.world.now()
        self.world.record(chat, "edited", _copy(data), bot_id=bot.id)
        return _copy(data)

    def new_file(
        self,
        kind: str,
        data: bytes,
        ext: str,
        mime: str | None = None,
        name: str | None = None,
        width: int = 0,
        height: int = 0,
        holder: BotRecord | None = None,
    ) -> FileRecord:
        """A stored file; ``holder`` is the bot that uploaded it. A person's file goes to the
        bots that receive their message (World.grant_files)."""
        n = len(self.world.files) + 1
        prefix, folder = FILE_PREFIXES[kind]
        record = FileRecord(
            file_id=_random_id(prefix),
            file_unique_id=_random_id("AQAD", 9),
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{n}.{ext}",
            mime_type=mime,
            file_name=name,
            width=width,
            height=height,
        )
        self.world.files[record.file_id] = record
        self.world.file_holders[record.file_id] = {holder.id} if holder is not None else set()
        return record

    def photo_from_bytes(
        self, data: bytes, holder: BotRecord | None = None
    ) -> list[dict[str, Any]]:
        """PhotoSize list for an uploaded image: Telegram's thumbnails, then the original."""
        size = image_size(data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        longest = max(width, height)
        sides = [s for s in (90, 320, 800) if s < longest] + [min(longest, 1280)]
        photo_set: list[dict[str, Any]] = []
        records = []
        for side in sides:
            scale = side / longest
            w, h = max(1, round(width * scale)), max(1, round(height * scale))
            rec = self.new_file(
                "photo", data, "jpg", "image/jpeg", width=w, height=h, holder=holder
            )
            records.append(rec)
            photo_set.append(
                {
                    "file_id": rec.file_id,
                    "file_unique_id": rec.file_unique_id,
                    "file_size": len(data),
                    "width": w,
                    "height": h,
                }
            )
        for rec in records:
            rec.photo_set = photo_set
        return [dict(s) for s in photo_set]

    def photo_from(self, ref: Upload | str, bot: BotRecord) -> list[dict[str, Any]]:
        """A photo a bot sends: its upload (checked as Telegram checks photos) or a file_id."""
        if isinstance(ref, Upload):
            size = image_size(ref.data)
            if size is not None:
                width, height = size
                if width + height > PHOTO_SIDES_LIMIT or max(
                    width, height
                ) > PHOTO_RATIO_LIMIT * min(width, height):
                    raise bad_request("PHOTO_INVALID_DIMENSIONS")
            return self.photo_from_bytes(ref.data, bot)
        return [dict(s) for s in self._known_file(ref, "photo", bot).photo_set]

    def _known_file(self, ref: str, kind: str, bot: BotRecord | None) -> FileRecord:
        if ref.startswith(("http://", "https://")):
            if not _is_loopback(urlsplit(ref).hostname):
                raise bad_request("failed to get HTTP URL content")
            raise bad_request("wrong file identifier/HTTP URL specified")
        record = self.world.files.get(ref)
        if not isinstance(record, FileRecord):
            raise bad_request("wrong file identifier/HTTP URL specified")
        if bot is not None and bot.id not in self.world.file_holders.get(ref, set()):
            # another bot's file_id: Telegram's servers answer MEDIA_EMPTY, which TDLib words so
            raise bad_request("wrong file identifier/HTTP URL specified")
        if record.kind != kind:
            raise bad_request(
                f"can't use file of type {record.kind.capitalize()} as {kind.capitalize()}"
            )
        return record

    def document_from(
        self, ref: Upload | str, bot: BotRecord | None = None, kind: str = "document"
    ) -> dict[str, Any]:
        """A document (or an album's audio or video) from an upload or a file_id."""
        if isinstance(ref, Upload):
            if not ref.data:
                raise bad_request("file must be non-empty")
            name = ref.filename or kind
            ext = name.rsplit(".", 1)[-1] if "." in name else "bin"
            mime = ref.content_type
            if not mime or mime == "application/octet-stream":
                mime = sniff_mime(ref.data)
            rec = self.new_file(kind, ref.data, ext, mime, name, holder=bot)
        else:
            rec = self._known_file(ref, kind, bot)
        doc: dict[str, Any] = {
            "file_id": rec.file_id,
            "file_unique_id": rec.file_unique_id,
            "file_size": len(rec.data),
        }
        if rec.file_name:
            doc["file_name"] = rec.file_name
        if rec.mime_type:
            doc["mime_type"] = rec.mime_type
        return doc

    def scope_key(self, bot: BotRecord, p: Params) -> tuple[str, str]:
        scope = p.get_json("scope", "BotCommandScope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = str(scope["type"])
        valid = (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        )
        if kind not in valid:
            raise bad_request("wrong bot command scope type specified")
        key = kind
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat = self.world.chat_for_bot(bot, scope.get("chat_id"), sending=False)
            key += f":{chat.id}"
            if kind == "chat_member":
                key += f":{int(scope.get('user_id') or 0)}"
        return key, (p.get_str("language_code") or "")

    # -- identity -------------------------------------------------------------
    @method("getMe")
    async def get_me(self, bot: BotRecord, p: Params) -> Any:
        return {
            **bot.as_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": not bot.privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @method("logOut")
    async def log_out(self, bot: BotRecord, p: Params) -> Any:
        return True

    @method("close")
    async def close(self, bot: BotRecord, p: Params) -> Any:
        return True

    # -- updates ----------------------------------------------------------------
    @method("getUpdates")
    async def get_updates(self, bot: BotRecord, p: Params) -> Any:
        if bot.webhook is not None:
            raise errors.conflict(errors.WEBHOOK_ACTIVE)
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            bot.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
            bot.updates = [u for u in bot.updates if _update_kind(u) in bot.allowed_updates]
        offset = p.get_int("offset")
        if offset is not None:
            queued = len(bot.updates)
            if offset < 0:
                bot.updates = bot.updates[offset:]
            else:
                # Everything queued up to the last update below the offset is confirmed. Ids
                # rise with the queue, so that is Telegram's "update_id < offset"; it also
                # confirms an injected update whose own id is odd (beyond 64 bits, not a number)
                # once an update after it is confirmed.
                done = max(
                    (i for i, u in enumerate(bot.updates) if _confirmed_by(u, offset)), default=-1
                )
                bot.updates = bot.updates[done + 1 :]
            if len(bot.updates) < queued:
                # The queue is the record of what the bot has not confirmed yet; a driver's
                # negative check waits on this to read the transcript (DriverUser.expect_silence).
                self.world.changed.notify()
        limit = max(1, min(100, p.get_int("limit") or 100))
        timeout = max(0, min(50, p.get_int("timeout") or 0))
        bot.poll_generation += 1
        generation = bot.poll_generation
        bot.notifier.notify()  # an older long poll ends with 409
        if not bot.updates and timeout > 0:
            await bot.notifier.wait_for(
                lambda: (
                    bool(bot.updates)
                    or bot.poll_generation != generation
                    or bot.webhook is not None
                    or self.world.closing
                ),
                timeout,
            )
            if bot.poll_generation != generation:
                raise errors.conflict(errors.OTHER_GET_UPDATES)
        return [_copy(u) for u in bot.updates[:limit]]

    @method("setWebhook")
    async def set_webhook(self, bot: BotRecord, p: Params) -> Any:
        from sandbox.world import WebhookState

        url = p.get_str("url") or ""
        if not url:
            return await self.delete_webhook(bot, p)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not _is_loopback(parts.hostname):
            # the emulator posts to loopback only
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        secret = p.get_str("secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.get_json("allowed_updates")
        if allowed is not None:
            bot.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        if p.get_bool("drop_pending_updates"):
            bot.updates.clear()
        old = bot.webhook
        bot.webhook = WebhookState(url, secret, p.get_int("max_connections") or 40)
        if old is not None and old.task is not None:
            old.task.cancel()
        self.on_webhook_change(bot)
        bot.notifier.notify()
        return Described(True, "Webhook was set")

    @method("deleteWebhook")
    async def delete_webhook(self, bot: BotRecord, p: Params) -> Any:
        if p.get_bool("drop_pending_updates"):
            bot.updates.clear()
        old = bot.webhook
        bot.webhook = None
        bot.notifier.notify()
        if old is None:
            return Described(True, "Webhook is already deleted")
        if old.task is not None:
            old.task.cancel()
        return Described(True, "Webhook was deleted")

    @method("getWebhookInfo")
    async def get_webhook_info(self, bot: BotRecord, p: Params) -> Any:
        info: dict[str, Any] = {
            "url": bot.webhook.url if bot.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.updates),
        }
        if bot.webhook is not None:
            info["max_connections"] = bot.webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if bot.allowed_updates != DEFAULT_UPDATE_TYPES:
                info["allowed_updates"] = sorted(bot.allowed_updates)
            if bot.webhook.last_error_date is not None:
                info["last_error_date"] = bot.webhook.last_error_date
                info["last_error_message"] = bot.webhook.last_error_message
        return info

    # -- sending ----------------------------------------------------------------
    @method("sendMessage", sends=True)
    async def send_message(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        self.flood(bot, chat)
        text, entities = self.text(p)
        inline, keyboard = self.markup(p, bot)
        reply = self.reply_to(chat, p)
        return self.send(
            bot, chat, p, inline, keyboard, reply, text=text, entities=entities or None
        )

    @method("sendPhoto", sends=True)
    async def send_photo(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        self.flood(bot, chat)
        caption, entities = self.caption(p)
        inline, keyboard = self.markup(p, bot)
        reply = self.reply_to(chat, p)
        photo = self.photo_from(p.file("photo"), bot)
        return self.send(
            bot,
            chat,
            p,
            inline,
            keyboard,
            reply,
            photo=photo,
            caption=caption or None,
            caption_entities=entities or None,
            has_media_spoiler=True if p.get_bool("has_spoiler") else None,
        )

    @method("sendDocument", sends=True)
    async def send_document(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        self.flood(bot, chat)
        caption, entities = self.caption(p)
        inline, keyboard = self.markup(p, bot)
        reply = self.reply_to(chat, p)
        document = self.document_from(p.file("document"), bot)
        return self.send(
            bot,
            chat,
            p,
            inline,
            keyboard,
            reply,
            document=document,
            caption=caption or None,
            caption_entities=entities or None,
        )

    @method("sendMediaGroup", sends=True)
    async def send_media_group(self, bot: BotRecord, p: Params) -> Any:
        """An album, checked in the order of the Bot API server and TDLib.

        Items are read first (errors as "can't parse InputMedia: ..."), then the album as a
        whole (count, kinds), then each file; a file Telegram's servers refuse fails the whole
        album with its place: failed to send message #N with the error message "...". There is
        no reply_markup: the server does not read one (process_send_media_group_query).
        """
        chat = self.world.chat_for_bot(bot, p.chat_id())
        media = p.get_json("media", "media")
        if media is None:
            raise bad_request('parameter "media" is required')
        if not isinstance(media, list):
            raise bad_request("expected an Array of InputMedia")
        items = [self._album_item(p, item) for item in media]
        if not items:
            raise bad_request("there are no messages to send")
        if len(items) > ALBUM_LIMIT:
            raise bad_request("too many messages to send as an album")
        kinds = {item[0] for item in items}
        for alone in ("document", "audio"):
            if alone in kinds and len(kinds) > 1:
                raise bad_request(f"{alone} can't be mixed with other media types")
        if len(items) < 2:
            # The documentation asks for 2-10 items; the server itself sends a single item as
            # an ordinary message (TDLib send_message_group), so these words are the
            # emulator's own: it holds the bot to the documented contract.
            raise bad_request("media must include 2-10 items")
        self.flood(bot, chat, cost=len(items))
        reply = self.reply_to(chat, p)
        group_id = str(13_000_000_000_000_000 + self.world.next_id())
        prepared = []
        for place, (kind, ref, caption, entities, extra) in enumerate(items, 1):
            try:
                if kind == "photo":
                    content: dict[str, Any] = {"photo": self.photo_from(ref, bot)}
                else:
                    content = {kind: {**self.document_from(ref, bot, kind), **extra}}
            except ApiError as exc:
                if "can't use file of type" in exc.description:
                    raise  # TDLib finds that before sending
                raise _album_item_failed(place, exc) from None
            prepared.append((content, caption, entities))
        out = []
        for content, caption, entities in prepared:
            out.append(
                self.send(
                    bot,
                    chat,
                    p,
                    None,
                    None,
                    reply,
                    media_group_id=group_id,
                    caption=caption or None,
                    caption_entities=entities or None,
                    **content,
                )
            )
        return out

    def _album_item(
        self, p: Params, item: Any
    ) -> tuple[str, Upload | str, str, list[dict[str, Any]], dict[str, Any]]:
        if not isinstance(item, dict):
            raise bad_request("can't parse InputMedia: expected an Object")
        caption, entities = self.caption(p, item)
        kind = item.get("type")
        if not isinstance(kind, str):
            raise bad_request('can\'t parse InputMedia: Field "type" must be of type String')
        media = item.get("media")
        if not media or (
            isinstance(media, str)
            and media.startswith("attach://")
            and media[len("attach://") :] not in p.files
        ):
            raise bad_request("can't parse InputMedia: media not found")
        if kind == "animation":
            raise bad_request(
                "can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup"
            )
        if kind not in ("photo", "video", "audio", "document"):
            raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
        extra: dict[str, Any] = {}
        if kind == "video":
            extra = {k: int(item.get(k) or 0) for k in ("width", "height", "duration")}
        elif kind == "audio":
            extra = {"duration": int(item.get("duration") or 0)}
            extra.update({k: item[k] for k in ("title", "performer") if item.get(k)})
        return kind, p.input_file(media), caption, entities, extra

    @method("sendLocation", sends=True)
    async def send_location(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        self.flood(bot, chat)
        period = p.get_int("live_period") or 0
        if period not in (0, LIVE_FOREVER) and not LIVE_PERIODS[0] <= period <= LIVE_PERIODS[1]:
            raise bad_request("wrong live location period specified")
        location = self._location(p, live=period != 0)
        if period:
            location = {**location, "live_period": period}
        inline, keyboard = self.markup(p, bot)
        reply = self.reply_to(chat, p)
        sent = self.send(bot, chat, p, inline, keyboard, reply, location=location)
        if period:
            # TDLib: a live location can be edited while now - date < live_period
            chat.messages[sent["message_id"]].live_until = sent["date"] + period
        return sent

    def _location(self, p: Params, live: bool) -> dict[str, Any]:
        """The Location a bot sends, with TDLib's checks (process_input_message_location):
        heading 1-360 and proximity_alert_radius 0-100000 are refused outside; the accuracy is
        clamped to 0-1500 m, not refused (Location::fix_accuracy). The live fields show only
        on a live location, as the Bot API server writes them."""
        if not p.has("latitude"):
            raise bad_request("latitude is empty")
        if not p.has("longitude"):
            raise bad_request("longitude is empty")
        lat, lon = p.get_float("latitude") or 0.0, p.get_float("longitude") or 0.0
        if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):
            raise bad_request("wrong location specified")
        heading = p.get_int("heading") or 0
        if heading != 0 and not HEADINGS[0] <= heading <= HEADINGS[1]:
            raise bad_request("wrong live location heading specified")
        radius = p.get_int("proximity_alert_radius") or 0
        if not 0 <= radius <= PROXIMITY_LIMIT:
            raise bad_request("wrong live location proximity alert radius specified")
        location: dict[str, Any] = {"latitude": lat, "longitude": lon}
        if live and heading:
            location["heading"] = heading
        if live and radius:
            location["proximity_alert_radius"] = radius
        accuracy = p.get_float("horizontal_accuracy") or 0.0
        if math.isfinite(accuracy) and accuracy > 0:
            location["horizontal_accuracy"] = min(accuracy, ACCURACY_LIMIT)
        return location

    def _live_message(self, chat: Chat, p: Params, bot: BotRecord) -> StoredMessage:
        """The bot's live location to change, or Telegram's error (MessagesManager::
        edit_message_live_location: editable only while now - date < live_period)."""
        stored = self.own_message(chat, p, bot, "edit")
        if stored.live_until is None:
            raise bad_request("there is no live location in the message to edit")
        if self.world.now() >= stored.live_until:
            raise bad_request("message can't be edited")
        return stored

    @method("editMessageLiveLocation")
    async def edit_message_live_location(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        stored = self._live_message(chat, p, bot)
        self.flood(bot, chat, edit=True)
        location = self._location(p, live=True)
        period = p.get_int("live_period") or int(stored.data["location"]["live_period"])
        # A changed period is the server's to check (not modelled): the expiry moves with it.
        stored.live_until = int(stored.data["date"]) + period
        inline, keyboard = self.markup(p, bot)
        if keyboard is not None:
            raise bad_request("inline keyboard expected")
        return self.commit_edit(
            bot,
            chat,
            stored,
            {"location": {**location, "live_period": period}, "reply_markup": inline},
        )

    @method("stopMessageLiveLocation")
    async def stop_message_live_location(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        stored = self._live_message(chat, p, bot)
        self.flood(bot, chat, edit=True)
        inline, keyboard = self.markup(p, bot)
        if keyboard is not None:
            raise bad_request("inline keyboard expected")
        stored.live_until = self.world.now()
        stopped = {
            k: v
            for k, v in stored.data["location"].items()
            if k not in ("live_period", "heading", "proximity_alert_radius")
        }
        return self.commit_edit(bot, chat, stored, {"location": stopped, "reply_markup": inline})

    @method("sendChatAction")
    async def send_chat_action(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        action = p.get_str("action") or ""
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        bot.chat_actions.append((chat.id, action))
        return True

    # -- editing ----------------------------------------------------------------
    @method("editMessageText")
    async def edit_message_text(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        stored = self.own_message(chat, p, bot, "edit")
        self.flood(bot, chat, edit=True)
        if "text" not in stored.data:
            raise bad_request("there is no text in the message to edit")
        text, entities = self.text(p)
        inline, keyboard = self.markup(p, bot)
        if keyboard is not None:
            raise bad_request("inline keyboard expected")
        return self.commit_edit(
            bot,
            chat,
            stored,
            {
                "text": text,
                "entities": entities or None,
                "reply_markup": inline,
            },
        )

    @method("editMessageCaption")
    async def edit_message_caption(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        stored = self.own_message(chat, p, bot, "edit")
        self.flood(bot, chat, edit=True)
        if not any(k in stored.data for k in ("photo", "document", "video", "audio")):
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self.caption(p)
        inline, keyboard = self.markup(p, bot)
        if keyboard is not None:
            raise bad_request("inline keyboard expected")
        return self.commit_edit(
            bot,
            chat,
            stored,
            {
                "caption": caption or None,
                "caption_entities": entities or None,
                "reply_markup": inline,
            },
        )

    @method("editMessageReplyMarkup")
    async def edit_message_reply_markup(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        stored = self.own_message(chat, p, bot, "edit")
        self.flood(bot, chat, edit=True)
        inline, keyboard = self.markup(p, bot)
        if keyboard is not None:
            raise bad_request("inline keyboard expected")
        return self.commit_edit(bot, chat, stored, {"reply_markup": inline})

    @method("deleteMessage")
    async def delete_message(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        self._delete(bot, chat, p.get_int("message_id"), strict=True)
        return True

    @method("deleteMessages")
    async def delete_messages(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        ids = p.get_json("message_ids") or []
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message identifiers are not specified")
        for mid in ids:
            self._delete(bot, chat, int(mid), strict=False)
        return True

    def _delete(self, bot: BotRecord, chat: Chat, mid: int | None, strict: bool) -> None:
        """deleteMessages skips what it cannot delete (not found, too old) and deletes the
        rest; deleteMessage answers each with Telegram's error."""
        stored = chat.messages.get(mid or 0)
        if stored is None or stored.deleted:
            if strict:
                raise bad_request("message to delete not found")
            return
        if (
            stored.bot_id != bot.id
            and chat.type != "private"
            and chat.bot_status.get(bot.id) not in ("administrator", "creator")
        ):
            if strict:
                raise bad_request("message can't be deleted")
            return
        if self.world.now() - int(stored.data.get("date") or 0) >= MESSAGE_AGE_LIMIT:
            if strict:
                raise bad_request("message can't be deleted for everyone")
            return
        stored.deleted = True
        self.world.record(chat, "deleted", _copy(stored.data), bot_id=bot.id)

    @method("answerCallbackQuery")
    async def answer_callback_query(self, bot: BotRecord, p: Params) -> Any:
        press = bot.callbacks.get(p.get_str("callback_query_id") or "")
        if press is None or press.answered:
            raise bad_request(errors.QUERY_TOO_OLD)
        if self.world.clock.monotonic() - press.pressed_at > CALLBACK_ANSWER_WINDOW:
            raise bad_request(errors.QUERY_TOO_OLD)
        text = p.get_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        press.answered = True
        press.text = text
        press.show_alert = p.get_bool("show_alert")
        press.url = p.get_str("url")
        press.answered_event.set()
        chat = self._press_chat(bot, press.chat_id, press.user_id)
        if chat is not None:
            self.world.record(
                chat,
                "callback_answer",
                None,
                bot_id=bot.id,
                message_id=press.message_id,
                detail={
                    "text": text,
                    "show_alert": press.show_alert,
                    "callback_query_id": press.id,
                    "user_id": press.user_id,
                },
            )
        return True

    def _press_chat(self, bot: BotRecord, chat_id: int, user_id: int) -> Chat | None:
        if chat_id > 0:
            return self.world.privates.get((bot.id, chat_id))
        return self.world.groups.get(chat_id)

    # -- pins ---------------------------------------------------------------
    @method("pinChatMessage")
    async def pin_chat_message(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        self._need_rights(bot, chat, "not enough rights to manage pinned messages in the chat")
        mid = p.get_int("message_id") or 0
        stored = chat.messages.get(mid)
        if stored is None or stored.deleted:
            raise bad_request("message to pin not found")
        if mid in chat.pinned:
            chat.pinned.remove(mid)
        chat.pinned.append(mid)
        self.world.record(chat, "pinned", _copy(stored.data), bot_id=bot.id)
        return True

    @method("unpinChatMessage")
    async def unpin_chat_message(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        self._need_rights(bot, chat, "not enough rights to manage pinned messages in the chat")
        mid = p.get_int("message_id") or (chat.pinned[-1] if chat.pinned else 0)
        if mid not in chat.pinned:
            raise bad_request("message to unpin not found")
        chat.pinned.remove(mid)
        self.world.record(chat, "unpinned", None, bot_id=bot.id, message_id=mid)
        return True

    @method("unpinAllChatMessages")
    async def unpin_all_chat_messages(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id())
        self._need_rights(bot, chat, "not enough rights to manage pinned messages in the chat")
        for mid in list(chat.pinned):
            chat.pinned.remove(mid)
            self.world.record(chat, "unpinned", None, bot_id=bot.id, message_id=mid)
        return True

    def _need_rights(self, bot: BotRecord, chat: Chat, what: str) -> None:
        if chat.is_group and chat.bot_status.get(bot.id) not in ("administrator", "creator"):
            raise bad_request(what)

    # -- files ----------------------------------------------------------------
    @method("getFile")
    async def get_file(self, bot: BotRecord, p: Params) -> Any:
        file_id = p.get_str("file_id") or ""
        record = self.world.files.get(file_id)
        if not isinstance(record, FileRecord):
            raise bad_request("invalid file_id")
        if bot.id not in self.world.file_holders.get(file_id, set()):
            # another bot's file_id decodes, but Telegram's servers will not hand the file over;
            # the Bot API server then answers this (Client::on_update_file)
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        if len(record.data) > DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(record.data),
            "file_path": record.file_path,
        }

    # -- chats and members --------------------------------------------------
    @method("getChat")
    async def get_chat(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        info = {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        info.pop("all_members_are_administrators", None)
        if chat.is_group:
            info["permissions"] = {"can_send_messages": True, "can_send_photos": True}
            if chat.pinned and chat.pinned[-1] in chat.messages:
                info["pinned_message"] = _copy(chat.messages[chat.pinned[-1]].data)
        if chat.migrated_from is not None:
            pass
        return info

    def member(self, chat: Chat, user_id: int) -> dict[str, Any]:
        bot = next((b for b in self.world.bots.values() if b.id == user_id), None)
        if bot is not None:
            user = bot.as_user()
            status = chat.bot_status.get(bot.id, "left") if chat.is_group else "member"
            out = _member(user, status)
            if status == "administrator":
                for right in chat.rights_withheld.get(bot.id, set()):
                    if right in out:
                        out[right] = False
                if chat.type == "supergroup":
                    out[MANAGE_TOPICS] = chat.bot_has_right(bot.id, MANAGE_TOPICS)
            return out
        record = self.world.users.get(user_id)
        if record is None:
            raise bad_request("user not found")
        if chat.type == "private":
            status = "member" if user_id == chat.id else "left"
        else:
            status = chat.members.get(user_id, "left")
        return _member(record.as_dict(), status)

    @method("getChatMember")
    async def get_chat_member(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        user_id = p.get_int("user_id")
        if user_id is None:
            raise bad_request("user_id is empty")
        return self.member(chat, user_id)

    @method("getChatAdministrators")
    async def get_chat_administrators(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        if not chat.is_group:
            raise bad_request("there are no administrators in the private chat")
        out = [self.member(chat, uid) for uid in chat.admins()]
        out += [
            self.member(chat, b.id)
            for b in self.world.bots.values()
            if chat.bot_status.get(b.id) == "administrator"
        ]
        return out

    @method("getChatMemberCount")
    async def get_chat_member_count(self, bot: BotRecord, p: Params) -> Any:
        chat = self.world.chat_for_bot(bot, p.chat_id(), sending=False)
        if not chat.is_group:
            return 2
        people = sum(1 for st in chat.members.values() if st in MEMBER_STATUSES)
        bots = sum(1 for st in chat.bot_status.values() if st in MEMBER_STATUSES)
        return people + bots

    # -- commands and profile -----------------------------------------------
    @method("setMyCommands")
    async def set_my_commands(self, bot: BotRecord, p: Params) -> Any:
        commands = p.get_json("commands", "commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean = []
        for c in commands:
            if not isinstance(c, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(c.get("command", "")).lstrip("/")
            desc = str(c.get("description", ""))
            if not _COMMAND_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(desc) <= 256:
                raise bad_request(
                    "command description is empty"
                    if not desc
                    else "BOT_COMMAND_DESCRIPTION_INVALID"
                )
            clean.append({"command": name, "description": desc})
        key = self.scope_key(bot, p)
        if clean:
            bot.commands[key] = clean
        else:
            bot.commands.pop(key, None)
        return True

    @method("getMyCommands")
    async def get_my_commands(self, bot: BotRecord, p: Params) -> Any:
        return [dict(c) for c in bot.commands.get(self.scope_key(bot, p), [])]

    @method("deleteMyCommands")
    async def delete_my_commands(self, bot: BotRecord, p: Params) -> Any:
        bot.commands.pop(self.scope_key(bot, p), None)
        return True

    async def _set_text(self, bot: BotRecord, p: Params, kind: str, limit: int) -> Any:
        text = p.get_str(kind) or ""
        if len(text) > limit:
            raise bad_request(f"{kind} is too long")
        bot.texts[(kind, p.get_str("language_code") or "")] = text
        return True

    @method("setMyDescription")
    async def set_my_description(self, bot: BotRecord, p: Params) -> Any:
        return await self._set_text(bot, p, "description", 512)

    @method("setMyShortDescription")
    async def set_my_short_description(self, bot: BotRecord, p: Params) -> Any:
        return await self._set_text(bot, p, "short_description", 120)

    @method("setMyName")
    async def set_my_name(self, bot: BotRecord, p: Params) -> Any:
        return await self._set_text(bot, p, "name", 64)

    @method("getMyDescription")
    async def get_my_description(self, bot: BotRecord, p: Params) -> Any:
        return {"description": bot.texts.get(("description", p.get_str("language_code") or ""), "")}

    @method("getMyShortDescription")
    async def get_my_short_description(self, bot: BotRecord, p: Params) -> Any:
        key = ("short_description", p.get_str("language_code") or "")
        return {"short_description": bot.texts.get(key, "")}

    @method("getMyName")
    async def get_my_name(self, bot: BotRecord, p: Params) -> Any:
        return {"name": bot.texts.get(("name", p.get_str("language_code") or ""), bot.first_name)}

    @method("setChatMenuButton")
    async def set_chat_menu_button(self, bot: BotRecord, p: Params) -> Any:
        return True

    @method("getChatMenuButton")
    async def get_chat_menu_button(self, bot: BotRecord, p: Params) -> Any:
        return {"type": "commands"}

    @method("setMyDefaultAdministratorRights")
    async def set_my_default_administrator_rights(self, bot: BotRecord, p: Params) -> Any:
        return True


def _album_item_failed(place: int, exc: ApiError) -> ApiError:
    """A refused item fails the album in the Bot API server's words (on_message_send_failed),
    carrying TDLib's own text, which starts with a capital."""
    inner = exc.description.removeprefix("Bad Request: ")
    inner = inner[:1].upper() + inner[1:]
    return bad_request(f'failed to send message #{place} with the error message "{inner}"')


def _update_kind(update: dict[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


def _confirmed_by(update: dict[str, Any], offset: int) -> bool:
    update_id = update.get("update_id")
    return isinstance(update_id, int) and update_id < offset


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data))


def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
    if status == "creator":
        return {"user": user, "status": "creator", "is_anonymous": False}
    if status == "administrator":
        rights = dict.fromkeys(
            (
                "can_manage_chat",
                "can_delete_messages",
                "can_manage_video_chats",
                "can_restrict_members",
                "can_change_info",
                "can_invite_users",
                "can_post_stories",
                "can_edit_stories",
                "can_delete_stories",
                "can_send_welcome_messages",
                "can_pin_messages",
            ),
            True,
        )
        return {
            "user": user,
            "status": "administrator",
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
            **rights,
        }
    if status == "kicked":
        return {"user": user, "status": "kicked", "until_date": 0}
    if status == "restricted":
        return {"user": user, "status": "restricted", "is_member": True, "until_date": 0}
    return {"user": user, "status": status}
