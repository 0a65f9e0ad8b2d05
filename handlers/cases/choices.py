"""Choices inside a step: a reason, a rating, an extension's length, whom to, the deadline,
feedback done. Each is taken if it belongs to the step the conversation is in; else it is a
stale button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.case_buttons import CasePick, StepChoice
from bot.render.case_steps import (
    FEEDBACK_ACTIONS,
    RATINGS,
    REJECT_REASONS,
    Question,
    deadline_question,
    departments_question,
    note_question,
)
from domain.cases import CaseAction
from domain.identity import Identity
from handlers.cases import confirm
from handlers.cases.common import (
    answer_result,
    departments_of,
    perform,
    press_chat,
    result_text,
    tools,
    visible,
)
from handlers.cases.states import Step
from handlers.cases.steps import targets
from services import cases as svc
from storage import cases as q
from storage.models import Case


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(step_pick, CasePick.filter(), StateFilter(Step))
    return r


@dataclass
class Pick:
    """A press inside a step, on the case it is about."""

    query: CallbackQuery
    state: FSMContext
    session: AsyncSession
    app: AppContext
    bot: Bot
    me: Identity | None
    language: str
    data: dict[str, Any]
    case: Case
    x: int

    @property
    def action(self) -> CaseAction:
        return CaseAction(self.data["action"])

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.data.get("params") or {})

    async def send(self, question: Question | str) -> None:
        text, markup = (question, None) if isinstance(question, str) else question
        await self.bot.send_message(press_chat(self.query)[0], text, reply_markup=markup)


async def step_pick(
    query: CallbackQuery,
    callback_data: CasePick,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    me: Identity | None,
    language: str,
) -> None:
    data = await state.get_data()
    if data.get("case_id") != callback_data.id:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    depts = await departments_of(session, *press_chat(query)) if query.message else frozenset()
    loaded = await visible(session, callback_data.id, me, depts)
    if loaded is None:  # moved out of their sight since the step began (escalated, reassigned)
        await state.clear()
        await query.answer(app.t("cases.refused.not_visible", language), show_alert=True)
        return
    pick = Pick(query, state, session, app, bot, me, language, data, loaded.case, callback_data.x)
    choice = CHOICES.get(callback_data.k)
    if choice is None or not await choice(pick):
        await query.answer(app.t("error.stale_button", language), show_alert=True)


# Each takes its choice if it belongs to the step (True), else leaves it (a stale button).


async def _reason(p: Pick) -> bool:
    """不予立案 cannot be undone: with its reason it is asked once more (confirm.py)."""
    if p.action is not CaseAction.REJECT or not 0 <= p.x < len(REJECT_REASONS):
        return False
    await p.state.clear()
    reason = REJECT_REASONS[p.x]
    version = int(p.data["v"])
    await confirm.ask(p.query, p.bot, p.app, p.language, p.case, p.action, version, reason)
    return True


async def _rating(p: Pick) -> bool:
    if p.action is not CaseAction.RATE or not 0 <= p.x < len(RATINGS):
        return False
    await _finish(p, {**p.params, "rating": RATINGS[p.x].value})
    return True


async def _extension(p: Pick) -> bool:
    if p.action is not CaseAction.REQUEST_EXTENSION or p.x not in svc.EXTENSION_CHOICES:
        return False
    await p.state.update_data(params={**p.params, "extension_hours": p.x})
    await p.state.set_state(Step.note)
    await p.query.answer()
    await p.send(p.app.t("cases.ask_note.ext", p.language, limit=svc.MAX_NOTE))
    return True


async def _page(p: Pick) -> bool:
    if p.action is not CaseAction.ASSIGN:
        return False
    await p.query.answer()
    await p.send(await targets(p.session, p.app, p.language, p.case, page=max(p.x, 0)))
    return True


async def _departments(p: Pick) -> bool:
    if p.action is not CaseAction.ASSIGN:
        return False
    await p.query.answer()
    depts = await q.live_departments(p.session)
    await p.send(departments_question(p.app, p.language, p.case.id or 0, depts))
    return True


async def _person(p: Pick) -> bool:
    return p.action is CaseAction.ASSIGN and await _target(p, {"assignee_person_id": p.x})


async def _department(p: Pick) -> bool:
    targets = (CaseAction.ASSIGN, CaseAction.TRANSFER)
    return p.action in targets and await _target(p, {"department_id": p.x})


async def _target(p: Pick, params: dict[str, Any]) -> bool:
    """Whom to: then the deadline, starting from the case's own."""
    deadline = p.case.deadline_at or p.app.clock.now()
    await p.state.update_data(params={**params, "deadline": deadline.isoformat()})
    await p.query.answer()
    await _ask_deadline(p, deadline, transfer="department_id" in params)
    return True


async def _days(p: Pick) -> bool:
    params = p.params
    if "deadline" not in params:
        return False
    deadline = datetime.fromisoformat(params["deadline"]) + timedelta(days=p.x)
    if deadline <= p.app.clock.now():
        await p.query.answer(p.app.t("cases.refused.bad_deadline", p.language), show_alert=True)
        return True
    await p.state.update_data(params={**params, "deadline": deadline.isoformat()})
    _cfg, texts = await tools(p.session, p.app)
    await p.query.answer(texts.when(deadline))
    await _ask_deadline(p, deadline, transfer="department_id" in params)
    return True


async def _ask_deadline(p: Pick, deadline: datetime, *, transfer: bool) -> None:
    _cfg, texts = await tools(p.session, p.app)
    question = deadline_question(
        p.app, texts, p.language, p.case.id or 0, deadline, transfer=transfer
    )
    await p.send(question)


async def _confirm(p: Pick) -> bool:
    if "deadline" not in p.params:
        return False
    if "department_id" in p.params:
        # 移交 is a written hand-over: its 说明 goes into the 移交单 (notes.py takes it).
        await p.state.set_state(Step.note)
        await p.query.answer()
        await p.send(note_question(p.app, p.language, p.case, CaseAction.TRANSFER))
        return True
    await _finish(p, p.params)
    return True


async def _done(p: Pick) -> bool:
    if p.action not in FEEDBACK_ACTIONS:
        return False
    await _finish(p, p.params)
    return True


CHOICES: Final[dict[StepChoice, Callable[[Pick], Awaitable[bool]]]] = {
    StepChoice.REASON: _reason,
    StepChoice.RATING: _rating,
    StepChoice.EXTENSION: _extension,
    StepChoice.PAGE: _page,
    StepChoice.DEPARTMENTS: _departments,
    StepChoice.PERSON: _person,
    StepChoice.DEPARTMENT: _department,
    StepChoice.DAYS: _days,
    StepChoice.CONFIRM: _confirm,
    StepChoice.DONE: _done,
}


async def _finish(p: Pick, params: dict[str, Any]) -> None:
    chat_id, chat_type = press_chat(p.query)
    result = await perform(p.session, p.app, p.me, chat_id, chat_type, p.data, params)
    await p.state.clear()
    await answer_result(p.query, p.app, p.language, result)
    if p.query.message is not None and p.query.bot is not None:
        text = result_text(p.app, p.language, result)
        await p.query.bot.send_message(p.query.message.chat.id, text)
