"""/help, /cancel and /lang: available everywhere, in every state."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.i18n import LANGUAGES
from bot.keyboards import Callback, main_menu
from domain.identity import Identity
from services import people


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(cancel, Command("cancel"), StateFilter("*"))
    r.message.register(show_help, Command("help"), StateFilter("*"))
    r.message.register(choose_language, Command("lang"), StateFilter("*"))
    r.callback_query.register(set_language, LanguageChoice.filter(), StateFilter("*"))
    return r


class LanguageChoice(Callback, prefix="lang"):
    code: str


async def cancel(message: Message, state: FSMContext, app: AppContext, language: str) -> None:
    if await state.get_state() is None:
        await message.answer(app.t("cancel.nothing", language))
        return
    await state.clear()
    markup = main_menu(app.translator, language) if message.chat.type == "private" else None
    await message.answer(app.t("cancel.done", language), reply_markup=markup)


async def show_help(message: Message, app: AppContext, language: str, is_admin: bool) -> None:
    text = app.t("help.text", language)
    if is_admin:
        text += "\n\n" + app.t("help.admin", language)
    await message.answer(text)


async def choose_language(message: Message, app: AppContext, language: str) -> None:
    buttons = [
        InlineKeyboardButton(
            text=app.t("lang.name", code), callback_data=LanguageChoice(code=code).pack()
        )
        for code in LANGUAGES
    ]
    await message.answer(
        app.t("lang.choose", language), reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons])
    )


async def set_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    bot: Bot,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if callback_data.code not in LANGUAGES:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    if me is None:
        await query.answer(app.t("lang.not_member", language), show_alert=True)
        return
    await people.set_language(session, me.person_id, callback_data.code)
    new = callback_data.code
    await query.answer(app.t("lang.set", new))
    if query.message is not None and query.message.chat.type == "private":
        await bot.send_message(
            query.message.chat.id,
            app.t("lang.set", new),
            reply_markup=main_menu(app.translator, new),
        )
