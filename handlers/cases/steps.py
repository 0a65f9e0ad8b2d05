"""Steps that need more than a press continue as a short conversation: a reason, a rating,
an extension's length, a target and its deadline (buttons), a note, feedback with photos.

It runs in the private chat for a press in private or in a grid group, and in the
department's chat (replying to the bot) for a department's step. The step is taken by
`services.cases.perform`, which re-authorises it against the case as it is then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, ForceReply, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.case_buttons import CasePick, StepChoice
from bot.render.case_steps import (
    FEEDBACK_ACTIONS,
    RATINGS,
    REJECT_REASONS,
    Question,
    choice_question,
    deadline_question,
    departments_question,
    finish_button,
    note_question,
    step_head,
    targets_question,
)
from domain.cases import CaseAction, Rating, RejectReason, step_taken
from domain.identity import Identity
from handlers.cases.common import (
    actor_in,
    answer_flow_opened,
    answer_result,
    could_not_write,
    departments_of,
    press_chat,
    private_state,
    result_text,
    tools,
    visible,
)
from services import cases as svc
from services.cases import Done, Refused, StepInput
from storage import cases as q
from storage.models import Case, Grid

NOT_TEXT: Final = ~F.text.startswith("/")


class Step(StatesGroup):
    choose = State()  # buttons only (reason, rating, target, deadline, extension length)
    note = State()  # a text (and for feedback, then photos)
    photos = State()


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(step_pick, CasePick.filter(), StateFilter(Step))
    r.message.register(step_note, Step.note, F.text, NOT_TEXT)
    r.message.register(step_note_photo, Step.note, F.photo)
    r.message.register(step_note_wrong, Step.note, NOT_TEXT)
    r.message.register(step_photo, Step.photos, F.photo)
    r.message.register(step_use_buttons, Step.photos, NOT_TEXT)
    r.message.register(step_use_buttons, Step.choose, NOT_TEXT)
    return r


# --- the first question --------------------------------------------------------------------


async def begin(
    query: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    app: AppContext,
    fsm_storage: BaseStorage,
    loaded: svc.Loaded,
    action: CaseAction,
    *,
    departments: frozenset[int],
    acting_department: int | None,
    language: str,
) -> None:
    """A card's step that needs more: its first question, where the conversation runs."""
    chat_id, chat_type = press_chat(query)
    in_dept_chat = chat_type != "private" and bool(departments)
    flow_chat = chat_id if chat_type == "private" or in_dept_chat else query.from_user.id
    state = private_state(fsm_storage, bot, query.from_user.id, flow_chat)
    await state.set_state(Step.choose)
    await state.set_data(
        {
            "case_id": loaded.case.id,
            "action": action.value,
            "v": loaded.version,
            "params": {},
            "dept": acting_department,
            "photos": [],
        }
    )
    try:
        await _first_question(
            bot, flow_chat, state, session, app, loaded.case, action, language, group=in_dept_chat
        )
    except TelegramAPIError as exc:
        await state.clear()
        await could_not_write(session, app, query, language, exc)
        return
    await answer_flow_opened(query, app, language, flow_chat)


async def _first_question(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    case: Case,
    action: CaseAction,
    language: str,
    *,
    group: bool,
) -> None:
    head = step_head(app, language, case, action)
    question = choice_question(app, language, case, action)
    if action is CaseAction.ASSIGN:
        question = await _targets(session, app, language, case, page=0, head=head)
    elif action is CaseAction.TRANSFER:
        question = departments_question(
            app, language, case.id or 0, await q.live_departments(session), head
        )
    if question is None:
        await state.set_state(Step.note)
        # In a department's chat the bot sees only replies to it (privacy mode).
        await bot.send_message(
            chat_id,
            note_question(app, language, case, action),
            reply_markup=ForceReply(selective=True) if group else None,
        )
        return
    await bot.send_message(chat_id, question[0], reply_markup=question[1])


async def _targets(
    session: AsyncSession, app: AppContext, language: str, case: Case, *, page: int, head: str = ""
) -> Question:
    grid = await session.get(Grid, case.grid_id)
    assert grid is not None
    size = q.PAGE_SIZE
    members, total = await q.members_in_subtree(
        session, path=grid.path, offset=page * size, limit=size
    )
    more = (page + 1) * size < total
    return targets_question(app, language, case.id or 0, members, page=page, more=more, head=head)


