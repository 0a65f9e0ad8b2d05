"""What the admin commands share: how many words each takes, and the one way they call a
service and answer a mistake."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from aiogram import Bot, html
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.context import AppContext
from services.admin import AdminError
from services.groups import GroupError

T = TypeVar("T")

ARITY: Final[dict[str, tuple[int, int, int]]] = {
    # command: fewest and most words, and the split (-1: every space; n: the rest is a name)
    "tree": (0, 1, -1),
    "grid_add": (3, 3, 2),
    "grid_rename": (2, 2, 1),
    "grid_move": (2, 2, -1),
    "grid_archive": (1, 1, -1),
    "members": (1, 1, -1),
    "role": (3, 3, 2),
    "remove": (2, 3, 2),
    "dept_add": (2, 2, 1),
    "invite": (2, 4, -1),
    "bind": (1, 1, -1),
}
ADMIN_COMMANDS: Final = (*ARITY, "admins")


def usage(app: AppContext, language: str, command: str) -> str:
    return app.t("admin.usage", language, usage=app.t(f"admin.usage.{command}", language))


async def run(
    message: Message,
    command: CommandObject,
    app: AppContext,
    language: str,
    work: Callable[[list[str]], Awaitable[T]],
) -> tuple[list[str], T] | None:
    """The command's words and what the service made of them; None when the words do not
    fit the command (answered with its usage) or the service refused (with why, and the
    usage)."""
    low, high, split = ARITY[command.command]
    args = (command.args or "").split(maxsplit=split)
    if not low <= len(args) <= high:
        await message.answer(usage(app, language, command.command))
        return None
    try:
        return args, await work(args)
    except (AdminError, GroupError) as err:
        text = app.t(err.key, language, **{k: html.quote(str(v)) for k, v in err.params.items()})
        await message.answer(f"{text}\n{usage(app, language, command.command)}")
        return None


def actor(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None


async def show(
    query: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the pressed message; if the bot can no longer see it, send a new one."""
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
        return
    await bot.send_message(query.from_user.id, text, reply_markup=markup)
