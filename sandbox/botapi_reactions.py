"""Reactions: setMessageReaction (a bot reacts) and what a person's reaction delivers.

A person's reaction reaches a bot as a ``message_reaction`` update (old_reaction,
new_reaction) only as Telegram delivers it: the bot must be an administrator of the group
(in a private chat it is its own chat) and must have listed "message_reaction" in
allowed_updates, which the default leaves out; reactions set by bots are never delivered.
A bot sets at most one reaction on a message (bots are not Premium), from Telegram's
standard set; an empty list takes its reaction away.
"""

from __future__ import annotations

from typing import Any, Final

from sandbox.botapi import BotApi, Params, method
from sandbox.errors import bad_request
from sandbox.world import BotRecord, Chat, World

# The standard reactions of the Bot API's ReactionTypeEmoji.
_STANDARD = (
    "👍 👎 ❤ 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 "
    "🏆 💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 "
    "🙉 🦄 😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡"
)
REACTION_EMOJIS: Final = frozenset(_STANDARD.split(" "))
BOT_REACTION_LIMIT: Final = 1


def emoji_reactions(emojis: list[str]) -> list[dict[str, Any]]:
    return [{"type": "emoji", "emoji": e} for e in emojis]


def _checked(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("can't parse reaction types JSON object")
    out = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type") not in ("emoji", "custom_emoji"):
            raise bad_request("REACTION_INVALID")
        if item["type"] == "emoji" and item.get("emoji") not in REACTION_EMOJIS:
            raise bad_request("REACTION_INVALID")
        out.append({k: item[k] for k in ("type", "emoji", "custom_emoji_id") if k in item})
    if len(out) > BOT_REACTION_LIMIT:
        raise bad_request("REACTIONS_TOO_MANY")
    return out


@method("setMessageReaction")
async def set_message_reaction(api: BotApi, bot: BotRecord, p: Params) -> Any:
    world = api.world
    chat = world.chat_for_bot(bot, p.chat_id(), sending=False)
    mid = p.get_int("message_id")
    stored = chat.messages.get(mid or 0)
    if stored is None or stored.deleted:
        raise bad_request("message to react not found")
    new = _checked(p.get_json("reaction", "reaction types"))
    by_message = chat.reactions.setdefault(stored.message_id, {})
    old = by_message.get(bot.id, [])
    if new:
        by_message[bot.id] = new
    else:
        by_message.pop(bot.id, None)
    world.record(
        chat,
        "reaction",
        None,
        bot_id=bot.id,
        message_id=stored.message_id,
        detail={"bot_id": bot.id, "old": old, "new": new, "is_big": p.get_bool("is_big")},
    )
    return True


def user_react(world: World, user_id: int, chat: Chat, message_id: int, emojis: list[str]) -> None:
    """A person sets their reactions on a message (an empty list takes them away)."""
    stored = chat.messages.get(message_id)
    if stored is None or stored.deleted:
        raise LookupError(f"no message {message_id} in chat {chat.id}")
    unknown = [e for e in emojis if e not in REACTION_EMOJIS]
    if unknown:
        raise ValueError(f"not a reaction Telegram offers: {unknown}")
    user = world.user_record(user_id)
    world.person_acts()
    by_message = chat.reactions.setdefault(message_id, {})
    old = by_message.get(user_id, [])
    new = emoji_reactions(emojis)
    if new:
        by_message[user_id] = new
    else:
        by_message.pop(user_id, None)
    world.record(
        chat,
        "reaction",
        None,
        message_id=message_id,
        detail={"user_id": user_id, "old": old, "new": new},
    )
    for bot in world.bots_in(chat):
        if chat.is_group and not chat.bot_has_right(bot.id, "can_manage_chat"):
            continue  # only administrators hear of reactions in groups
        world.enqueue(
            bot,
            "message_reaction",
            {
                "chat": chat.as_dict(),
                "message_id": message_id,
                "user": user.as_dict(),
                "date": world.now(),
                "old_reaction": old,
                "new_reaction": new,
            },
        )
