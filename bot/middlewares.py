"""Outer middlewares: one unit of work per update, replay protection, who is speaking, language.

Order (all on `dp.update`, after aiogram's own error and user-context middlewares):
UnitOfWork (which does aiogram's FSM middleware's work) → Identify (bot/app.py puts them on
in that order). Handlers take the language Identify chose as `language` and pass it to
every text they look up (bot/i18n.py): no locale is kept in a context beside it, as aiogram's
i18n middleware would (nothing here asks a translation for "the current locale").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, Update, User

from bot.context import AppContext
from bot.i18n import LANGUAGES
from domain.identity import Holding, Identity
from services import people
from storage.fsm import DatabaseStorage
from storage.people import identity_from, speaker
from storage.redis_state import RedisStateStorage, run_to_end
from storage.update_opening import Opening, open_update

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Telegram's placeholder senders: never a person to grant rights to.
ANONYMOUS_ADMIN_ID = 1087968824
CHANNEL_BOT_ID = 136817688
OPENING = "gridbot_opening"
_KEPT_PLACEHOLDERS = 4096
"""People whose placeholder names are kept: more than speak at once in a district."""


class UnitOfWork(BaseMiddleware):
    """Opens the update's session, drops an update already handled, commits once at the end.

    It also does aiogram's FSM middleware's work (bot/app.py leaves that one off): the
    update's lock on its conversation (events isolation) is taken first, then the state:

    - in the database (DatabaseStorage): read by the transaction's first statement, which
      also claims the update and reads the speaker (storage/update_opening.py), and written
      with its commit: every update is one transaction, state included;
    - in Redis (RedisStateStorage, with REDIS_URL): read before the transaction opens (no
      database turn is held while Redis answers), and written after it has committed, still
      under the lock (storage/redis_state.py); the first statement then reads no state.
    """

    def __init__(self, app: AppContext, fsm: FSMContextMiddleware | None = None) -> None:
        self.app = app
        self.fsm = fsm

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot = data["bot"]
        context = self.fsm.resolve_event_context(bot, data) if self.fsm is not None else None
        if self.fsm is None or context is None:
            return await self._handle(handler, event, data, None)
        data["fsm_storage"] = self.fsm.storage
        async with self.fsm.events_isolation.lock(key=context.key):
            storage = context.storage
            if not isinstance(storage, RedisStateStorage):
                return await self._handle(handler, event, data, context)
            # A stop that cancels the task during the commit would leave its outcome unknown
            # and the state unwritten: the update in hand is finished first, as the webhook
            # inbox's stop lets it finish.
            return await run_to_end(self._in_redis(handler, event, data, context, storage))

    async def _in_redis(
        self,
        handler: Handler,
        event: Update,
        data: dict[str, Any],
        context: FSMContext,
        storage: RedisStateStorage,
    ) -> Any:
        async with storage.for_update(context.key) as raw_state:
            data.update({"state": context, "raw_state": raw_state})
            return await self._handle(handler, event, data, None)

    async def _handle(
        self,
        handler: Handler,
        event: Update,
        data: dict[str, Any],
        in_database: FSMContext | None,
    ) -> Any:
        """The unit of work; `in_database`: the conversation whose state its first statement
        reads (None: no conversation, or its state is in Redis)."""
        fsm_key: str | None = None
        if in_database is not None:
            assert isinstance(in_database.storage, DatabaseStorage), "state in the database"
            fsm_key = in_database.storage.key_name(in_database.key)
        user = real_user(data)
        async with self.app.db.unit_of_work() as session:
            opening = await open_update(
                session,
                bot_id=data["bot"].id,
                update_id=event.update_id,
                fsm_key=fsm_key,
                tg_id=user.id if user is not None else None,
            )
            if opening is None:
                log.info("update %s seen before; skipped", event.update_id)
                return None
            data["session"] = session
            data[OPENING] = opening
            if in_database is not None and fsm_key is not None:
                DatabaseStorage.seed(session, fsm_key, opening.fsm_state, opening.fsm_data)
                data.update({"state": in_database, "raw_state": opening.fsm_state})
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
    """Works out who is speaking (if known) and their roles, as `me`; sets their language."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        # Asked on every update of the people who speak; the same few come back.
        self._placeholders = lru_cache(maxsize=_KEPT_PLACEHOLDERS)(self._placeholder_names)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = real_user(data)
        data["me"] = None
        language: str = self.app.settings.default_language
        if user is not None:
            if user.language_code and user.language_code.startswith("en"):
                language = "en"
            found = self._prefetched(data, user.id) or await self._queried(data, user.id)
            if found is not None:
                row, me = found
                data["me"] = await self._note_contact(data, user, row, me)
                language = row["language"] or language
        data["is_admin"] = bool(
            (data["me"] is not None and data["me"].is_admin)
            or (user is not None and user.id in self.app.settings.admin_ids)
        )
        data["language"] = language
        return await handler(event, data)

    def _prefetched(
        self, data: dict[str, Any], tg_id: int
    ) -> tuple[Mapping[str, Any], Identity] | None:
        """The speaker's columns and who they are, as the unit of work's first statement read
        them, if it did. The row itself stays out of the session until something gets it
        (storage/speaker_row.py)."""
        opening: Opening | None = data.get(OPENING)
        if opening is None or opening.tg_id != tg_id or opening.person is None:
            return None
        return opening.person, self._identity(opening.person, opening.holdings)

    async def _queried(
        self, data: dict[str, Any], tg_id: int
    ) -> tuple[Mapping[str, Any], Identity] | None:
        found = await speaker(
            data["session"],
            tg_id,
            default_language=self.app.settings.default_language,
            admin_ids=self.app.settings.admin_ids,
        )
        if found is None:
            return None
        person, me = found
        return person.model_dump(), me

    def _identity(self, row: Mapping[str, Any], holdings: tuple[Holding, ...]) -> Identity:
        settings = self.app.settings
        return identity_from(
            row, holdings, default_language=settings.default_language, admin_ids=settings.admin_ids
        )

    async def _note_contact(
        self, data: dict[str, Any], user: User, row: Mapping[str, Any], me: Identity
    ) -> Identity:
        """What Telegram tells of the speaker, written to their row when it is news."""
        changes: dict[str, Any] = {}
        if user.username and row["username"] != user.username:
            changes["username"] = user.username
        chat = data.get("event_chat")
        if not row["reachable"] and chat is not None and chat.type == "private":
            # They wrote to the bot in private: it may write to them again.
            changes["reachable"] = True
        if self._is_placeholder(row["name"], user.id):  # added by id before they came
            changes["name"] = user.full_name
            me = replace(me, name=user.full_name)
        if changes:
            await people.note_contact(data["session"], me.person_id, changes)
        return me

    def _is_placeholder(self, name: str, tg_id: int) -> bool:
        return name in self._placeholders(tg_id)

    def _placeholder_names(self, tg_id: int) -> frozenset[str]:
        """The names a person added by id is given, in every language."""
        t = self.app.translator.t
        return frozenset(t("admin.placeholder_name", lang, tg_id=str(tg_id)) for lang in LANGUAGES)
