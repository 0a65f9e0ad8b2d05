"""Outer middlewares: one unit of work per update, replay protection, who is speaking, language.

Order (all on `dp.update`, after aiogram's own error and FSM middlewares):
UnitOfWork → Identify. The i18n middleware then reads the language Identify chose.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18nMiddleware
from sqlalchemy.exc import IntegrityError

from bot.context import AppContext
from bot.i18n import LANGUAGES
from storage.models import ProcessedUpdate
from storage.people import identity_of, person_by_tg

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Telegram's placeholder senders: never a person to grant rights to.
ANONYMOUS_ADMIN_ID = 1087968824
CHANNEL_BOT_ID = 136817688


class UnitOfWork(BaseMiddleware):
    """Opens the update's session, drops an update already handled, commits once at the end."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot_id = data["bot"].id
        async with self.app.db.unit_of_work() as session:
            if await session.get(ProcessedUpdate, (bot_id, event.update_id)) is not None:
                log.info("update %s seen before; skipped", event.update_id)
                return None
            session.add(ProcessedUpdate(bot_id=bot_id, update_id=event.update_id))
            try:
                await session.flush()
            except IntegrityError:
                await session.rollback()
                log.info("update %s is being handled elsewhere; skipped", event.update_id)
                return None
            data["session"] = session
            result = await handler(event, data)
        # Committed: whatever the handler queued in the outbox can go out now.
        if self.app.notifier is not None:
            self.app.notifier.wake()
        return result


def real_user(data: dict[str, Any]) -> User | None:
    """The person behind the event, or None for anonymous admins and channels."""
    user: User | None = data.get("event_from_user")
    if user is None or user.is_bot or user.id in (ANONYMOUS_ADMIN_ID, CHANNEL_BOT_ID):
        return None
    return user


class Identify(BaseMiddleware):
    """Loads the speaking person (if known) and their roles as `me`; sets their language."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = real_user(data)
        data["me"] = None
        data["person"] = None
        language: str = self.app.settings.default_language
        if user is not None:
            if user.language_code and user.language_code.startswith("en"):
                language = "en"
            person = await person_by_tg(data["session"], user.id)
            if person is not None:
                if user.username and person.username != user.username:
                    person.username = user.username
                    data["session"].add(person)
                chat = data.get("event_chat")
                if not person.reachable and chat is not None and chat.type == "private":
                    # They wrote to the bot in private: it may write to them again.
                    person.reachable = True
                    data["session"].add(person)
                if self._is_placeholder(person.name, user.id):  # added by id before they came
                    person.name = user.full_name
                    data["session"].add(person)
                data["person"] = person
                me = await identity_of(
                    data["session"],
                    person,
                    default_language=self.app.settings.default_language,
                    admin_ids=self.app.settings.admin_ids,
                )
                data["me"] = me
                language = person.language or language
        data["is_admin"] = bool(
            (data["me"] is not None and data["me"].is_admin)
            or (user is not None and user.id in self.app.settings.admin_ids)
        )
        data["language"] = language
        return await handler(event, data)

    def _is_placeholder(self, name: str, tg_id: int) -> bool:
        return any(
            name == self.app.translator.t("admin.placeholder_name", lang, tg_id=str(tg_id))
            for lang in LANGUAGES
        )


class PersonLanguage(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        return str(data.get("language") or self.i18n.default_locale)
