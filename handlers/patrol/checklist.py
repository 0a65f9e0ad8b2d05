"""The checklist: each item 正常 or 有问题 (a problem goes on to report the hazard), "the rest
are fine", then on to the notes."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.patrol import render_checklist, skip_markup
from bot.render.patrol_buttons import PatrolAct, PatrolItem, PatrolStep
from domain.identity import Identity
from handlers.patrol.common import ask_notes, move_to, own_patrol
from handlers.patrol.states import REPORT_PREFILL_KEY, PatrolFlow
from services import patrols as svc


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(item_pressed, PatrolItem.filter(), StateFilter("*"))
    r.callback_query.register(all_ok, PatrolStep.filter(F.a == PatrolAct.ALL_OK), StateFilter("*"))
    r.callback_query.register(to_notes, PatrolStep.filter(F.a == PatrolAct.NEXT), StateFilter("*"))
    return r


async def item_pressed(
    query: CallbackQuery,
    callback_data: PatrolItem,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await own_patrol(query, callback_data.p, session, app, me, language)
    if found is None:
        return
    patrol, grid, message = found
    try:
        checklist = await svc.mark_item(session, patrol, index=callback_data.i, ok=callback_data.ok)
    except KeyError:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await state.set_state(PatrolFlow.checklist)
    await state.update_data(patrol_id=patrol.id)
    text, markup = render_checklist(app, language, patrol, grid.name)
    await query.answer()
    if callback_data.ok:
        await message.edit_text(text, reply_markup=markup)
        return
    item = checklist.items[callback_data.i]
    await message.edit_text(text, reply_markup=None)
    # The problem is reported as a hazard, prefilled from the patrol (see finding.py).
    prefill = {
        "grid_id": patrol.grid_id,
        "lat": patrol.lat,
        "lon": patrol.lon,
        "category": await svc.finding_category(session, item.name),
        "patrol_id": patrol.id,
        "item": callback_data.i,
        "return_to": "patrol",
    }
    await state.update_data({REPORT_PREFILL_KEY: prefill})
    await state.set_state(PatrolFlow.finding)
    await message.answer(
        app.t("patrol.ask_finding", language, item=html.quote(item.name)),
        reply_markup=skip_markup(app, language, patrol.id or 0),
    )


async def all_ok(
    query: CallbackQuery,
    callback_data: PatrolStep,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await own_patrol(query, callback_data.p, session, app, me, language)
    if found is None:
        return
    patrol, grid, message = found
    await svc.mark_rest_ok(session, patrol)
    await query.answer()
    text, markup = render_checklist(app, language, patrol, grid.name)
    await message.edit_text(text, reply_markup=markup)


async def to_notes(
    query: CallbackQuery,
    callback_data: PatrolStep,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    step = PatrolFlow.notes
    found = await move_to(step, query, callback_data.p, state, session, app, me, language)
    if found is None:
        return
    patrol, grid, message = found
    await svc.mark_rest_ok(session, patrol)
    text, _ = render_checklist(app, language, patrol, grid.name)
    await message.edit_text(text, reply_markup=None)
    await ask_notes(message, app, language, patrol)
