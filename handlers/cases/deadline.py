"""A leader moves the deadline (限期整改) of a case being handled: from the card's button, in
the private chat, by days back and forth or a typed date (`domain.typed_dates`), then
confirm and type why (the assignee's new card says it). The change is made by
`services.cases.change_deadline`, which re-authorises it against the case as it is then. A
date typed on an assignment's deadline screen is read here too."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.case_buttons import CasePick, StepChoice
from bot.render.case_steps import deadline_question, new_deadline_question, typed_problem
from bot.render.cases import CaseRender
from domain.cases import Actor
from domain.identity import Identity
from domain.typed_dates import DateProblem, parse_deadline
from handlers.cases.common import (
    actor_in,
    answer_flow_opened,
    could_not_write,
    private_state,
    refusal,
    tools,
    visible,
)
from handlers.cases.states import Step
from services import cases as svc
from services.cases import Refused
from storage.models import Case


class NewDeadline(StatesGroup):
    """A leader moves the deadline of a case being handled: buttons or a typed date."""

    choose = State()
    reason = State()


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(
        days_pressed, CasePick.filter(F.k == StepChoice.NEW_DAYS), NewDeadline.choose
    )
    r.callback_query.register(
        confirmed, CasePick.filter(F.k == StepChoice.NEW_CONFIRM), NewDeadline.choose
    )
    r.message.register(date_typed, NewDeadline.choose, F.text, ~F.text.startswith("/"))
    r.message.register(date_expected, NewDeadline.choose, ~F.text.startswith("/"))
    r.message.register(reason_typed, NewDeadline.reason, F.text, ~F.text.startswith("/"))
    r.message.register(reason_expected, NewDeadline.reason, ~F.text.startswith("/"))
    r.message.register(step_date_typed, Step.choose, F.text, ~F.text.startswith("/"))
    return r


async def begin(
    query: CallbackQuery,
    version: int,
    loaded: svc.Loaded,
    actor: Actor,
    bot: Bot,
    session: AsyncSession,
    fsm_storage: BaseStorage,
    app: AppContext,
    language: str,
) -> None:
    """The card's "change the deadline": the question, always in private."""
    if version != loaded.version:
        await query.answer(app.t("cases.refused.stale", language), show_alert=True)
        return
    refused = svc.deadline_change_refusal(loaded.facts, actor)
    if refused is not None:
        await query.answer(refusal(app, language, refused), show_alert=True)
        return
    flow_chat = query.from_user.id  # always in private, whatever chat the card is in
    state = private_state(fsm_storage, bot, query.from_user.id, flow_chat)
    current = loaded.case.deadline_at or app.clock.now()
    await state.set_state(NewDeadline.choose)
    await state.set_data(
        {"case_id": loaded.case.id, "v": loaded.version, "deadline": current.isoformat()}
    )
    try:
        _cfg, texts = await tools(session, app)
        text, markup = new_deadline_question(app, texts, language, loaded.case, current)
        await bot.send_message(flow_chat, text, reply_markup=markup)
    except TelegramAPIError as exc:
        await state.clear()
        await could_not_write(session, app, query, language, exc)
        return
    await answer_flow_opened(query, app, language, flow_chat)


