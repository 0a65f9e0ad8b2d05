"""What the case handlers share: who presses (and for which departments), whether they may
see the case, where a step's conversation runs, and the answers to a step's result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import Bot, html
from aiogram.exceptions import TelegramForbiddenError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.cases import CaseRender
from domain.cases import Actor, CaseAction, Rating, RejectReason, step_taken
from domain.identity import Identity
from domain.visibility import may_see
from services import cases as svc
from services import groups as groups_svc
from services.case_view import deployment_categories
from services.cases import Done, Refused, StepInput
from storage import cases as q


async def tools(session: AsyncSession, app: AppContext) -> tuple[svc.Config, CaseRender]:
    cfg = await svc.load_config(
        session, default_language=app.settings.default_language, calendar=app.calendar
    )
    categories = await deployment_categories(session)
    return cfg, CaseRender(
        app.translator, app.settings.default_language, cfg.tz, categories=categories
    )


async def departments_of(session: AsyncSession, chat_id: int, chat_type: str) -> frozenset[int]:
    """The departments bound to a group chat: a press or a command there speaks for them."""
    if chat_type == "private":
        return frozenset()
    return await q.departments_of_chat(session, chat_id)


async def actor_in(
    session: AsyncSession, me: Identity | None, chat_id: int, chat_type: str
) -> tuple[Actor, frozenset[int]]:
    depts = await departments_of(session, chat_id, chat_type)
    return svc.actor_of(me, department_ids=depts), depts


def press_chat(query: CallbackQuery) -> tuple[int, str]:
    """The chat a press came from (the presser's private chat when the bot cannot see it)."""
    chat = query.message.chat if query.message is not None else None
    return (chat.id, chat.type) if chat else (query.from_user.id, "private")


async def visible(
    session: AsyncSession, case_id: int, me: Identity | None, departments: frozenset[int]
) -> svc.Loaded | None:
    """The case, if whoever asks may see it; None when it is missing or hidden from them
    (one answer for both: ids are sequential, existence itself must not leak)."""
    loaded = await svc.load(session, case_id)
    if loaded is None or not may_see(loaded.facts, svc.viewer_of(me, department_ids=departments)):
        return None
    return loaded


def private_state(
    fsm_storage: BaseStorage, bot: Bot, user_id: int, chat_id: int | None = None
) -> FSMContext:
    key = StorageKey(bot_id=bot.id, chat_id=chat_id or user_id, user_id=user_id)
    return FSMContext(storage=fsm_storage, key=key)


def refusal(app: AppContext, language: str, reason: str) -> str:
    return app.t(svc.refusal_key(reason), language)


async def refuse_press(query: CallbackQuery, app: AppContext, language: str, key: str) -> None:
    await query.answer(app.t(key, language), show_alert=True)


async def answer_result(
    query: CallbackQuery, app: AppContext, language: str, result: Done | Refused
) -> None:
    if isinstance(result, Refused):
        await query.answer(refusal(app, language, result.reason), show_alert=True)
        return
    what = app.t(f"cases.event.{result.transition.event.value}", language)
    await query.answer(app.t("cases.done", language, what=what))


def result_text(app: AppContext, language: str, result: Done | Refused) -> str:
    if isinstance(result, Refused):
        return refusal(app, language, result.reason)
    text = app.t(
        "cases.done_code",
        language,
        code=result.case.code,
        what=app.t(f"cases.event.{result.transition.event.value}", language),
        status=app.t(f"cases.status.{result.case.status}", language),
    )
    if result.held_by is not None:
        department = html.quote(result.held_by.name)
        code = html.quote(result.held_by.code)
        text += "\n" + app.t("cases.transfer_held", language, department=department, code=code)
    return text


async def could_not_write(
    session: AsyncSession, app: AppContext, query: CallbackQuery, language: str, exc: Exception
) -> None:
    """The flow could not open in private: say so, and in a group ask the presser there to
    open the bot, with a deep link (an alert alone is gone in a moment and cannot carry it)."""
    await query.answer(app.t("cases.start_private_first", language), show_alert=True)
    chat_id, _ = press_chat(query)
    if chat_id < 0 and isinstance(exc, TelegramForbiddenError):
        await groups_svc.ask_to_open_bot(
            session,
            chat_id=chat_id,
            tg_id=query.from_user.id,
            name=query.from_user.full_name,
            cause=f"press:{query.id}",
            t=app.t,
            language=app.settings.default_language,
            deep_link=app.deep_link("open"),
            now=app.clock.now(),
        )


async def answer_flow_opened(
    query: CallbackQuery, app: AppContext, language: str, flow_chat: int
) -> None:
    """The press is answered; a hint when its conversation went on in private."""
    chat_id, _ = press_chat(query)
    await query.answer(app.t("cases.continue_private", language) if flow_chat != chat_id else None)


# --- taking the step -----------------------------------------------------------------------


def step_input(params: dict[str, Any]) -> StepInput:
    deadline = params.get("deadline")
    return StepInput(
        assignee_person_id=params.get("assignee_person_id"),
        department_id=params.get("department_id"),
        reason=RejectReason(params["reason"]) if params.get("reason") else None,
        rating=Rating(params["rating"]) if params.get("rating") else None,
        note=params.get("note"),
        photos=tuple(params.get("photos") or ()),
        deadline_at=datetime.fromisoformat(deadline) if deadline else None,
        extension_hours=params.get("extension_hours"),
    )


async def perform(
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    chat_id: int,
    chat_type: str,
    data: dict[str, Any],
    params: dict[str, Any],
) -> Done | Refused:
    actor, _depts = await actor_in(session, me, chat_id, chat_type)
    action = CaseAction(data["action"])
    if action.by_department and data.get("dept") is not None:
        # The department step began in the department's chat and continues there.
        actor = svc.actor_of(me, department_ids=frozenset({int(data["dept"])}))
    step = step_input(params)
    action = step_taken(action, department_id=step.department_id)
    cfg, texts = await tools(session, app)
    return await svc.perform(
        session,
        case_id=int(data["case_id"]),
        actor=actor,
        action=action,
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
        params=step,
        version=int(data["v"]) if action is not CaseAction.COMMENT else None,
        acting_department_id=data.get("dept"),
    )
