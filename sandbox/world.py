"""The emulator's state: bots, users, chats, messages, files, updates, transcripts.

No HTTP here. The Bot API methods (botapi.py) and the user side (userside.py)
both work on a World; the Emulator (emulator.py) puts it behind a server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from domain.clock import Clock, SystemClock
from sandbox import errors
from sandbox.faults import Faults, Stats
from sandbox.flood import FloodControl, FloodLimits
from sandbox.html_text import utf16_len

T = TypeVar("T")

GROUP_ANONYMOUS_BOT_ID = 1087968824
GROUP_ANONYMOUS_BOT: dict[str, Any] = {
    "id": GROUP_ANONYMOUS_BOT_ID,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
CHANNEL_BOT: dict[str, Any] = {
    "id": 136817688,
    "is_bot": True,
    "first_name": "Channel",
    "username": "Channel_Bot",
}

ALL_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post",
    "business_connection", "business_message", "edited_business_message",
    "deleted_business_messages", "message_reaction", "message_reaction_count",
    "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
)  # fmt: skip
DEFAULT_UPDATE_TYPES = frozenset(ALL_UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
SERVICE_FIELDS = (
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo",
    "delete_chat_photo", "group_chat_created", "supergroup_chat_created",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message",
)  # fmt: skip
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted")
# deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago" (Bot API
# docs; in private chats too, tdlib/telegram-bot-api#730). The same age makes a pressed button's
# message arrive as an InaccessibleMessage: Telegram publishes no figure for that (reports range
# from hours to weeks, tdlib/telegram-bot-api#401), so the emulator uses the one it knows.
MESSAGE_AGE_LIMIT = 48 * 3600
# answerCallbackQuery after this many seconds from the press answers 400 "query is too old and
# response timeout expired or query ID is invalid": the client stops waiting (its spinner) and
# the server forgets the query. Telegram gives no figure; reports put it at about 15 s.
CALLBACK_ANSWER_WINDOW = 15.0


class Notifier:
    """Wake every waiter when something changes; wait with a timeout. No polling."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T], timeout: float) -> T | None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._event
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                result = predicate()
                return result if result else None


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False  # has written to a bot in private (/start), so bots may write first

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class WebhookState:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    task: asyncio.Task[None] | None = None


