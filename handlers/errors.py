"""The global error handler: log it, tell the person kindly, keep going."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.context import AppContext


def router() -> Router:
    r = Router(name=__name__)
    r.errors.register(on_error)
    return r


log = logging.getLogger("gridbot.errors")


async def on_error(event: ErrorEvent, app: AppContext) -> bool:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception, exc_info=event.exception)
    user = None
    language = app.settings.default_language
    try:
        text = app.t("error.generic", language)
        if update.callback_query is not None:
            user = update.callback_query.from_user
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            user = update.message.from_user
            await update.message.answer(text)
    except Exception:  # the apology itself failed; the log above is what matters
        log.warning("could not tell user %s about the failure", user.id if user else None)
    return True