async def _on_case(
    query: CallbackQuery,
    case_id: int,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> tuple[Case, dict[str, Any]] | None:
    """The case the conversation is about, if the press is for it and they still see it;
    else the press is answered."""
    data = await state.get_data()
    if data.get("case_id") != case_id:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return None
    loaded = await visible(session, case_id, me, frozenset())
    if loaded is None:
        await state.clear()
        await query.answer(app.t("cases.refused.not_visible", language), show_alert=True)
        return None
    return loaded.case, data


async def days_pressed(
    query: CallbackQuery,
    callback_data: CasePick,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _on_case(query, callback_data.id, state, session, app, me, language)
    if found is None:
        return
    case, data = found
    moved = datetime.fromisoformat(data["deadline"]) + timedelta(days=callback_data.x)
    if svc.check_deadline(moved, app.clock.now()) is not None:
        await query.answer(app.t("cases.refused.bad_deadline", language), show_alert=True)
        return
    await state.update_data(deadline=moved.isoformat())
    _cfg, texts = await tools(session, app)
    await query.answer(texts.when(moved))
    if isinstance(query.message, Message):
        text, markup = new_deadline_question(app, texts, language, case, moved)
        await query.message.edit_text(text, reply_markup=markup)


async def confirmed(
    query: CallbackQuery,
    callback_data: CasePick,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    """The new deadline confirmed: the reason is asked next (checked now, so that a date
    gone stale or a right lost is said at once; checked again when the change is made)."""
    found = await _on_case(query, callback_data.id, state, session, app, me, language)
    if found is None:
        return
    _case, data = found
    actor, _depts = await actor_in(session, me, query.from_user.id, "private")
    loaded = await svc.load(session, callback_data.id)
    problem = (
        svc.Problem.NO_CASE
        if loaded is None
        else svc.deadline_change_refusal(loaded.facts, actor)
        or svc.check_deadline(datetime.fromisoformat(data["deadline"]), app.clock.now())
    )
    if problem is not None:
        await state.clear()
        await query.answer(refusal(app, language, problem), show_alert=True)
        return
    await state.set_state(NewDeadline.reason)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(app.t("cases.ask_deadline_reason", language, limit=svc.MAX_NOTE))


async def reason_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    """Why the deadline moves: the change is made, the assignee told why."""
    note = (message.text or "").strip()
    if len(note) > svc.MAX_NOTE:
        await message.answer(app.t("cases.refused.note_too_long", language, limit=svc.MAX_NOTE))
        return
    data = await state.get_data()
    assert message.from_user is not None
    actor, _depts = await actor_in(session, me, message.from_user.id, "private")
    cfg, texts = await tools(session, app)
    result = await svc.change_deadline(
        session,
        case_id=int(data.get("case_id") or 0),
        actor=actor,
        deadline=datetime.fromisoformat(data["deadline"]),
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
        version=int(data.get("v") or 0),
        note=note,
    )
    await state.clear()
    if isinstance(result, Refused):
        await message.answer(refusal(app, language, result.reason))
        return
    when = texts.when(result.new)
    await message.answer(
        app.t("cases.deadline_changed", language, code=result.case.code, when=when)
    )


async def reason_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("cases.deadline_reason_wrong", language))


async def date_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    data = await state.get_data()
    case = await session.get(Case, int(data.get("case_id") or 0))
    if case is None:
        await state.clear()
        await message.answer(app.t("cases.refused.no_case", language))
        return
    found = await _typed(message, session, app, language)
    if found is None:
        return
    typed, texts = found
    await state.update_data(deadline=typed.isoformat())
    text, markup = new_deadline_question(app, texts, language, case, typed)
    await message.answer(text, reply_markup=markup)


async def _typed(
    message: Message, session: AsyncSession, app: AppContext, language: str
) -> tuple[datetime, CaseRender] | None:
    """The deadline typed, and the texts to show it; None when it is refused (the answer
    says why and what is accepted)."""
    cfg, texts = await tools(session, app)
    typed = parse_deadline(message.text or "", now=app.clock.now(), tz=cfg.tz)
    if isinstance(typed, DateProblem):
        await message.answer(typed_problem(app, language, typed))
        return None
    return typed, texts


async def date_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(typed_problem(app, language, DateProblem.UNREADABLE))


async def step_date_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    """A date typed on an assignment's or a transfer's deadline screen (a step's buttons
    otherwise: a reason, a rating ... are not typed)."""
    data = await state.get_data()
    params = dict(data.get("params") or {})
    if "deadline" not in params:
        await message.answer(app.t("report.use_buttons", language))
        return
    found = await _typed(message, session, app, language)
    if found is None:
        return
    typed, texts = found
    await state.update_data(params={**params, "deadline": typed.isoformat()})
    transfer = "department_id" in params  # 移交: its 说明 comes next, and the screen says so
    text, markup = deadline_question(
        app, texts, language, int(data["case_id"]), typed, transfer=transfer
    )
    await message.answer(text, reply_markup=markup)
