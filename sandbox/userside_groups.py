"""What people do to groups beyond writing: turning topics on, the bot's rights, reactions."""

from __future__ import annotations

from sandbox.botapi_reactions import user_react
from sandbox.world import MEMBER_STATUSES, BotRecord, Chat, World


class GroupSide(World):
    def make_forum(self, chat_id: int, forum: bool = True) -> Chat:
        """The owner turns topics on (only a supergroup can be a forum)."""
        chat = self.groups[chat_id]
        if forum and chat.type != "supergroup":
            raise ValueError(f"{chat_id} is not a supergroup: only those can have topics")
        chat.is_forum = forum
        return chat

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """An administrator deletes a forum topic, and every message in it goes with it, as
        in Telegram. Bots are not told; a send naming the topic after that is refused with
        "message thread not found" (sandbox/topics.py)."""
        chat = self.groups[chat_id]
        if chat.topics.pop(thread_id, None) is None:
            raise LookupError(f"{chat_id} has no topic {thread_id}")
        for stored in chat.messages.values():
            data = stored.data
            in_topic = data.get("is_topic_message") and data.get("message_thread_id") == thread_id
            if in_topic and not stored.deleted:
                stored.deleted = True
                self.record(chat, "deleted", dict(data), bot_id=stored.bot_id)

    def set_bot_rights(self, chat_id: int, bot: BotRecord | None = None, **rights: bool) -> None:
        """Give or withhold an administrator bot's rights, e.g. ``can_manage_topics=False``."""
        bot = bot or self.bot
        withheld = self.groups[chat_id].rights_withheld.setdefault(bot.id, set())
        for right, granted in rights.items():
            if granted:
                withheld.discard(right)
            else:
                withheld.add(right)

    def user_react(
        self,
        user_id: int,
        message_id: int,
        emojis: list[str],
        chat_id: int | None = None,
        bot: BotRecord | None = None,
    ) -> None:
        """A person sets their reactions on a message (``[]`` takes them away); bots hear
        of it as Telegram tells them (sandbox/botapi_reactions.py)."""
        user = self.ensure_user(user_id)
        if chat_id is None or chat_id == user.id:
            chat = self.private_chat(bot or self.bot, user)
        else:
            chat = self.groups[chat_id]
            if chat.members.get(user.id) not in MEMBER_STATUSES:
                raise LookupError(f"user {user.id} is not a member of {chat.id}")
        user_react(self, user.id, chat, message_id, emojis)
