"""Irreversible steps are asked once: 核查通过 (the case is closed) from the card, and
不予立案 once its reason is picked, show a confirmation with a confirm and a back button.

The confirmation carries the case's version as it was drawn; the confirm press re-checks who
presses and that the case has not moved since (the same rules as the card's own buttons),
then takes the step through `services.cases.perform`. Back takes nothing: 不予立案 goes
back to its reasons, 核查通过 leaves the card as it was.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.case_buttons import CaseSure, CaseUnsure
from bot.render.case_steps import CONFIRMED_ACTIONS, confirm_question
from domain.cases import Actor, CaseAction, RejectReason, allowed_actions
from domain.identity import Identity
from handlers.cases import steps
from handlers.cases.common import (
    actor_in,
    answer_result,
    perform,
    press_chat,
    refusal,
    result_text,
    visible,
)
from services import cases as svc
from storage.models import Case


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(sure_pressed, CaseSure.filter(), StateFilter("*"))
    r.callback_query.register(back_pressed, CaseUnsure.filter(), StateFilter("*"))
    return r


def step_refusal(
    app: AppContext,
    language: str,
    loaded: svc.Loaded | None,
    actor: Actor,
    action: CaseAction,
    version: int,
) -> str | None:
    """Why a press of `action` drawn for `version` is refused, in words; None when the step
    may go ahead."""
    if loaded is None:
        return app.t("cases.refused.not_visible", language)
    if action is not CaseAction.COMMENT and version != loaded.version:
        return app.t("cases.refused.stale", language)
    if action not in allowed_actions(loaded.facts, actor):
        return refusal(app, language, svc.decide_reason(loaded.facts, actor, action))
    return None


async def ask(
    query: CallbackQuery,
    bot: Bot,
    app: AppContext,
    language: str,
    case: Case,
    action: CaseAction,
    version: int,
    reason: RejectReason | None = None,
) -> None:
    """The confirmation, a new message in the chat of the press."""
    text, markup = confirm_question(app, language, case, action, version, reason)
    await bot.send_message(press_chat(query)[0], text, reply_markup=markup)
    await query.answer()


async def sure_pressed(
    query: CallbackQuery,
    callback_data: CaseSure,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    action = callback_data.a
    if action not in CONFIRMED_ACTIONS or (action is CaseAction.REJECT) != bool(callback_data.r):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    chat_id, chat_type = press_chat(query)
    actor, depts = await actor_in(session, me, chat_id, chat_type)
    loaded = await visible(session, callback_data.id, me, depts)
    refused = step_refusal(app, language, loaded, actor, action, callback_data.v)
    if refused is not None:
        await query.answer(refused, show_alert=True)
        return
    data = {"case_id": callback_data.id, "action": action.value, "v": callback_data.v}
    params = {"reason": callback_data.r.value} if callback_data.r else {}
    result = await perform(session, app, me, chat_id, chat_type, data, params)
    await answer_result(query, app, language, result)
    if isinstance(query.message, Message):
        await query.message.edit_text(result_text(app, language, result), reply_markup=None)


async def back_pressed(
    query: CallbackQuery,
    callback_data: CaseUnsure,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    fsm_storage: BaseStorage,
    me: Identity | None,
    language: str,
) -> None:
    """Nothing is taken; 不予立案 asks its reason again (if the leader still may reject)."""
    if isinstance(query.message, Message):
        await query.message.edit_text(app.t("cases.sure.undone", language), reply_markup=None)
    if callback_data.a is not CaseAction.REJECT:
        await query.answer()
        return
    actor, depts = await actor_in(session, me, *press_chat(query))
    loaded = await visible(session, callback_data.id, me, depts)
    version = loaded.version if loaded is not None else -1
    refused = step_refusal(app, language, loaded, actor, CaseAction.REJECT, version)
    if refused is not None or loaded is None:
        await query.answer(refused, show_alert=True)
        return
    await steps.begin(
        query,
        bot,
        session,
        app,
        fsm_storage,
        loaded,
        CaseAction.REJECT,
        departments=depts,
        acting_department=None,
        language=language,
    )
