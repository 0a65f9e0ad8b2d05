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
)

from bot.i18n import LANGUAGES, Translator

log = logging.getLogger(__name__)

PRIVATE = ("start", "report", "patrol", "my", "cases", "case", "today", "lang", "cancel", "help")
GROUP = ("report", "patrol", "bind", "help")
ADMIN = (
    *PRIVATE,
    "tree",
    "members",
    "invite",
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
    """Publish the menus; a refusal is logged and start-up carries on."""
    try:
        for language in LANGUAGES:
            code = "" if language == "zh" else language
            await bot.set_my_commands(
                _menu(t, language, PRIVATE), BotCommandScopeDefault(), code or None
            )
            await bot.set_my_commands(
                _menu(t, language, PRIVATE), BotCommandScopeAllPrivateChats(), code or None
            )
            await bot.set_my_commands(
                _menu(t, language, GROUP), BotCommandScopeAllGroupChats(), code or None
            )
            for admin in sorted(admin_ids):
                await bot.set_my_commands(
                    _menu(t, language, ADMIN), BotCommandScopeChat(chat_id=admin), code or None
                )
    except TelegramAPIError as exc:
        log.warning("could not set the command menus: %s", exc)
        return False
    return True
