"""What people do: write to the bot, press buttons, share locations, run groups.

Every action builds the Message Telegram would build, stores it in the chat,
writes it to the transcript and hands it, as an update, to every bot that would
see it (group privacy mode included).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sandbox.botapi import BotApi, _copy, _member
from sandbox.images import make_jpeg
from sandbox.userside_groups import GroupSide
from sandbox.world import (
    GROUP_ANONYMOUS_BOT,
    MEMBER_STATUSES,
    MESSAGE_AGE_LIMIT,
    BotRecord,
    CallbackPress,
    Chat,
    StoredMessage,
    UserRecord,
    command_entities,
)

DEFAULT_LOCATION = (39.9042, 116.4074)


class UserSide(GroupSide):
    api: BotApi

    # -- chats --------------------------------------------------------------
    def user_chat(
        self, user: UserRecord, chat_id: int | None, bot: BotRecord | None = None
    ) -> Chat:
        """The chat a person acts in: their private chat with the bot, or a group."""
        if chat_id is None or chat_id == user.id:
            return self.private_chat(bot or self.bot, user)
        chat = self.groups.get(chat_id)
        if chat is None:
            raise LookupError(f"no group {chat_id}")
        if chat.migrated_to is not None:
            raise LookupError(f"group {chat_id} was migrated to {chat.migrated_to}")
        if chat.members.get(user.id) not in MEMBER_STATUSES:
            raise LookupError(f"user {user.id} is not a member of {chat.title!r} ({chat.id})")
        return chat

    def create_group(
        self,
        title: str,
        members: Iterable[int] = (),
        admins: Iterable[int] = (),
        supergroup: bool = False,
        bot_member: bool = True,
        bot_admin: bool = False,
        creator: int | None = None,
        username: str | None = None,
    ) -> Chat:
        """A group (ids below -4e9) or supergroup (-100...). People are created as needed.

        With ``bot_member`` the bot (every bot added so far) is already in it,
        silently; use ``add_bot_to_group`` to have it join with updates.
        """
        admins = list(admins)
        people = list(dict.fromkeys([*admins, *members]))
        chat = Chat(
            self.new_group_id(supergroup),
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
        )
        owner = creator if creator is not None else (people[0] if people else None)
        for uid in people:
            self.ensure_user(uid)
            chat.members[uid] = "administrator" if uid in admins else "member"
        if owner is not None:
            self.ensure_user(owner)
            chat.members[owner] = "creator"
        if bot_member:
            for bot in self.bots.values():
                chat.bot_status[bot.id] = "administrator" if bot_admin else "member"
        self.groups[chat.id] = chat
        return chat

    def add_member(
        self, chat_id: int, user_id: int, by: int | None = None, admin: bool = False
    ) -> dict[str, Any]:
        chat = self.groups[chat_id]
        user = self.ensure_user(user_id)
        chat.members[user_id] = "administrator" if admin else "member"
        actor = self.users[by] if by is not None else user
        return self._service(
            chat,
            actor.as_dict(),
            new_chat_participant=user.as_dict(),
            new_chat_member=user.as_dict(),
            new_chat_members=[user.as_dict()],
        )

    def remove_member(self, chat_id: int, user_id: int, by: int | None = None) -> dict[str, Any]:
        chat = self.groups[chat_id]
        user = self.user_record(user_id)
        chat.members[user_id] = "left"
        actor = self.users[by] if by is not None else user
        return self._service(
            chat,
            actor.as_dict(),
            left_chat_participant=user.as_dict(),
            left_chat_member=user.as_dict(),
        )

    def set_admin(self, chat_id: int, user_id: int, admin: bool = True) -> None:
        chat = self.groups[chat_id]
        if chat.members.get(user_id) != "creator":
            chat.members[user_id] = "administrator" if admin else "member"

    def _service(self, chat: Chat, sender: dict[str, Any], **fields: Any) -> dict[str, Any]:
        message = self.new_message(chat, sender, **fields)
        self.store(chat, message, None)
        self.record(chat, "service", _copy(message))
        self.deliver(chat, "message", message)
        return message

    def _bot_status_change(self, chat: Chat, bot: BotRecord, by: UserRecord, new: str) -> None:
        old = chat.bot_status.get(bot.id, "left") if chat.is_group else "member"
        if chat.is_group:
            chat.bot_status[bot.id] = new
        self.enqueue(
            bot,
            "my_chat_member",
            {
                "chat": chat.as_dict(),
                "from": by.as_dict(),
                "date": self.now(),
                "old_chat_member": _member(bot.as_user(), old),
                "new_chat_member": _member(bot.as_user(), new),
            },
        )

    def add_bot_to_group(
        self, chat_id: int, by: int, admin: bool = False, bot: BotRecord | None = None
    ) -> None:
        """A person adds the bot: my_chat_member, then the new_chat_members service message."""
        bot = bot or self.bot
        chat = self.groups[chat_id]
        actor = self.user_record(by)
        self._bot_status_change(chat, bot, actor, "administrator" if admin else "member")
        member = bot.as_user()
        self._service(
            chat,
            actor.as_dict(),
            new_chat_participant=member,
            new_chat_member=member,
            new_chat_members=[member],
        )

    def promote_bot(
        self, chat_id: int, by: int, admin: bool = True, bot: BotRecord | None = None
    ) -> None:
        bot = bot or self.bot
        chat = self.groups[chat_id]
        self._bot_status_change(
            chat, bot, self.user_record(by), "administrator" if admin else "member"
        )

    def remove_bot_from_group(self, chat_id: int, by: int, bot: BotRecord | None = None) -> None:
        """A person removes the bot (``left`` in a group, ``kicked`` in a supergroup)."""
        bot = bot or self.bot
        chat = self.groups[chat_id]
        actor = self.user_record(by)
        self._bot_status_change(chat, bot, actor, "kicked" if chat.type == "supergroup" else "left")
        member = bot.as_user()
        self._service(chat, actor.as_dict(), left_chat_participant=member, left_chat_member=member)

    def migrate_to_supergroup(self, chat_id: int, by: int | None = None) -> Chat:
        """Upgrade a group: migrate_to_chat_id in the old, migrate_from_chat_id in the new.

        Afterwards sending to the old id answers 400 "group chat was upgraded to a
        supergroup chat" with parameters.migrate_to_chat_id.
        """
        old = self.groups[chat_id]
        if old.type != "group" or old.migrated_to is not None:
            raise ValueError(f"{chat_id} is not a basic group")
        new = Chat(
            self.new_group_id(True),
            "supergroup",
            title=old.title,
            members=dict(old.members),
            bot_status=dict(old.bot_status),
            migrated_from=old.id,
        )
        self.groups[new.id] = new
        owner = (
            by
            if by is not None
            else next((u for u, st in old.members.items() if st == "creator"), None)
        )
        sender = self.users[owner].as_dict() if owner is not None else GROUP_ANONYMOUS_BOT
        self._service(old, sender, migrate_to_chat_id=new.id)
        old.migrated_to = new.id
        message = self.new_message(
            new, dict(GROUP_ANONYMOUS_BOT), sender_chat=new.as_dict(), migrate_from_chat_id=old.id
        )
        self.store(new, message, None)
        self.record(new, "service", _copy(message))
        self.deliver(new, "message", message)
        return new

    # -- messages -----------------------------------------------------------
    def _post(
        self,
        user: UserRecord,
        chat: Chat,
        reply_to: int | None = None,
        anonymous: bool = False,
        **fields: Any,
    ) -> StoredMessage:
        if anonymous:
            if chat.members.get(user.id) not in ("creator", "administrator"):
                raise PermissionError("only group admins can write anonymously")
            sender = dict(GROUP_ANONYMOUS_BOT)
            fields["sender_chat"] = chat.as_dict()
        else:
            sender = user.as_dict()
        album = fields.get("media_group_id")
        if album is None or album != self.last_album:
            self.person_acts()  # an album's items arrive together
        self.last_album = album
        if chat.type == "private":
            user.started = True  # a bot may write first to whoever has written to it
        message = self.new_message(chat, sender, **fields)
        if reply_to is not None:
            snap = self.reply_snapshot(chat, reply_to)
            if snap is None:
                raise LookupError(f"no message {reply_to} in chat {chat.id} to reply to")
            message["reply_to_message"] = snap
            if chat.type == "supergroup":
                message["message_thread_id"] = snap.get("message_thread_id", reply_to)
                if snap.get("is_topic_message"):
                    message["is_topic_message"] = True
        stored = self.store(chat, message, None)
        self.record(chat, "user", _copy(message))
        self.deliver(chat, "message", message)
        return stored

    def user_send(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to: int | None = None,
        anonymous: bool = False,
        bot: BotRecord | None = None,
    ) -> dict[str, Any]:
        """Text as typed: commands and @mentions get their entities."""
        user = self.ensure_user(user_id)
        chat = self.user_chat(user, chat_id, bot)
        entities = command_entities(text)
        stored = self._post(user, chat, reply_to, anonymous, text=text, entities=entities or None)
        return _copy(stored.data)

    def user_send_photo(
        self,
        user_id: int,
        chat_id: int | None = None,
        caption: str | None = None,
        data: bytes | None = None,
        media_group_id: str | None = None,
        reply_to: int | None = None,
        bot: BotRecord | None = None,
    ) -> dict[str, Any]:
        user = self.ensure_user(user_id)
        chat = self.user_chat(user, chat_id, bot)
        image = data if data is not None else make_jpeg(320, 240, seed=self.next_id())
        photo = self.api.photo_from_bytes(image)
        entities = command_entities(caption) if caption else []
        stored = self._post(
            user,
            chat,
            reply_to,
            photo=photo,
            caption=caption,
            caption_entities=entities or None,
            media_group_id=media_group_id,
        )
        return _copy(stored.data)

    def user_send_album(
        self,
        user_id: int,
        count: int,
        chat_id: int | None = None,
        caption: str | None = None,
        bot: BotRecord | None = None,
    ) -> list[dict[str, Any]]:
        """``count`` photos sharing a media_group_id; the caption rides on the first."""
        group_id = str(13_500_000_000_000_000 + self.next_id())
        return [
            self.user_send_photo(
                user_id, chat_id, caption if k == 0 else None, media_group_id=group_id, bot=bot
            )
            for k in range(count)
        ]

    def user_send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str = "file.txt",
        chat_id: int | None = None,
        caption: str | None = None,
        mime_type: str | None = None,
        bot: BotRecord | None = None,
    ) -> dict[str, Any]:
        from sandbox.botapi import Upload

        user = self.ensure_user(user_id)
        chat = self.user_chat(user, chat_id, bot)
        document = self.api.document_from(Upload(file_name, data, mime_type))
        stored = self._post(user, chat, document=document, caption=caption)
        return _copy(stored.data)

    def user_send_location(
        self,
        user_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        live_period: int | None = None,
        horizontal_accuracy: float | None = None,
        forwarded_from: int | str | None = None,
        reply_to: int | None = None,
        bot: BotRecord | None = None,
    ) -> dict[str, Any]:
        """A location; ``live_period`` makes it live; ``forwarded_from`` (a user id, or a
        name for a hidden user) forwards it, with forward_origin and the legacy twins."""
        user = self.ensure_user(user_id)
        chat = self.user_chat(user, chat_id, bot)
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if horizontal_accuracy is not None:
            location["horizontal_accuracy"] = horizontal_accuracy
        if live_period is not None:
            location["live_period"] = live_period
        extra: dict[str, Any] = {}
        if forwarded_from is not None:
            when = self.now() - 60
            if isinstance(forwarded_from, int):
                origin_user = self.ensure_user(forwarded_from).as_dict()
                extra["forward_origin"] = {"type": "user", "sender_user": origin_user, "date": when}
                extra["forward_from"] = origin_user
            else:
                extra["forward_origin"] = {
                    "type": "hidden_user",
                    "sender_user_name": forwarded_from,
                    "date": when,
                }
                extra["forward_sender_name"] = forwarded_from
            extra["forward_date"] = when
        stored = self._post(user, chat, reply_to, location=location, **extra)
        return _copy(stored.data)

    def user_move_live_location(
        self,
        user_id: int,
        message_id: int,
        latitude: float,
        longitude: float,
        chat_id: int | None = None,
        stop: bool = False,
        bot: BotRecord | None = None,
    ) -> dict[str, Any]:
        """The live location moves: an edited_message update with the new position."""
        user = self.user_record(user_id)
        chat = self.user_chat(user, chat_id, bot)
        stored = chat.messages.get(message_id)
        if stored is None or "location" not in stored.data:
            raise LookupError(f"no location message {message_id}")
        location = dict(stored.data["location"])
        if "live_period" not in location:
            raise ValueError("that location is not live")
        location.update(latitude=latitude, longitude=longitude)
        if stop:
            location.pop("live_period", None)
        stored.data["location"] = location
        stored.data["edit_date"] = self.now()
        self.record(chat, "user", _copy(stored.data), detail={"edited": True})
        self.deliver(chat, "edited_message", _copy(stored.data))
        return _copy(stored.data)

    def user_send_contact(
        self,
        user_id: int,
        phone_number: str | None = None,
        chat_id: int | None = None,
        bot: BotRecord | None = None,
    ) -> dict[str, Any]:
        user = self.ensure_user(user_id)
        chat = self.user_chat(user, chat_id, bot)
        contact: dict[str, Any] = {
            "phone_number": phone_number or f"+86138{user.id % 100_000_000:08d}",
            "first_name": user.first_name,
            "user_id": user.id,
        }
        if user.last_name:
            contact["last_name"] = user.last_name
        stored = self._post(user, chat, contact=contact)
        return _copy(stored.data)

    def user_press(
        self,
        user_id: int,
        chat_id: int | None,
        message_id: int,
        data: str,
        inaccessible: bool = False,
        bot: BotRecord | None = None,
    ) -> CallbackPress:
        """Press an inline button: a callback_query to the bot that sent the message.

        On a message the bot can no longer see (deleted, older than 48 hours on the
        emulator's clock, marked inaccessible, or ``inaccessible=True``) the query carries
        an InaccessibleMessage: date 0, only chat and message_id.
        """
        user = self.ensure_user(user_id)
        chat = self.user_chat(user, chat_id, bot)
        stored = chat.messages.get(message_id)
        if stored is None:
            raise LookupError(f"no message {message_id} in chat {chat.id}")
        owner = self.bot_by_id(stored.bot_id) if stored.bot_id else (bot or self.bot)
        self.person_acts()
        press = CallbackPress(
            str(secrets.randbits(62) + 10**17),
            user.id,
            chat.id,
            message_id,
            data,
            pressed_at=self.clock.monotonic(),
        )
        owner.callbacks[press.id] = press
        too_old = self.now() - int(stored.data.get("date") or 0) >= MESSAGE_AGE_LIMIT
        if stored.deleted or stored.inaccessible or inaccessible or too_old:
            message: dict[str, Any] = {"chat": chat.as_dict(), "message_id": message_id, "date": 0}
        else:
            message = _copy(stored.data)
        self.record(
            chat,
            "press",
            None,
            message_id=message_id,
            detail={"data": data, "user_id": user.id, "callback_query_id": press.id},
        )
        self.enqueue(
            owner,
            "callback_query",
            {
                "id": press.id,
                "from": user.as_dict(),
                "message": message,
                "chat_instance": self.chat_instance(chat),
                "data": data,
            },
        )
        return press

    def make_inaccessible(self, chat: Chat, message_id: int) -> None:
        """From now on presses on that message carry an InaccessibleMessage."""
        chat.messages[message_id].inaccessible = True

    def block_bot(self, user_id: int, bot: BotRecord | None = None) -> None:
        """The person blocks the bot: my_chat_member (kicked), then sends answer 403."""
        bot = bot or self.bot
        user = self.user_record(user_id)
        self.faults.block(user_id)
        chat = self.private_chat(bot, user)
        self.enqueue(
            bot,
            "my_chat_member",
            {
                "chat": chat.as_dict(),
                "from": user.as_dict(),
                "date": self.now(),
                "old_chat_member": _member(bot.as_user(), "member"),
                "new_chat_member": _member(bot.as_user(), "kicked"),
            },
        )

    def unblock_bot(self, user_id: int, bot: BotRecord | None = None) -> None:
        bot = bot or self.bot
        user = self.user_record(user_id)
        self.faults.unblock(user_id)
        chat = self.private_chat(bot, user)
        self.enqueue(
            bot,
            "my_chat_member",
            {
                "chat": chat.as_dict(),
                "from": user.as_dict(),
                "date": self.now(),
                "old_chat_member": _member(bot.as_user(), "kicked"),
                "new_chat_member": _member(bot.as_user(), "member"),
            },
        )

    # -- reading -------------------------------------------------------------
    def latest_with_buttons(
        self, chat: Chat, text: str | None = None
    ) -> tuple[StoredMessage, dict[str, Any]] | None:
        """The newest visible bot message with an inline button (with that text, if given)."""
        for mid in sorted(chat.messages, reverse=True):
            stored = chat.messages[mid]
            if stored.deleted or stored.bot_id is None:
                continue
            rows = (stored.data.get("reply_markup") or {}).get("inline_keyboard", [])
            for row in rows:
                for button in row:
                    if text is None or button.get("text") == text:
                        return stored, button
        return None

    def all_buttons(self, chat: Chat) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for mid in sorted(chat.messages, reverse=True):
            stored = chat.messages[mid]
            if stored.deleted or stored.bot_id is None:
                continue
            for row in (stored.data.get("reply_markup") or {}).get("inline_keyboard", []):
                out.extend((mid, str(b.get("text"))) for b in row)
        return out
