"""Forum topics and reactions through a real aiogram Bot (sandbox/botapi_forum.py,
sandbox/botapi_reactions.py): aiogram must parse every answer and every update."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    ChatMemberAdministrator,
    ForumTopic,
    MessageReactionUpdated,
    ReactionTypeEmoji,
    ReplyParameters,
)

from sandbox import Emulator
from sandbox.images import make_jpeg
from tests.sandbox.conftest import ALICE, BOB

REACTIONS = ["message", "message_reaction"]


def forum(emu: Emulator, *, admin: bool = True) -> int:
    chat = emu.create_group("消防论坛", members=[BOB], admins=[ALICE], supergroup=True,
                            bot_admin=admin)  # fmt: skip
    emu.make_forum(chat.id)
    return chat.id


async def test_topics_need_a_forum_and_the_right(bot: Bot, emu: Emulator) -> None:
    plain = emu.create_group("普通群", members=[BOB], supergroup=True, bot_admin=True).id
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(plain, "LH-250101-0001")
    chat_id = forum(emu, admin=False)
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(chat_id, "LH-250101-0001")
    emu.promote_bot(chat_id, by=ALICE)
    emu.set_bot_rights(chat_id, can_manage_topics=False)
    member = await bot.get_chat_member(chat_id, bot.id)
    assert isinstance(member, ChatMemberAdministrator) and member.can_manage_topics is False
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(chat_id, "LH-250101-0001")
    emu.set_bot_rights(chat_id, can_manage_topics=True)
    member = await bot.get_chat_member(chat_id, bot.id)
    assert isinstance(member, ChatMemberAdministrator) and member.can_manage_topics is True
    with pytest.raises(TelegramBadRequest, match="non-empty"):
        await bot.create_forum_topic(chat_id, "")
    with pytest.raises(TelegramBadRequest, match="too long"):
        await bot.create_forum_topic(chat_id, "长" * 129)
    with pytest.raises(TelegramBadRequest, match="icon color"):
        await bot.create_forum_topic(chat_id, "x", icon_color=0x123456)
    chat = await bot.get_chat(chat_id)
    assert chat.is_forum is True


async def test_messages_land_in_their_topic_until_it_closes(bot: Bot, emu: Emulator) -> None:
    chat_id = forum(emu)
    topic = await bot.create_forum_topic(chat_id, "🔥 LH-250101-0001", icon_color=0xFB6F5F)
    assert isinstance(topic, ForumTopic) and topic.icon_color == 0xFB6F5F
    thread = topic.message_thread_id
    created = emu.group(chat_id).messages[thread].data
    assert created["forum_topic_created"]["name"] == "🔥 LH-250101-0001"
    sent = await bot.send_message(chat_id, "已立案", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message is True
    photo = await bot.send_photo(
        chat_id, BufferedInputFile(make_jpeg(64, 48), "p.jpg"), message_thread_id=thread
    )
    assert photo.message_thread_id == thread
    # A reply to a message in the topic lands in the topic; a plain message in General.
    reply = await bot.send_message(
        chat_id, "收到", reply_parameters=ReplyParameters(message_id=sent.message_id)
    )
    assert reply.message_thread_id == thread
    general = await bot.send_message(chat_id, "大家好")
    assert general.message_thread_id is None
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(chat_id, "?", message_thread_id=thread + 1000)
    assert await bot.edit_forum_topic(chat_id, thread, name="✅ LH-250101-0001")
    assert emu.group(chat_id).topics[thread].name == "✅ LH-250101-0001"
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(chat_id, thread)
    assert await bot.close_forum_topic(chat_id, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(chat_id, thread)
    # An admin who may manage topics still writes in a closed one; without the right, not.
    assert (await bot.send_message(chat_id, "结案", message_thread_id=thread)).message_thread_id
    emu.set_bot_rights(chat_id, can_manage_topics=False)
    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(chat_id, "还在吗", message_thread_id=thread)
    # The bot created the topic, so it may reopen it without the right.
    assert await bot.reopen_forum_topic(chat_id, thread)
    assert (await bot.send_message(chat_id, "返工", message_thread_id=thread)).message_thread_id
    kinds = [
        next(k for k in e.message or {} if k.startswith("forum_topic_"))
        for e in emu.chat_transcript(chat_id)
        if e.kind == "service"
    ]
    assert kinds == [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    ]


async def test_a_topic_the_bot_did_not_create_needs_the_right(bot: Bot, emu: Emulator) -> None:
    chat_id = forum(emu)
    topic = await bot.create_forum_topic(chat_id, "片区")
    emu.group(chat_id).topics[topic.message_thread_id].creator_id = None  # a person's topic
    emu.set_bot_rights(chat_id, can_manage_topics=False)
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage topics"):
        await bot.close_forum_topic(chat_id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.close_forum_topic(chat_id, 999)


async def test_set_message_reaction(bot: Bot, emu: Emulator) -> None:
    chat_id = forum(emu)
    sent = await bot.send_message(chat_id, "卡片")
    assert await bot.set_message_reaction(chat_id, sent.message_id, [ReactionTypeEmoji(emoji="👍")])
    assert emu.group(chat_id).reactions[sent.message_id][bot.id] == [
        {"type": "emoji", "emoji": "👍"}
    ]
    with pytest.raises(TelegramBadRequest, match="REACTION_INVALID"):
        await bot.set_message_reaction(chat_id, sent.message_id, [ReactionTypeEmoji(emoji="🦖")])
    with pytest.raises(TelegramBadRequest, match="REACTIONS_TOO_MANY"):
        await bot.set_message_reaction(
            chat_id,
            sent.message_id,
            [ReactionTypeEmoji(emoji="👍"), ReactionTypeEmoji(emoji="🔥")],
        )
    with pytest.raises(TelegramBadRequest, match="message to react not found"):
        await bot.set_message_reaction(chat_id, 9999, [ReactionTypeEmoji(emoji="👍")])
    assert await bot.set_message_reaction(chat_id, sent.message_id, [])
    assert bot.id not in emu.group(chat_id).reactions[sent.message_id]


async def test_reactions_reach_an_admin_bot_that_asks_for_them(bot: Bot, emu: Emulator) -> None:
    chat_id = forum(emu)
    card = await bot.send_message(chat_id, "卡片")
    # Not asked for (the default allowed_updates leave reactions out): nothing arrives.
    assert await bot.get_updates(timeout=0) == []
    emu.user_react(BOB, card.message_id, ["👍"], chat_id=chat_id)
    assert await bot.get_updates(timeout=0) == []
    # Asked for: the next reaction arrives with what it replaced.
    await bot.get_updates(timeout=0, allowed_updates=REACTIONS)
    emu.user_react(BOB, card.message_id, ["🔥"], chat_id=chat_id)
    emu.user_react(BOB, card.message_id, [], chat_id=chat_id)
    updates = await bot.get_updates(timeout=0, allowed_updates=REACTIONS)
    events = [u.message_reaction for u in updates]
    assert all(isinstance(e, MessageReactionUpdated) for e in events)
    first, second = (e for e in events if e is not None)
    assert first.user is not None and first.user.id == BOB
    assert first.message_id == card.message_id
    assert [r.emoji for r in first.old_reaction if isinstance(r, ReactionTypeEmoji)] == ["👍"]
    assert [r.emoji for r in first.new_reaction if isinstance(r, ReactionTypeEmoji)] == ["🔥"]
    assert second.new_reaction == []
    with pytest.raises(ValueError, match="not a reaction"):
        emu.user_react(BOB, card.message_id, ["🦖"], chat_id=chat_id)


async def test_reactions_do_not_reach_a_bot_that_is_no_admin(bot: Bot, emu: Emulator) -> None:
    chat_id = emu.create_group("普通群", members=[BOB], admins=[ALICE]).id
    card = await bot.send_message(chat_id, "卡片")
    await bot.get_updates(timeout=0, allowed_updates=REACTIONS)
    emu.user_react(BOB, card.message_id, ["👍"], chat_id=chat_id)
    assert await bot.get_updates(timeout=0, allowed_updates=REACTIONS) == []
    assert emu.group(chat_id).reactions[card.message_id][BOB][0]["emoji"] == "👍"
    emu.promote_bot(chat_id, by=ALICE)  # its my_chat_member is not asked for either
    emu.user_react(BOB, card.message_id, ["👌"], chat_id=chat_id)
    updates = await bot.get_updates(timeout=0, allowed_updates=REACTIONS)
    reactions = [u.message_reaction for u in updates if u.message_reaction]
    assert [r.model_dump(mode="json")["new_reaction"] for r in reactions] == [
        [{"type": "emoji", "emoji": "👌"}]
    ]
    assert len(updates) == 1


async def test_a_reply_in_a_topic_reaches_the_bot_as_a_topic_message(
    bot: Bot, emu: Emulator
) -> None:
    chat_id = forum(emu)
    topic = await bot.create_forum_topic(chat_id, "H260310-001")
    asked = await bot.send_message(chat_id, "请回复地点", message_thread_id=topic.message_thread_id)
    emu.user_send(BOB, "3号楼", chat_id, reply_to=asked.message_id)
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.is_topic_message is True
    assert update.message.message_thread_id == topic.message_thread_id
    # The bot's answer to it lands in the same topic (aiogram's reply keeps the thread).
    answer = await update.message.as_(bot).reply("已记录")
    assert answer.message_thread_id == topic.message_thread_id
