"""Forum topics: createForumTopic, editForumTopic, closeForumTopic, reopenForumTopic.

A forum is a supergroup with topics on (``Chat.is_forum``; a person turns them on with
``emu.make_forum``). A topic's ``message_thread_id`` is the id of the service message that
created it; messages a bot sends with that ``message_thread_id`` (or as a reply to a message
in the topic) land in it (sandbox/topics.py). Creating a topic takes the administrator right
``can_manage_topics``; editing, closing and reopening take it too unless the bot created the
topic itself, as the Bot API documents. Errors are Telegram's words where known: "the chat is
not a forum", "not enough rights to create a topic", "message thread not found",
"TOPIC_CLOSED", "TOPIC_NOT_MODIFIED"; an empty or too long name, or a colour outside the six
Telegram offers, is refused in the emulator's own words.
"""

from __future__ import annotations

from typing import Any

from sandbox.botapi import BotApi, Params, _copy, method
from sandbox.errors import bad_request
from sandbox.topics import MANAGE_TOPICS
from sandbox.world import BotRecord, Chat, ForumTopic

TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
TOPIC_NAME_LIMIT = 128


def _forum(api: BotApi, bot: BotRecord, p: Params) -> Chat:
    chat = api.world.chat_for_bot(bot, p.chat_id())
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _name(p: Params, required: bool) -> str | None:
    name = p.get_str("name")
    if name is None or name == "":
        if required:
            raise bad_request("topic name must be non-empty")
        return None
    if len(name) > TOPIC_NAME_LIMIT:
        raise bad_request("topic name is too long")
    return name


def _topic(api: BotApi, bot: BotRecord, chat: Chat, p: Params) -> ForumTopic:
    """The topic named by ``message_thread_id``, if this bot may manage it."""
    thread_id = p.get_int("message_thread_id")
    topic = chat.topics.get(thread_id or 0)
    if topic is None:
        raise bad_request("message thread not found")
    if topic.creator_id != bot.id and not chat.bot_has_right(bot.id, MANAGE_TOPICS):
        raise bad_request("not enough rights to manage topics")
    return topic


def _service(api: BotApi, bot: BotRecord, chat: Chat, thread_id: int, **fields: Any) -> None:
    world = api.world
    message = world.new_message(
        chat, bot.as_user(), message_thread_id=thread_id, is_topic_message=True, **fields
    )
    world.store(chat, message, bot.id)
    world.record(chat, "service", _copy(message), bot_id=bot.id)


@method("createForumTopic")
async def create_forum_topic(api: BotApi, bot: BotRecord, p: Params) -> Any:
    chat = _forum(api, bot, p)
    if not chat.bot_has_right(bot.id, MANAGE_TOPICS):
        raise bad_request("not enough rights to create a topic")
    name = _name(p, required=True)
    assert name is not None
    color = p.get_int("icon_color")
    if color is not None and color not in TOPIC_COLORS:
        raise bad_request("invalid icon color specified")
    topic = ForumTopic(
        thread_id=chat.next_message_id,
        name=name,
        icon_color=color if color is not None else TOPIC_COLORS[0],
        icon_custom_emoji_id=p.get_str("icon_custom_emoji_id") or None,
        creator_id=bot.id,
    )
    chat.topics[topic.thread_id] = topic
    created = {"name": topic.name, "icon_color": topic.icon_color}
    if topic.icon_custom_emoji_id:
        created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    _service(api, bot, chat, topic.thread_id, forum_topic_created=created)
    return topic.as_dict()


@method("editForumTopic")
async def edit_forum_topic(api: BotApi, bot: BotRecord, p: Params) -> Any:
    chat = _forum(api, bot, p)
    topic = _topic(api, bot, chat, p)
    name = _name(p, required=False)
    emoji = p.get_str("icon_custom_emoji_id")
    if name is None and emoji is None:
        raise bad_request("TOPIC_NOT_MODIFIED")
    edited: dict[str, Any] = {}
    if name is not None:
        topic.name = edited["name"] = name
    if emoji is not None:
        topic.icon_custom_emoji_id = emoji or None
        edited["icon_custom_emoji_id"] = emoji
    _service(api, bot, chat, topic.thread_id, forum_topic_edited=edited)
    return True


async def _set_closed(api: BotApi, bot: BotRecord, p: Params, closed: bool) -> Any:
    chat = _forum(api, bot, p)
    topic = _topic(api, bot, chat, p)
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    kind = "forum_topic_closed" if closed else "forum_topic_reopened"
    _service(api, bot, chat, topic.thread_id, **{kind: {}})
    return True


@method("closeForumTopic")
async def close_forum_topic(api: BotApi, bot: BotRecord, p: Params) -> Any:
    return await _set_closed(api, bot, p, closed=True)


@method("reopenForumTopic")
async def reopen_forum_topic(api: BotApi, bot: BotRecord, p: Params) -> Any:
    return await _set_closed(api, bot, p, closed=False)
