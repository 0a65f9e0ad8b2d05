"""Which forum topic a message a bot sends lands in (``message_thread_id``), or Telegram's
error. Kept apart from the methods (sandbox/botapi_forum.py) so that sending can use it."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.world import BotRecord, Chat

MANAGE_TOPICS = "can_manage_topics"


def thread_fields(
    bot: BotRecord, chat: Chat, thread_id: int | None, reply: dict[str, Any] | None
) -> dict[str, Any]:
    """The fields a sent message carries for its thread.

    A reply to a message in a topic lands in that topic, as in Telegram; an explicit
    ``message_thread_id`` must name an open topic of a forum (a closed one takes only
    messages from administrators who may manage topics), else Telegram's error. In a
    supergroup that is not a forum a thread id names a reply thread (a message there).
    """
    if thread_id is None and reply is not None and chat.is_forum and reply.get("is_topic_message"):
        thread_id = reply.get("message_thread_id")
    if thread_id is None:
        return {}
    if not chat.is_forum:
        if chat.type == "supergroup" and thread_id in chat.messages:
            return {"message_thread_id": thread_id}
        raise bad_request("message thread not found")
    topic = chat.topics.get(thread_id)
    if topic is None:
        raise bad_request("message thread not found")
    if topic.closed and not chat.bot_has_right(bot.id, MANAGE_TOPICS):
        raise bad_request("TOPIC_CLOSED")
    return {"message_thread_id": thread_id, "is_topic_message": True}
