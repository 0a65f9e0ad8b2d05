"""Last in line: whatever no feature claimed gets a polite answer, and every button an answer."""

from __future__ import annotations

from typing import Final

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot.context import AppContext

router: Final[Router] = Router(name=__name__)


@router.callback_query(StateFilter("*"))
async def stale_button(query: CallbackQuery, app: AppContext, language: str) -> None:
    await query.answer(app.t("error.stale_button", language), show_alert=True)


@router.message(F.chat.type == "private", F.text.startswith("/"), StateFilter("*"))
async def unknown_command(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("fallback.unknown_command", language))


@router.message(F.chat.type == "private", StateFilter(None))
async def unknown_text(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("fallback.unknown_text", language))


@router.message(F.chat.type == "private", ~StateFilter(None))
async def unexpected_in_flow(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("fallback.unexpected_in_flow", language))
