"""A tiny aiogram bot the sandbox tests drive: echo, a menu with buttons, a location ask."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from sandbox import Emulator


def echo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        payload = (message.text or "").partition(" ")[2]
        await message.answer(
            f"欢迎 <b>{message.from_user.first_name}</b> {payload}".strip()
            if message.from_user
            else "欢迎"
        )

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        kb = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="火灾隐患", callback_data="type:fire"),
                    InlineKeyboardButton(text="用电隐患", callback_data="type:power"),
                ]
            ]
        )
        await message.answer("请选择隐患类型", reply_markup=kb)

    @router.callback_query(F.data.startswith("type:"))
    async def picked(query: CallbackQuery) -> None:
        await query.answer("已选择")
        if isinstance(query.message, Message):
            await query.message.edit_text(f"已选 {query.data}，请描述隐患")

    @router.message(Command("where"))
    async def where(message: Message) -> None:
        kb = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="📍 发送位置", request_location=True)]],
            resize_keyboard=True,
        )
        await message.answer("请发送位置", reply_markup=kb)

    @router.message(F.location)
    async def got_location(message: Message) -> None:
        assert message.location is not None
        await message.answer(
            f"收到位置 {message.location.latitude:.4f}", reply_markup=ReplyKeyboardRemove()
        )

    @router.message(F.photo)
    async def got_photo(message: Message) -> None:
        await message.answer("收到照片")

    @router.message(Command("quiet"))
    async def quiet(message: Message) -> None:
        return None

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.html_text)

    return router


@contextlib.asynccontextmanager
async def polling(emu: Emulator, token: str, router: Router) -> AsyncIterator[Bot]:
    """Run a Dispatcher polling the emulator for the duration of the block."""
    from aiogram.client.default import DefaultBotProperties

    bot = Bot(token, session=emu.bot_session(), default=DefaultBotProperties(parse_mode="HTML"))
    dp = Dispatcher()
    dp.include_router(router)
    # handle_as_tasks=False: a batch is confirmed (by the next getUpdates) only once it is
    # handled, which the driver's negative checks wait for.
    task = asyncio.create_task(
        dp.start_polling(
            bot,
            handle_signals=False,
            polling_timeout=5,
            close_bot_session=False,
            handle_as_tasks=False,
        )
    )
    try:
        yield bot
    finally:
        await dp.stop_polling()
        await task
        await bot.session.close()
