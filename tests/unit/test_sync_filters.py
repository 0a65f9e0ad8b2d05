"""Plain filters (magic filters, states, functions) run in place after `inline_sync_filters`:
the same handlers match the same updates, and no filter goes through a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, Update

from bot.sync_filters import inline_sync_filters

TOKEN = "42:TEST-sync-filters"


class Steps(StatesGroup):
    describing = State()


def long_text(message: Message) -> bool:
    return len(message.text or "") > 10


def build(seen: list[str]) -> Dispatcher:
    dp = Dispatcher(disable_fsm=True)  # as the bot: the state comes in as `raw_state`
    inner = Router()

    @inner.message(F.location)
    async def location(message: Message) -> None:
        seen.append("location")

    @inner.message(Steps.describing)
    async def describing(message: Message) -> None:
        seen.append("describing")

    @inner.message(long_text)
    async def long(message: Message) -> None:
        seen.append("long")

    @inner.message(F.text == "hi")
    async def hi(message: Message) -> None:
        seen.append("hi")

    dp.include_router(inner)
    return dp


def update(n: int, **content: Any) -> Update:
    chat = {"id": 5, "type": "private", "first_name": "P"}
    message = {"message_id": n, "date": 0, "chat": chat, "from": {"id": 5, "is_bot": False,
               "first_name": "P"}, **content}  # fmt: skip
    return Update.model_validate({"update_id": n, "message": message})


async def route(dp: Dispatcher, bot: Bot) -> None:
    await dp.feed_update(bot, update(1, location={"latitude": 23.1, "longitude": 113.2}))
    await dp.feed_update(bot, update(2, text="hi"))
    await dp.feed_update(bot, update(3, text="a rather long text"))
    await dp.feed_update(bot, update(4, text="other"))
    await dp.feed_update(bot, update(5, text="x"), raw_state=Steps.describing.state)


async def test_same_routes_and_no_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    bot = Bot(TOKEN)
    before: list[str] = []
    await route(build(before), bot)
    assert before == ["location", "hi", "long", "describing"]

    hops: list[Callable[..., Any]] = []
    to_thread = asyncio.to_thread

    async def counted(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await to_thread(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    after: list[str] = []
    dp = build(after)
    assert inline_sync_filters(dp) == 4  # F.location, the state, long_text, F.text == "hi"
    await route(dp, bot)
    assert after == before
    assert hops == []
    assert inline_sync_filters(dp) == 0  # once is enough

    plain = build([])
    await route(plain, bot)
    assert hops  # without it, aiogram does hop to a thread: the check above can fail
    await bot.session.close()
