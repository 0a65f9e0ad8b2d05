"""The answer to "keep the unfinished report or patrol?" (handlers/drafts.py): 继续填写 asks
its current step again; 放弃并开始新的 drops it and starts the report or patrol asked for."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.drafts import DraftChoice, DraftKeep
from bot.render.patrol import render_checklist
from domain.drafts import Unfinished, unfinished
from domain.identity import Identity
from handlers.patrol.common import state_patrol
from handlers.patrol.entry import patrol_start
from handlers.patrol.states import PatrolFlow
from handlers.report.flow import ORDER, ask, begin, pressed
from storage.models import Grid


async def keep_pressed(
    query: CallbackQuery,
    callback_data: DraftKeep,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = pressed(query)
    if message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    if callback_data.go is DraftChoice.REPORT:
        await begin(message, state, session, app, me, language, None)
        return
    if callback_data.go is DraftChoice.PATROL:
        await patrol_start(message, state, app, me, language)
        return
    current = await state.get_state()
    kind = unfinished(current, await state.get_data())
    step = (current or "").rsplit(":", 1)[-1]
    if kind is Unfinished.REPORT and step in ORDER:
        await message.answer(app.t("drafts.kept", language))
        await ask(message, state, session, app, language, step)
        return
    if kind is not Unfinished.PATROL:
        await message.answer(app.t("drafts.gone", language))
        return
    await message.answer(app.t("drafts.kept_patrol", language))
    patrol = await state_patrol(state, session, me)
    grid = await session.get(Grid, patrol.grid_id) if patrol is not None else None
    if current == PatrolFlow.checklist.state and patrol is not None and grid is not None:
        text, markup = render_checklist(app, language, patrol, grid.name)
        await message.answer(text, reply_markup=markup)
