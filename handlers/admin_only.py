"""Who admin commands are for, said once per router (aiogram's router-wide filter), and the
polite refusal everyone else gets for the same commands and buttons: nothing else happens."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Router
from aiogram.filters import Command, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.context import AppContext


class IsAdmin(Filter):
    """True for gridbot admins (settings.admin_ids or Person.is_admin), as Identify decided."""

    async def __call__(self, event: TelegramObject, is_admin: bool = False) -> bool:
        return is_admin


def guarded(
    name: str,
    admin: Router,
    *,
    commands: Sequence[str],
    buttons: Sequence[type[CallbackData]] = (),
) -> Router:
    """`admin`'s handlers for admins only; anyone else giving one of `commands` or pressing
    one of `buttons` is refused. The two are composed under one router named `name`."""
    admin.message.filter(IsAdmin())
    admin.callback_query.filter(IsAdmin())
    refused = Router(name=f"{name}.refused")
    refused.message.register(refuse_command, Command(*commands))
    for button in buttons:
        refused.callback_query.register(refuse_button, button.filter())
    outer = Router(name=name)
    outer.include_routers(admin, refused)
    return outer


async def refuse_command(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("admin.refused", language))


async def refuse_button(query: CallbackQuery, app: AppContext, language: str) -> None:
    await query.answer(app.t("admin.refused", language), show_alert=True)
