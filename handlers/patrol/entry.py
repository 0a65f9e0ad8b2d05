"""Starting a patrol: /patrol, the menu button or the deep link; pick the grid (only when the
person holds several) and, for a daily role, quick check-in or a full patrol."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.group_replies import reply_in_group
from bot.keyboards import menu_words
from bot.render.drafts import DraftChoice
from bot.render.patrol_buttons import PatrolMode, PatrolPick
from bot.render.patrol_entry import location_keyboard, mode_keyboard
from domain.identity import Holding, Identity
from domain.periods import QuotaPeriod
from handlers.drafts import asked_to_keep_at
from handlers.patrol.common import holding_of
from handlers.patrol.states import DEEP_LINK, PatrolFlow
from services import patrols as svc


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(
        patrol_in_group, Command("patrol"), F.chat.type != "private", StateFilter("*")
    )
    # The menu's button, in any language: a set in a magic filter, which the quick routing
    # reads at a glance (a plain function kept this handler in play for every private text).
    button = F.text.in_(menu_words("menu.patrol"))
    r.message.register(patrol_command, F.chat.type == "private", button, StateFilter("*"))
    r.message.register(
        patrol_command, F.chat.type == "private", Command("patrol"), StateFilter("*")
    )
    r.message.register(
        patrol_command,
        F.chat.type == "private",
        CommandStart(deep_link=True, magic=F.args == DEEP_LINK),
        StateFilter("*"),
    )
    r.callback_query.register(picked_grid, PatrolPick.filter(), PatrolFlow.grid)
    r.callback_query.register(picked_mode, PatrolMode.filter(), PatrolFlow.mode)
    return r


async def patrol_in_group(
    message: Message, session: AsyncSession, app: AppContext, language: str
) -> None:
    link = app.deep_link(DEEP_LINK)
    await reply_in_group(
        message,
        session,
        app,
        app.t("patrol.go_private", language),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=app.t("patrol.btn_open_private", language), url=link)]
            ]
        ),
    )


async def patrol_command(
    message: Message,
    state: FSMContext,
    app: AppContext,
    me: Identity | None,
    language: str,
    raw_state: str | None,
) -> None:
    """/patrol, the menu button, the deep link: an unfinished report or patrol is asked
    about first (handlers/drafts.py)."""
    if await asked_to_keep_at(raw_state, message, state, app, language, DraftChoice.PATROL):
        return
    await patrol_start(message, state, app, me, language)


async def patrol_start(
    message: Message, state: FSMContext, app: AppContext, me: Identity | None, language: str
) -> None:
    """A patrol from the start: whatever the conversation held is dropped."""
    if me is None or not me.holdings:
        await state.clear()
        await message.answer(app.t("patrol.not_member", language))
        return
    if len(me.holdings) == 1:
        # `_after_pick` replaces the state and its data outright: no clear first.
        await _after_pick(message, state, app, me.holdings[0], language)
        return
    await state.clear()
    await state.set_state(PatrolFlow.grid)
    rows = [
        [
            InlineKeyboardButton(
                text=f"{h.grid_name}（{h.grid_code}）· {h.role_label}",
                callback_data=PatrolPick(m=h.membership_id).pack(),
            )
        ]
        for h in me.holdings
    ]
    await message.answer(
        app.t("patrol.pick_grid", language), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


async def picked_grid(
    query: CallbackQuery,
    callback_data: PatrolPick,
    state: FSMContext,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    holding = holding_of(me, callback_data.m)
    if holding is None or not isinstance(query.message, Message):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _after_pick(query.message, state, app, holding, language)


async def _after_pick(
    message: Message, state: FSMContext, app: AppContext, holding: Holding, language: str
) -> None:
    """The holding is picked: the conversation's data becomes the pick alone (the grid's
    pick leaves no other; a fresh start drops what was there), written without reading the
    old data first."""
    picked = _pick(holding)
    if holding.quota_period == QuotaPeriod.DAY.value:
        await state.set_data(picked)
        await state.set_state(PatrolFlow.mode)
        await message.answer(
            app.t("patrol.pick_mode", language, grid=html.quote(holding.grid_name)),
            reply_markup=mode_keyboard(app.translator, language, holding.membership_id),
        )
        return
    await _ask_location(message, state, app, holding, svc.FULL, language, picked)


async def picked_mode(
    query: CallbackQuery,
    callback_data: PatrolMode,
    state: FSMContext,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    holding = holding_of(me, callback_data.m)
    if holding is None or not isinstance(query.message, Message):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    kind = svc.QUICK if callback_data.quick else svc.FULL
    # The mode's state holds the pick alone (`_after_pick`), and a membership's grid and role
    # never change: the data is written whole, not read and added to.
    await _ask_location(query.message, state, app, holding, kind, language, _pick(holding))


def _pick(holding: Holding) -> dict[str, int]:
    """The conversation's data once a holding is picked."""
    return {"m": holding.membership_id, "grid_id": holding.grid_id, "role_id": holding.role_id}


async def _ask_location(
    message: Message,
    state: FSMContext,
    app: AppContext,
    holding: Holding,
    kind: str,
    language: str,
    picked: dict[str, int],
) -> None:
    """The location is asked for; the data becomes the pick and the patrol's kind."""
    await state.set_data({**picked, "kind": kind})
    await state.set_state(PatrolFlow.location)
    key = "patrol.ask_location_quick" if kind == svc.QUICK else "patrol.ask_location"
    await message.answer(
        app.t(key, language, grid=html.quote(holding.grid_name)),
        reply_markup=location_keyboard(app.translator, language),
    )
