"""Small helpers the patrol handlers share: finding the holding, re-authorising a press."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.keyboards import main_menu
from bot.render.patrol import finish_markup
from domain.identity import Holding, Identity
from handlers.patrol.states import REPORT_PREFILL_KEY
from services import patrols as svc
from storage.models import Grid, Patrol


def holding_of(me: Identity | None, membership_id: int) -> Holding | None:
    if me is None:
        return None
    return next((h for h in me.holdings if h.membership_id == membership_id), None)


def is_forwarded(message: Message) -> bool:
    """Forwarded, by the current field or the legacy twins real updates still carry."""
    return bool(
        message.forward_origin is not None
        or message.forward_date is not None
        or message.forward_from is not None
        or message.forward_from_chat is not None
        or message.forward_sender_name is not None
    )


async def stale(message: Message, state: FSMContext, app: AppContext, language: str) -> None:
    """The patrol is gone (finished elsewhere, or not this person's): start over."""
    await state.clear()
    await message.answer(
        app.t("patrol.stale", language), reply_markup=main_menu(app.translator, language)
    )


async def own_patrol(
    query: CallbackQuery,
    patrol_id: int,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> tuple[Patrol, Grid, Message] | None:
    """The pressed patrol if it is the presser's and still open; else answers the press."""
    patrol = None
    if me is not None:
        patrol = await svc.own_open_patrol(session, patrol_id=patrol_id, person_id=me.person_id)
    if patrol is None or not isinstance(query.message, Message):
        await query.answer(app.t("patrol.stale", language), show_alert=True)
        return None
    grid = await session.get(Grid, patrol.grid_id)
    assert grid is not None
    return patrol, grid, query.message


async def move_to(
    step: State,
    query: CallbackQuery,
    patrol_id: int,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> tuple[Patrol, Grid, Message] | None:
    """A press that moves the patrol's conversation to `step`: the press answered and the
    conversation on that patrol, if it is the presser's and still open (see `own_patrol`)."""
    found = await own_patrol(query, patrol_id, session, app, me, language)
    if found is None:
        return None
    await query.answer()
    await state.set_state(step)
    await state.update_data(patrol_id=found[0].id)
    return found


async def ask_notes(message: Message, app: AppContext, language: str, patrol: Patrol) -> None:
    await message.answer(
        app.t("patrol.ask_notes", language),
        reply_markup=finish_markup(app, language, patrol.id or 0),
    )


async def state_patrol(
    state: FSMContext, session: AsyncSession, me: Identity | None
) -> Patrol | None:
    """The open patrol the conversation is on (``patrol_id`` in the FSM data)."""
    if me is None:
        return None
    data = await state.get_data()
    return await svc.own_open_patrol(
        session, patrol_id=int(data.get("patrol_id", 0) or 0), person_id=me.person_id
    )


async def prefill_patrol(
    state: FSMContext, session: AsyncSession, me: Identity | None
) -> Patrol | None:
    """The open patrol a checklist problem is being reported from."""
    if me is None:
        return None
    prefill = (await state.get_data()).get(REPORT_PREFILL_KEY) or {}
    return await svc.own_open_patrol(
        session, patrol_id=int(prefill.get("patrol_id", 0) or 0), person_id=me.person_id
    )
