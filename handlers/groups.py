"""Group chats: `/bind`, the bot being added or removed, and groups becoming supergroups.

Who may bind is decided in `services.groups` (see its docstring); this module only finds out
what Telegram knows: whether the sender is an administrator of the group (getChatMember), or
an anonymous administrator (the message is sent on behalf of the group itself).
"""

from __future__ import annotations

import logging
from typing import Final

from aiogram import Bot, F, Router, html
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import (
    IS_MEMBER,
    IS_NOT_MEMBER,
    ChatMemberUpdatedFilter,
    Command,
    CommandObject,
)
from aiogram.types import ChatMemberUpdated, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from handlers.cases.common import tools
from services import groups, transfers
from services.groups import Bound, GroupError, Target


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(F.chat.type.in_(GROUP_TYPES))
    r.my_chat_member.filter(F.chat.type.in_(GROUP_TYPES))
    r.message.register(bind, Command("bind"))
    r.my_chat_member.register(bot_added, ChatMemberUpdatedFilter(IS_NOT_MEMBER >> IS_MEMBER))
    r.my_chat_member.register(bot_removed, ChatMemberUpdatedFilter(IS_MEMBER >> IS_NOT_MEMBER))
    r.message.register(migrated_away, F.migrate_to_chat_id)
    r.message.register(migrated_here, F.migrate_from_chat_id)
    return r


GROUP_TYPES: Final = frozenset({"group", "supergroup"})
log = logging.getLogger(__name__)

GROUP_ADMIN_STATUSES: Final = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR})


def _targets_text(app: AppContext, language: str, targets: list[Target]) -> str:
    return "、".join(
        app.t(f"groups.target_{t.kind}", language, code=html.quote(t.code), name=html.quote(t.name))
        for t in targets
    )


async def _is_group_admin(bot: Bot, chat_id: int, user_id: int) -> bool | None:
    """Telegram's word on whether the user administers the chat; None when it cannot say."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramAPIError as exc:
        log.warning("getChatMember(%s, %s) failed: %s", chat_id, user_id, exc)
        return None
    return member.status in GROUP_ADMIN_STATUSES


async def bind(
    message: Message,
    command: CommandObject,
    bot: Bot,
    session: AsyncSession,
    app: AppContext,
    language: str,
    is_admin: bool,
) -> None:
    args = (command.args or "").split()
    if not 1 <= len(args) <= 2:
        await message.reply(app.t("groups.bind_usage", language))
        return
    chat = message.chat
    if message.sender_chat is not None and message.sender_chat.id != chat.id:
        # Sent on behalf of a channel: there is no person to grant anything to.
        await message.reply(app.t("groups.refused", language))
        return
    actor, anonymous, group_admin = await _who_binds(message, bot)
    if group_admin is None:
        await message.reply(app.t("groups.check_failed", language))
        return
    try:
        bound = await groups.bind_chat(
            session,
            chat_id=chat.id,
            chat_title=chat.title,
            code=args[0],
            bind_code=args[1] if len(args) > 1 else None,
            actor_tg_id=actor,
            anonymous=anonymous,
            gridbot_admin=is_admin and not anonymous,
            group_admin=group_admin,
            now=app.clock.now(),
        )
    except GroupError as err:
        params = {k: html.quote(str(v)) for k, v in err.params.items()}
        await message.reply(app.t(err.key, language, **params))
        return
    log.info("chat %s bound to %s:%s", chat.id, bound.target.kind, bound.target.code)
    text = _bound_text(app, language, bound, chat.id)
    if bound.target.kind == "dept":
        # Transfers held while the department had no chat are handed over now.
        cfg, texts = await tools(session, app)
        delivered = await transfers.deliver_held(
            session, department_id=bound.target.id, now=app.clock.now(), texts=texts, cfg=cfg
        )
        if delivered:
            text += "\n" + app.t("groups.held_delivered", language, n=delivered)
    await message.reply(text)


async def _who_binds(message: Message, bot: Bot) -> tuple[int | None, bool, bool | None]:
    """Who asks (None for the group itself), whether they speak as the group (anonymous
    admins), and whether they administer it (None: Telegram cannot say now)."""
    if message.sender_chat is not None:
        return None, True, True  # only the group's own admins can speak as the group
    if message.from_user is None:
        return None, False, False
    actor = message.from_user.id
    return actor, False, await _is_group_admin(bot, message.chat.id, actor)


def _bound_text(app: AppContext, language: str, bound: Bound, chat_id: int) -> str:
    key = "groups.already_bound" if bound.already else "groups.bound"
    text = app.t(key, language, target=_targets_text(app, language, [bound.target]))
    if bound.released:
        codes = html.quote("、".join(bound.released))
        text += "\n" + app.t("groups.released", language, codes=codes)
    if bound.previous_chat_id is not None and bound.previous_chat_id != chat_id:
        text += "\n" + app.t("groups.moved_from_other_group", language)
    return text


async def bot_added(
    event: ChatMemberUpdated, bot: Bot, session: AsyncSession, app: AppContext
) -> None:
    chat = event.chat
    targets = await groups.note_membership(
        session, chat_id=chat.id, chat_title=chat.title, joined=True, actor_tg_id=event.from_user.id
    )
    log.info("added to chat %s (%s) by %s", chat.id, chat.title, event.from_user.id)
    language = app.settings.default_language
    if targets:
        text = app.t("groups.added_bound", language, target=_targets_text(app, language, targets))
    else:
        text = app.t("groups.added_howto", language)
    try:
        await bot.send_message(chat.id, text)
    except TelegramAPIError as exc:
        log.warning("could not greet chat %s: %s", chat.id, exc)


async def bot_removed(event: ChatMemberUpdated, session: AsyncSession) -> None:
    chat = event.chat
    targets = await groups.note_membership(
        session,
        chat_id=chat.id,
        chat_title=chat.title,
        joined=False,
        actor_tg_id=event.from_user.id,
    )
    bound = ", ".join(f"{t.kind}:{t.code}" for t in targets) or "nothing"
    log.warning("removed from chat %s (%s); it stays bound to %s", chat.id, chat.title, bound)


async def migrated_away(message: Message, session: AsyncSession) -> None:
    """The old group's last word: it is now the supergroup `migrate_to_chat_id`."""
    assert message.migrate_to_chat_id is not None
    moved = await groups.migrate_chat(
        session, old_chat_id=message.chat.id, new_chat_id=message.migrate_to_chat_id
    )
    log.info(
        "chat %s became %s (%d bindings moved)", message.chat.id, message.migrate_to_chat_id, moved
    )


async def migrated_here(message: Message, bot: Bot, session: AsyncSession, app: AppContext) -> None:
    """The new supergroup's first word: bindings of the old group follow it here."""
    assert message.migrate_from_chat_id is not None
    await groups.migrate_chat(
        session, old_chat_id=message.migrate_from_chat_id, new_chat_id=message.chat.id
    )
    targets = await groups.bound_targets(session, chat_id=message.chat.id)
    if not targets:
        return
    language = app.settings.default_language
    try:
        await bot.send_message(
            message.chat.id,
            app.t("groups.migrated", language, target=_targets_text(app, language, targets)),
        )
    except TelegramAPIError as exc:
        log.warning("could not tell chat %s it stays bound: %s", message.chat.id, exc)
