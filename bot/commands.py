"""The command menus, set per scope and language at start-up."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BotCommandScopeUnion,
)

from bot.i18n import LANGUAGES, Translator

log = logging.getLogger(__name__)

PRIVATE = ("start", "report", "patrol", "my", "cases", "case", "today", "lang", "cancel", "help")
# Leaders' views; the handlers explain politely to anyone who is not a leader there.
LEADER = ("patrols", "patrol_log", "stats", "summary", "export")
GROUP = ("report", "patrol", "bind", "help")
ADMIN = (
    *PRIVATE,
    *LEADER,
    "tree",
    "members",
    "invite",
    "bind",
    "role",
    "remove",
    "grid_add",
    "grid_rename",
    "grid_move",
    "grid_archive",
    "dept_add",
    "admins",
    "quota",
    "schedule",
    "geofence",
)


def _menu(t: Translator, language: str, names: tuple[str, ...]) -> list[BotCommand]:
    return [BotCommand(command=n, description=t.t(f"command.{n}", language)) for n in names]


async def set_command_menus(bot: Bot, t: Translator, admin_ids: frozenset[int]) -> bool:
    """Publish the menus; each refusal is logged and start-up carries on. True if all set.

    An admin's own scope fails with "chat not found" until that admin has opened a chat
    with the bot; the other menus are set all the same.
    """
    ok = True
    for language in LANGUAGES:
        code = None if language == "zh" else language
        private = _menu(t, language, (*PRIVATE, *LEADER))
        menus: list[tuple[str, list[BotCommand], BotCommandScopeUnion]] = [
            ("default", private, BotCommandScopeDefault()),
            ("private chats", private, BotCommandScopeAllPrivateChats()),
            ("groups", _menu(t, language, GROUP), BotCommandScopeAllGroupChats()),
        ]
        menus += [
            (f"admin {admin}", _menu(t, language, ADMIN), BotCommandScopeChat(chat_id=admin))
            for admin in sorted(admin_ids)
        ]
        for label, commands, scope in menus:
            try:
                await bot.set_my_commands(commands, scope, code)
            except TelegramAPIError as exc:
                ok = False
                log.warning("could not set the %s menu (%s): %s", label, language, exc)
    return ok


async def set_admin_menu(bot: Bot, t: Translator, chat_id: int) -> None:
    """An admin's own menu, set again when they talk to the bot (their chat exists by then)."""
    for language in LANGUAGES:
        try:
            await bot.set_my_commands(
                _menu(t, language, ADMIN),
                BotCommandScopeChat(chat_id=chat_id),
                None if language == "zh" else language,
            )
        except TelegramAPIError as exc:
            log.warning("could not set the admin menu of %s: %s", chat_id, exc)
