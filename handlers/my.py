"""/my (and the "我的待办" button): what waits for the person, section by section.

`MY_SECTIONS` lists the sections in order; each renders its part (text and buttons) or None
to leave itself out. The cases section is first; the patrol feature appends its own
(quotas) here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.keyboards import menu_words
from domain.identity import Identity
from handlers.cases import render_waiting
from handlers.patrol import quota_section


def router() -> Router:
    r = Router(name=__name__)
    # The menu's button, in any language, as a set in a magic filter: the quick routing
    # reads it at a glance, where a plain function was run on every /my and private text.
    # Either handler takes an update to show_my alike, so their order changes nothing else.
    menu = F.text.in_(menu_words("menu.my"))
    r.message.register(show_my, Command("my"), StateFilter("*"))
    r.message.register(show_my, menu, F.chat.type == "private", StateFilter("*"))
    return r


Section = Callable[
    [AsyncSession, AppContext, Identity, str, datetime],
    Awaitable[tuple[str, list[list[InlineKeyboardButton]]] | None],
]


async def cases_section(
    session: AsyncSession, app: AppContext, me: Identity, language: str, now: datetime
) -> tuple[str, list[list[InlineKeyboardButton]]] | None:
    return await render_waiting(session, app, me, language, now)


async def patrol_section(
    session: AsyncSession, app: AppContext, me: Identity, language: str, now: datetime
) -> tuple[str, list[list[InlineKeyboardButton]]] | None:
    return await quota_section(session, app, me, language, now)


MY_SECTIONS: Final[list[Section]] = [cases_section, patrol_section]
"""Sections of /my, in order. Append a renderer to add one."""


async def show_my(
    message: Message,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if me is None:
        await message.answer(app.t("report.not_member", language))
        return
    now = app.clock.now()
    texts: list[str] = []
    buttons: list[list[InlineKeyboardButton]] = []
    for section in MY_SECTIONS:
        part = await section(session, app, me, language, now)
        if part is None:
            continue
        texts.append(part[0])
        buttons += part[1]
    markup = InlineKeyboardMarkup(inline_keyboard=buttons) if buttons else None
    await message.answer(
        "\n\n".join(texts) or app.t("cases.my_none", language), reply_markup=markup
    )
