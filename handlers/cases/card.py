"""Presses on a case card. A step of the loop is handed to `services.cases.perform`, which
re-authorises it against the presser and the case as it is now; a step that needs more
(a reason, a target, a note ...) goes on as a conversation (steps.py). The card's other
buttons show its ledger, send the card anew, or move the deadline (deadline.py)."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.case_buttons import CardTool, CaseBtn, CaseTool
from bot.render.case_steps import CONFIRMED_ACTIONS
from domain.cases import CaseAction
from domain.identity import Identity
from handlers.cases import confirm, deadline, steps
from handlers.cases.common import actor_in, answer_result, press_chat, refusal, tools, visible
from handlers.cases.reading import history, send_card, send_photos
from services import cases as svc
from services.case_reopen import reopen_refusal

PARAMLESS: Final = frozenset(
    {
        CaseAction.ACCEPT,
        CaseAction.ACKNOWLEDGE,
        CaseAction.VERIFY_PASS,
        CaseAction.APPROVE_EXTENSION,
        CaseAction.REFUSE_EXTENSION,
        CaseAction.DEPT_ACKNOWLEDGE,
        CaseAction.DEPT_RETURN,
    }
)


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(step_pressed, CaseBtn.filter(), StateFilter("*"))
    r.callback_query.register(tool_pressed, CaseTool.filter(), StateFilter("*"))
    return r


async def step_pressed(
    query: CallbackQuery,
    callback_data: CaseBtn,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    fsm_storage: BaseStorage,
    me: Identity | None,
    language: str,
) -> None:
    actor, depts = await actor_in(session, me, *press_chat(query))
    loaded = await visible(session, callback_data.id, me, depts)
    refused = confirm.step_refusal(app, language, loaded, actor, callback_data.a, callback_data.v)
    if refused is None and loaded is not None and callback_data.a is CaseAction.REOPEN:
        # Past its window a reopen is refused at the press, before any reason is typed.
        cfg, _texts = await tools(session, app)
        why = reopen_refusal(loaded, actor, now=app.clock.now(), cfg=cfg)
        refused = refusal(app, language, why) if why is not None else None
    if refused is not None or loaded is None:
        await query.answer(refused, show_alert=True)
        return
    action = callback_data.a
    acting_dept = loaded.case.assignee_department_id if action.by_department else None
    if action not in PARAMLESS:
        await steps.begin(
            query,
            bot,
            session,
            app,
            fsm_storage,
            loaded,
            action,
            departments=depts,
            acting_department=acting_dept,
            language=language,
        )
        return
    if action in CONFIRMED_ACTIONS:
        await confirm.ask(query, bot, app, language, loaded.case, action, callback_data.v)
        return
    cfg, texts = await tools(session, app)
    result = await svc.perform(
        session,
        case_id=loaded.case.id or 0,
        actor=actor,
        action=action,
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
        version=callback_data.v,
        acting_department_id=acting_dept,
    )
    await answer_result(query, app, language, result)


async def tool_pressed(
    query: CallbackQuery,
    callback_data: CaseTool,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    fsm_storage: BaseStorage,
    me: Identity | None,
    language: str,
) -> None:
    actor, depts = await actor_in(session, me, *press_chat(query))
    loaded = await visible(session, callback_data.id, me, depts)
    if loaded is None:
        await query.answer(app.t("cases.refused.not_visible", language), show_alert=True)
        return
    if callback_data.a is CardTool.CHANGE_DEADLINE:
        await deadline.begin(
            query, callback_data.v, loaded, actor, bot, session, fsm_storage, app, language
        )
        return
    if callback_data.a is CardTool.PHOTOS:
        sent = await send_photos(query, session, app, loaded.case, me, language)
        key = "cases.photos_sent" if sent else "cases.photos_none"
        await query.answer(app.t(key, language, code=loaded.case.code), show_alert=not sent)
        return
    await query.answer()
    cfg, texts = await tools(session, app)
    if callback_data.a is CardTool.HISTORY:
        text, markup = await history(session, texts, loaded.case, language)
        await bot.send_message(query.from_user.id, text, reply_markup=markup)
    else:
        await send_card(
            bot,
            session,
            texts,
            loaded.case,
            query.from_user.id,
            me,
            language,
            now=app.clock.now(),
            rules=cfg.rules,
        )
