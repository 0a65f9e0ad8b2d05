"""A reply in a group that must not be lost to the group's 20 messages a minute.

Telegram lets a bot send about 20 messages a minute to one group (sandbox/flood.py). A busy
group (a morning roll of `/report` and `/patrol`) runs past that, and the 429's `retry_after`
can be half a minute: longer than a handler may hold its unit of work (telegram_calls waits
out only a short one). A reply whose Message the handler does not need is then handed to the
outbox in the same unit of work, and the notifier sends it when the group's limit allows.
"""

from __future__ import annotations

import logging

from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.notifier import RealTimer, Timer
from storage.outbox import enqueue

log = logging.getLogger(__name__)


async def reply_in_group(
    message: Message,
    session: AsyncSession,
    app: AppContext,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Reply now, or, when the group's limit is spent, through the outbox (no reply link)."""
    timer: Timer = app.timer or RealTimer()
    # Calling a group again inside its retry_after makes Telegram's window longer.
    blocked = app.group_waits
    if blocked.get(message.chat.id, 0.0) <= timer.monotonic():
        try:
            await message.reply(text, reply_markup=reply_markup)
            return
        except TelegramRetryAfter as exc:
            blocked[message.chat.id] = timer.monotonic() + exc.retry_after
            log.info(
                "group %s is at its limit (retry after %ss): replies queued meanwhile",
                message.chat.id,
                exc.retry_after,
            )
    await enqueue(
        session,
        key=f"group_reply:{message.chat.id}:{message.message_id}",
        kind="group_reply",
        chat_id=message.chat.id,
        text=text,
        reply_markup=reply_markup.model_dump(exclude_none=True) if reply_markup else None,
        now=app.clock.now(),
    )
