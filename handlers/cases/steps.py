"""Steps that need more than a press continue as a short conversation: a reason, a rating,
an extension's length, a target and its deadline (buttons), a note, feedback with photos.

It runs in the private chat for a press in private or in a grid group, and in the
department's chat (replying to the bot) for a department's step. The step is taken by
`services.cases.perform`, which re-authorises it against the case as it is then.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, ForceReply
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.case_steps import (
    Question,
    choice_question,
    departments_question,
    note_question,
    step_head,
    targets_question,
)
from domain.cases import CaseAction
from handlers.cases.common import (
    answer_flow_opened,
    could_not_write,
    press_chat,
    private_state,
)
from handlers.cases.states import Step
from services import cases as svc
from storage import cases as q
from storage.models import Case, Grid

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
        question = await targets(session, app, language, case, page=0, head=head)
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


async def targets(
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
