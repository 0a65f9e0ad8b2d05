"""After the checklist: notes and photos, the measures taken (措施), the companions
(同行人员), then finish. The finished patrol is posted to the grid's bound group."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.keyboards import main_menu
from bot.render.patrol import (
    companions_view,
    finish_markup,
    group_summary,
    render_finished,
)
from bot.render.patrol_buttons import PatrolAct, PatrolMate, PatrolStep
from domain.identity import Identity
from handlers.patrol.common import ask_notes, move_to, own_patrol, stale, state_patrol
from handlers.patrol.states import PatrolFlow
from services import patrols as svc


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(got_photo, PatrolFlow.notes, F.photo)
    r.message.register(got_note, PatrolFlow.notes, F.text)
    r.message.register(notes_expected, PatrolFlow.notes)
    r.callback_query.register(
        ask_measures, PatrolStep.filter(F.a == PatrolAct.MEASURES), StateFilter("*")
    )
    r.message.register(got_measures, PatrolFlow.measures, F.text, ~F.text.startswith("/"))
    r.message.register(measures_expected, PatrolFlow.measures)
    r.callback_query.register(
        ask_people, PatrolStep.filter(F.a == PatrolAct.PEOPLE), StateFilter("*")
    )
    r.callback_query.register(toggle_mate, PatrolMate.filter(), StateFilter("*"))
    r.message.register(typed_companions, PatrolFlow.companions, F.text, ~F.text.startswith("/"))
    r.message.register(companions_expected, PatrolFlow.companions)
    r.callback_query.register(
        back_to_notes, PatrolStep.filter(F.a == PatrolAct.BACK), StateFilter("*")
    )
    r.callback_query.register(finish, PatrolStep.filter(F.a == PatrolAct.FINISH), StateFilter("*"))
    return r


async def got_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    patrol = await state_patrol(state, session, me)
    if patrol is None or not message.photo:
        await stale(message, state, app, language)
        return
    count = await svc.add_photo(session, patrol, message.photo[-1].file_id)
    if message.caption:
        await svc.add_note(session, patrol, message.caption)
    await message.answer(
        app.t("patrol.photo_added", language, count=count),
        reply_markup=finish_markup(app, language, patrol.id or 0),
    )


async def got_note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    patrol = await state_patrol(state, session, me)
    if patrol is None:
        await stale(message, state, app, language)
        return
    await svc.add_note(session, patrol, message.text or "")
    await message.answer(
        app.t("patrol.note_added", language),
        reply_markup=finish_markup(app, language, patrol.id or 0),
    )


async def notes_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.notes_expected", language))


# --- measures taken (措施) -------------------------------------------------------------------


async def ask_measures(
    query: CallbackQuery,
    callback_data: PatrolStep,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    step = PatrolFlow.measures
    found = await move_to(step, query, callback_data.p, state, session, app, me, language)
    if found is not None:
        await found[2].answer(app.t("patrol.ask_measures", language, limit=svc.MAX_MEASURES))


async def got_measures(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    patrol = await state_patrol(state, session, me)
    if patrol is None:
        await stale(message, state, app, language)
        return
    problem = await svc.set_measures(session, patrol, message.text or "")
    if problem is not None:
        await message.answer(app.t(problem, language, limit=svc.MAX_MEASURES))
        return
    await state.set_state(PatrolFlow.notes)
    await message.answer(
        app.t("patrol.measures_recorded", language),
        reply_markup=finish_markup(app, language, patrol.id or 0),
    )


async def measures_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.measures_expected", language, limit=svc.MAX_MEASURES))


# --- companions (同行人员) -------------------------------------------------------------------


async def ask_people(
    query: CallbackQuery,
    callback_data: PatrolStep,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    step = PatrolFlow.companions
    found = await move_to(step, query, callback_data.p, state, session, app, me, language)
    if found is None:
        return
    patrol, _grid, message = found
    text, markup = companions_view(
        app, language, patrol, await svc.companion_candidates(session, patrol)
    )
    await message.answer(text, reply_markup=markup)


async def toggle_mate(
    query: CallbackQuery,
    callback_data: PatrolMate,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await own_patrol(query, callback_data.p, session, app, me, language)
    if found is None:
        return
    patrol, _grid, message = found
    if not await svc.toggle_companion(session, patrol, callback_data.x):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await query.answer()
    text, markup = companions_view(
        app, language, patrol, await svc.companion_candidates(session, patrol)
    )
    await message.edit_text(text, reply_markup=markup)


async def typed_companions(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    patrol = await state_patrol(state, session, me)
    if patrol is None:
        await stale(message, state, app, language)
        return
    if not await svc.add_typed_companions(session, patrol, message.text or ""):
        await message.answer(app.t("patrol.people_bad", language, limit=svc.MAX_COMPANION_NAME))
        return
    text, markup = companions_view(
        app, language, patrol, await svc.companion_candidates(session, patrol)
    )
    await message.answer(text, reply_markup=markup)


async def companions_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.people_expected", language))


async def back_to_notes(
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
    if found is not None:
        patrol, _grid, message = found
        await message.edit_reply_markup(reply_markup=None)
        await ask_notes(message, app, language, patrol)


# --- finish ----------------------------------------------------------------------------------


async def finish(
    query: CallbackQuery,
    callback_data: PatrolStep,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await own_patrol(query, callback_data.p, session, app, me, language)
    if found is None or me is None:
        return
    patrol, grid, message = found
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    group_language = app.settings.default_language
    result = await svc.finish_patrol(
        session,
        patrol,
        identity=me,
        now=app.clock.now(),
        rules=rules,
        summary=lambda entry: group_summary(app, group_language, entry, rules.tz),
    )
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await state.clear()
    await message.answer(
        render_finished(app, language, result, grid.name),
        reply_markup=main_menu(app.translator, language),
    )