@dataclass
class CallbackPress:
    """One press of an inline button, and how the bot answered it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    pressed_at: float = 0.0  # the emulator's monotonic clock: the answer's window starts here
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    answered_event: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_answered(self, timeout: float = 5.0) -> bool:  # noqa: ASYNC109
        try:
            await asyncio.wait_for(self.answered_event.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass
class BotRecord:
    token: str
    id: int
    username: str
    first_name: str
    privacy: bool = True  # group privacy mode: commands, replies and mentions only
    domain: str | None = None  # BotFather /setdomain: the only host login_url buttons may use
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
    webhook: WebhookState | None = None
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, lang) -> text
    callbacks: dict[str, CallbackPress] = field(default_factory=dict)
    poll_generation: int = 0
    notifier: Notifier = field(default_factory=Notifier)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)

    def as_user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }


@dataclass
class StoredMessage:
    data: dict[str, Any]  # the Telegram Message as it stands now
    bot_id: int | None  # the bot that sent it; None when a user did
    deleted: bool = False
    inaccessible: bool = False  # the bot can no longer see it (date 0 on presses)
    keyboard: dict[str, Any] | None = None  # reply keyboard sent with it
    live_until: int | None = None  # a bot's live location: editable before this time

    @property
    def message_id(self) -> int:
        return int(self.data["message_id"])


@dataclass
class ForumTopic:
    """A topic of a forum supergroup; its id is the id of the message that created it."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    creator_id: int | None = None  # the bot that created it may manage it without the right

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            out["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return out


@dataclass
class Chat:
    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    user: UserRecord | None = None  # private chats: the person
    bot_id: int | None = None  # private chats: the bot
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: dict[int, str] = field(default_factory=dict)  # bot id -> status
    migrated_to: int | None = None
    migrated_from: int | None = None
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    pinned: list[int] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    is_forum: bool = False  # a supergroup with topics on (sandbox/botapi_forum.py)
    topics: dict[int, ForumTopic] = field(default_factory=dict)  # message_thread_id -> topic
    # bot id -> administrator rights it was not given (e.g. "can_manage_topics")
    rights_withheld: dict[int, set[str]] = field(default_factory=dict)
    # message id -> who reacted (a user id) -> their reactions (ReactionType dicts)
    reactions: dict[int, dict[int, list[dict[str, Any]]]] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def as_dict(self) -> dict[str, Any]:
        if self.type == "private" and self.user is not None:
            out = {k: v for k, v in self.user.as_dict().items() if k not in ("is_bot",)}
            out.pop("language_code", None)
            out["type"] = "private"
            return out
        out = {"id": self.id, "title": self.title or "", "type": self.type}
        if self.username:
            out["username"] = self.username
        if self.type == "group":
            out["all_members_are_administrators"] = False
        if self.is_forum:
            out["is_forum"] = True
        return out

    def bot_has_right(self, bot_id: int, right: str) -> bool:
        """An administrator bot holds every right unless withheld; others hold none."""
        if self.bot_status.get(bot_id) not in ("administrator", "creator"):
            return False
        return right not in self.rights_withheld.get(bot_id, set())

    def admins(self) -> list[int]:
        return [uid for uid, st in self.members.items() if st in ("creator", "administrator")]


@dataclass(frozen=True)
class TranscriptEntry:
    """One thing that happened in a chat, in order (``seq`` grows across all chats).

    kind: "sent" | "edited" | "deleted" | "pinned" | "unpinned" (by a bot),
    "user" (a person's message), "callback_answer" (a bot answered a press;
    ``detail`` holds text and show_alert), "service" (joins, migrations, a bot's forum
    topic created / edited / closed / reopened), "reaction" (a person's or a bot's
    reactions on ``message_id`` changed; ``detail`` holds user_id or bot_id, old, new).
    """

    seq: int
    kind: str
    chat_id: int
    chat_key: tuple[int, int]
    message_id: int | None
    bot_id: int | None
    text: str | None
    message: dict[str, Any] | None
    buttons: list[list[dict[str, Any]]]
    keyboard: list[list[dict[str, Any]]]
    detail: dict[str, Any]
    date: int

    @property
    def from_bot(self) -> bool:
        return self.kind in ("sent", "edited", "deleted", "pinned", "unpinned", "callback_answer")

    @property
    def button_texts(self) -> list[str]:
        return [b.get("text", "") for row in self.buttons for b in row]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "bot_id": self.bot_id,
            "from_bot": self.from_bot,
            "text": self.text,
            "message": self.message,
            "buttons": self.buttons,
            "keyboard": self.keyboard,
            "detail": self.detail,
            "date": self.date,
        }


def chat_key(chat: Chat) -> tuple[int, int]:
    return (chat.bot_id or 0, chat.id) if chat.type == "private" else (0, chat.id)


def text_of(message: dict[str, Any]) -> str | None:
    text = message.get("text", message.get("caption"))
    return str(text) if text is not None else None


def utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities of a text a person typed."""
    entities: list[dict[str, Any]] = []
    pos = 0
    for token in text.split(" "):
        chunk = token
        if chunk.startswith("/") and len(chunk) > 1:
            name = chunk.split("\n", 1)[0]
            entities.append({"type": "bot_command", "offset": pos, "length": utf16_len(name)})
        elif chunk.startswith("@") and len(chunk) > 1:
            name = chunk.split("\n", 1)[0]
            entities.append({"type": "mention", "offset": pos, "length": utf16_len(name)})
        pos += utf16_len(token) + 1
    return entities


class World:
    """Everything the emulator knows. One instance per Emulator."""

    def __init__(self, clock: Clock | None = None, limits: FloodLimits | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.flood = FloodControl(limits or FloodLimits.telegram())
        self.faults = Faults()
        self.stats = Stats()
        self.bots: dict[str, BotRecord] = {}
        self.users: dict[int, UserRecord] = {}
        self.groups: dict[int, Chat] = {}
        self.privates: dict[tuple[int, int], Chat] = {}
        self.files: dict[str, Any] = {}  # file_id -> FileRecord (botapi.py)
        # A file_id works only for the bots that uploaded or received it, as on Telegram.
        self.file_holders: dict[str, set[int]] = {}
        self.log: list[TranscriptEntry] = []
        self.changed = Notifier()
        self.cursors: dict[tuple[object, ...], int] = {}  # driver: consumed seq
        # driver: what else must be finished before a negative check reads the transcript
        # (a bot's own outbox, whose pushes are no part of handling an update)
        self.settlers: list[Callable[[], Awaitable[object]]] = []
        # Seconds a person takes before each message or press (reading, typing) on a
        # ManualClock: people do not write at machine speed, and Telegram's per-chat limits
        # assume they do not. 0: the clock moves only when a test moves it.
        self.think_time = 0.0
        self.last_album: str | None = None
        self._ids = itertools.count(1)
        self._group_ids = itertools.count(4_200_000_001)
        self._supergroup_ids = itertools.count(1_002_200_000_001)
        self.closing = False

    # -- time -------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock.time())

    def next_id(self) -> int:
        return next(self._ids)

    def person_acts(self) -> None:
        """A person is about to write or press: ``think_time`` passes on a manual clock."""
        advance = getattr(self.clock, "advance", None)
        if self.think_time > 0 and advance is not None:
            advance(self.think_time)

    # -- bots and users ---------------------------------------------------
    def add_bot(self, token: str, username: str = "gridbot_test_bot", first_name: str = "网格通",
                privacy: bool = True, domain: str | None = None) -> BotRecord:  # fmt: skip
        head = token.split(":", 1)[0]
        if not head.isdigit() or ":" not in token:
            raise ValueError("a bot token looks like 123456789:secret")
        bot = BotRecord(token, int(head), username, first_name, privacy=privacy, domain=domain)
        self.bots[token] = bot
        return bot

    @property
    def bot(self) -> BotRecord:
        """The first bot added: the one users talk to unless told otherwise."""
        if not self.bots:
            raise LookupError("no bot added: call emu.add_bot(token, username) first")
        return next(iter(self.bots.values()))

    def bot_by_id(self, bot_id: int) -> BotRecord:
        for bot in self.bots.values():
            if bot.id == bot_id:
                return bot
        raise LookupError(f"no bot with id {bot_id}")

    def ensure_user(
        self,
        tg_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started: bool | None = None,
    ) -> UserRecord:
        """Create the user, or update the fields given. New users default to zh-hans and have
        not started the bot: a bot may not write first to them until they write to it in
        private (or ``started=True``)."""
        user = self.users.get(tg_id)
        if user is None:
            user = UserRecord(
                tg_id,
                first_name or f"User{tg_id}",
                last_name,
                username,
                language_code if language_code is not None else "zh-hans",
                bool(started),
            )
            self.users[tg_id] = user
            return user
        if first_name is not None:
            user.first_name = first_name
        if last_name is not None:
            user.last_name = last_name
        if username is not None:
            user.username = username
        if language_code is not None:
            user.language_code = language_code
        if started is not None:
            user.started = started
        return user

    def user_record(self, tg_id: int) -> UserRecord:
        user = self.users.get(tg_id)
        if user is None:
            raise LookupError(f"no user {tg_id}: create it with emu.ensure_user({tg_id}, ...)")
        return user

    # -- chats ------------------------------------------------------------
    def private_chat(self, bot: BotRecord, user: UserRecord) -> Chat:
        key = (bot.id, user.id)
        chat = self.privates.get(key)
        if chat is None:
            chat = Chat(user.id, "private", user=user, bot_id=bot.id)
            self.privates[key] = chat
        return chat

    def new_group_id(self, supergroup: bool) -> int:
        return -next(self._supergroup_ids) if supergroup else -next(self._group_ids)

    def chat_by_key(self, key: tuple[int, int]) -> Chat:
        if key[0]:
            return self.privates[key]
        return self.groups[key[1]]

    def chat_for_bot(self, bot: BotRecord, chat_id: Any, sending: bool = True) -> Chat:
        """The chat a Bot API call names, or the error Telegram answers."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for candidate in self.groups.values():
                if candidate.username and candidate.username.lower() == chat_id[1:].lower():
                    return self._check_group(bot, candidate, sending)
            raise errors.chat_not_found()
        try:
            cid = int(chat_id)
        except (TypeError, ValueError):
            raise errors.chat_not_found() from None
        if cid > 0:
            if any(b.id == cid for b in self.bots.values()):
                raise errors.forbidden("bot can't send messages to bots")
            user = self.users.get(cid)
            if user is None:
                raise errors.chat_not_found()
            # Whether the person has written to a bot, not whether the emulator holds a Chat
            # object for them (reading a transcript makes one).
            if not user.started:
                if sending:
                    raise errors.forbidden("bot can't initiate conversation with a user")
                raise errors.chat_not_found()
            found = self.private_chat(bot, user)
            if sending:
                if cid in self.faults.deactivated:
                    raise errors.forbidden("user is deactivated")
                if cid in self.faults.blocked:
                    raise errors.forbidden("bot was blocked by the user")
            return found
        group = self.groups.get(cid)
        if group is None:
            raise errors.chat_not_found()
        return self._check_group(bot, group, sending)

    def _check_group(self, bot: BotRecord, group: Chat, sending: bool) -> Chat:
        if group.migrated_to is not None:
            raise errors.group_upgraded(group.migrated_to)
        status = group.bot_status.get(bot.id, "left")
        kind = "supergroup chat" if group.type == "supergroup" else "group chat"
        if status == "kicked":
            raise errors.forbidden(f"bot was kicked from the {kind}")
        if status not in MEMBER_STATUSES:
            if sending:
                raise errors.forbidden(f"bot is not a member of the {kind}")
            raise errors.chat_not_found()
        return group

    # -- messages ---------------------------------------------------------
    def new_message(self, chat: Chat, sender: dict[str, Any], **fields: Any) -> dict[str, Any]:
        mid = chat.next_message_id
        chat.next_message_id += 1
        message: dict[str, Any] = {
            "message_id": mid,
            "from": sender,
            "chat": chat.as_dict(),
            "date": self.now(),
        }
        message.update({k: v for k, v in fields.items() if v is not None})
        return message

    def store(self, chat: Chat, message: dict[str, Any], bot_id: int | None,
              keyboard: dict[str, Any] | None = None) -> StoredMessage:  # fmt: skip
        stored = StoredMessage(message, bot_id, keyboard=keyboard)
        chat.messages[stored.message_id] = stored
        return stored

    def reply_snapshot(self, chat: Chat, message_id: int) -> dict[str, Any] | None:
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            return None
        snap = dict(stored.data)
        snap.pop("reply_to_message", None)
        return snap

    # -- updates ----------------------------------------------------------
    def enqueue(self, bot: BotRecord, kind: str, payload: dict[str, Any]) -> None:
        if kind not in bot.allowed_updates:
            return
        # a snapshot: later edits of the stored message must not change a queued update
        update = {"update_id": bot.next_update_id, kind: json.loads(json.dumps(payload))}
        bot.next_update_id += 1
        bot.updates.append(update)
        bot.notifier.notify()

    def inject_raw_update(
        self, update: dict[str, Any], bot: BotRecord | None = None
    ) -> dict[str, Any]:
        """Queue an update exactly as given, even one a client's types reject (a field an
        older Bot API left out, an update_id beyond 64 bits): what is tested is the bot's own
        parsing. Without an ``update_id`` key the next one in sequence is put first; a given
        one is kept as is. Returns the queued update."""
        bot = bot or self.bot
        queued = json.loads(json.dumps(update))
        if "update_id" not in queued:
            queued = {"update_id": bot.next_update_id, **queued}
            bot.next_update_id += 1
        bot.updates.append(queued)
        bot.notifier.notify()
        return json.loads(json.dumps(queued))

    def bots_in(self, chat: Chat) -> list[BotRecord]:
        if chat.type == "private":
            return [b for b in self.bots.values() if b.id == chat.bot_id]
        return [
            b for b in self.bots.values() if chat.bot_status.get(b.id, "left") in MEMBER_STATUSES
        ]

    def bot_sees(self, bot: BotRecord, chat: Chat, message: dict[str, Any]) -> bool:
        """Group privacy mode: commands, replies to the bot, mentions, service messages.

        BotFather's words for it: the bot "will only receive messages that either start with
        the '/' symbol or mention the bot by username". So a command counts only at offset 0
        ("hello /report" is not for bots), ``/cmd@name`` only for that bot, and a mention only
        of this bot's username.
        """
        if chat.type == "private" or not bot.privacy:
            return True
        if chat.bot_status.get(bot.id) in ("administrator", "creator"):
            return True
        if any(f in message for f in SERVICE_FIELDS):
            return True
        reply = message.get("reply_to_message")
        if reply and reply.get("from", {}).get("id") == bot.id:
            return True
        text = text_of(message) or ""
        for e in message.get("entities") or message.get("caption_entities") or []:
            part = utf16_slice(text, e["offset"], e["length"])
            if e["type"] == "bot_command" and e["offset"] == 0:
                addressee = part.partition("@")[2]
                if not addressee or addressee.lower() == bot.username.lower():
                    return True
            if e["type"] == "mention" and part[1:].lower() == bot.username.lower():
                return True
        return False

    def grant_files(self, bot: BotRecord, message: dict[str, Any]) -> None:
        """The bot receiving a message gets the right to use the files in it."""
        ids = [size["file_id"] for size in message.get("photo") or []]
        for kind in ("document", "audio", "video"):
            if isinstance(message.get(kind), dict):
                ids.append(message[kind]["file_id"])
        for file_id in ids:
            self.file_holders.setdefault(file_id, set()).add(bot.id)

    def deliver(self, chat: Chat, kind: str, message: dict[str, Any]) -> None:
        """Hand a message (or edited message) from a person to every bot that sees it."""
        for bot in self.bots_in(chat):
            if self.bot_sees(bot, chat, message):
                self.grant_files(bot, message)
                self.enqueue(bot, kind, message)

    # -- transcript -------------------------------------------------------
    def record(
        self,
        chat: Chat,
        kind: str,
        message: dict[str, Any] | None = None,
        bot_id: int | None = None,
        message_id: int | None = None,
        keyboard: dict[str, Any] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> TranscriptEntry:
        buttons: list[list[dict[str, Any]]] = []
        if message is not None:
            markup = message.get("reply_markup") or {}
            buttons = [list(row) for row in markup.get("inline_keyboard", [])]
        rows: list[list[dict[str, Any]]] = []
        if keyboard and "keyboard" in keyboard:
            rows = [
                [b if isinstance(b, dict) else {"text": str(b)} for b in row]
                for row in keyboard["keyboard"]
            ]
        entry = TranscriptEntry(
            seq=len(self.log) + 1,
            kind=kind,
            chat_id=chat.id,
            chat_key=chat_key(chat),
            message_id=message_id if message_id is not None else (message or {}).get("message_id"),
            bot_id=bot_id,
            text=text_of(message) if message is not None else None,
            message=message,
            buttons=buttons,
            keyboard=rows,
            detail=detail or {},
            date=self.now(),
        )
        self.log.append(entry)
        self.changed.notify()
        return entry

    def transcript(self, chat: Chat) -> list[TranscriptEntry]:
        key = chat_key(chat)
        return [e for e in self.log if e.chat_key == key]

    def chat_instance(self, chat: Chat) -> str:
        return str(zlib.crc32(f"{chat.id}:{chat.bot_id}".encode()) * 7919 + 1_000_000_007)
