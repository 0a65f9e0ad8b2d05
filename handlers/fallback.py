"""Last in line: whatever no feature claimed gets a polite answer, and every button an answer."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.context import AppContext


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(stale_button, StateFilter("*"))
    r.message.register(
        unknown_command, F.chat.type == "private", F.text.startswith("/"), StateFilter("*")
    )
    r.message.register(unknown_text, F.chat.type == "private", StateFilter(None))
    r.message.register(unexpected_in_flow, F.chat.type == "private", ~StateFilter(None))
    return r


async def stale_button(query: CallbackQuery, app: AppContext, language: str) -> None:
    await query.answer(app.t("error.stale_button", language), show_alert=True)


async def unknown_command(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("fallback.unknown_command", language))


async def unknown_text(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("fallback.unknown_text", language))


async def unexpected_in_flow(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("fallback.unexpected_in_flow", language))