# --- choices inside a step -----------------------------------------------------------------


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


# Each takes a choice if it belongs to the step (True), else leaves it (a stale button).


async def _reason(p: Pick) -> bool:
    if p.action is not CaseAction.REJECT or not 0 <= p.x < len(REJECT_REASONS):
        return False
    await _finish(p, {**p.params, "reason": REJECT_REASONS[p.x].value})
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
    await p.send(await _targets(p.session, p.app, p.language, p.case, page=max(p.x, 0)))
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
    await _ask_deadline(p, deadline)
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
    await _ask_deadline(p, deadline)
    return True


async def _ask_deadline(p: Pick, deadline: datetime) -> None:
    _cfg, texts = await tools(p.session, p.app)
    await p.send(deadline_question(p.app, texts, p.language, p.case.id or 0, deadline))


async def _confirm(p: Pick) -> bool:
    if "deadline" not in p.params:
        return False
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
    result = await _perform(p.session, p.app, p.me, chat_id, chat_type, p.data, params)
    await p.state.clear()
    await answer_result(p.query, p.app, p.language, result)
    if p.query.message is not None and p.query.bot is not None:
        text = result_text(p.app, p.language, result)
        await p.query.bot.send_message(p.query.message.chat.id, text)


# --- a note, feedback's photos -------------------------------------------------------------


async def step_note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    text = message.text or ""
    if len(text) > svc.MAX_NOTE:
        await message.answer(app.t("cases.refused.note_too_long", language, limit=svc.MAX_NOTE))
        return
    ask_photos = app.t("cases.ask_feedback_photos", language, limit=svc.MAX_PHOTOS)
    await _noted(message, state, session, app, me, language, {"note": text}, ask_photos)


async def step_note_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    """A photo with a caption answers a comment or feedback as well."""
    action = CaseAction((await state.get_data())["action"])
    if action not in FEEDBACK_ACTIONS and action is not CaseAction.COMMENT:
        await message.answer(app.t("cases.note_wrong", language))
        return
    assert message.photo
    noted = {"note": message.caption or "", "photos": [message.photo[-1].file_id]}
    ask_photos = app.t("cases.photo_ok", language, n=1, limit=svc.MAX_PHOTOS)
    await _noted(message, state, session, app, me, language, noted, ask_photos)


async def _noted(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
    noted: dict[str, Any],
    ask_photos: str,
) -> None:
    """A note arrived: feedback goes on to its photos; any other step is taken now."""
    data = await state.get_data()
    params = {**(data.get("params") or {}), **noted}
    if CaseAction(data["action"]) in FEEDBACK_ACTIONS:
        await state.update_data(params=params)
        await state.set_state(Step.photos)
        await message.answer(ask_photos, reply_markup=finish_button(app, language, data["case_id"]))
        return
    result = await _perform(session, app, me, message.chat.id, message.chat.type, data, params)
    await state.clear()
    await message.answer(result_text(app, language, result))


async def step_note_wrong(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("cases.note_wrong", language))


async def step_photo(message: Message, state: FSMContext, app: AppContext, language: str) -> None:
    assert message.photo
    data = await state.get_data()
    params = dict(data.get("params") or {})
    photos = list(params.get("photos") or [])
    if len(photos) >= svc.MAX_PHOTOS:
        await message.answer(app.t("report.photos_full", language, limit=svc.MAX_PHOTOS))
        return
    photos.append(message.photo[-1].file_id)
    await state.update_data(params={**params, "photos": photos})
    if message.media_group_id is None or len(photos) == 1:
        await message.answer(
            app.t("cases.photo_ok", language, n=len(photos), limit=svc.MAX_PHOTOS),
            reply_markup=finish_button(app, language, data["case_id"]),
        )


async def step_use_buttons(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("report.use_buttons", language))


# --- taking the step -----------------------------------------------------------------------


def _step_input(params: dict[str, Any]) -> StepInput:
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


async def _perform(
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
    step = _step_input(params)
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
