"""The check-in: the location arrives. A quick check-in ends here; a full patrol goes on to
the checklist. A forwarded location is refused and the attempt kept, flagged."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.keyboards import main_menu
from bot.render.patrol import flag_text, render_checklist, render_finished
from bot.render.patrol_entry import location_keyboard
from domain.identity import Holding, Identity
from handlers.patrol.common import holding_of, is_forwarded
from handlers.patrol.states import PatrolFlow
from services import patrols as svc


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(got_location, PatrolFlow.location, F.location)
    r.message.register(location_expected, PatrolFlow.location)
    return r


async def got_location(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    data = await state.get_data()
    holding = holding_of(me, int(data.get("m", 0)))
    if me is None or holding is None:
        await state.clear()
        await message.answer(
            app.t("patrol.not_member", language), reply_markup=ReplyKeyboardRemove()
        )
        return
    assert message.location is not None
    kind = str(data.get("kind", svc.FULL))
    forwarded = is_forwarded(message)
    at = svc.CheckInAt(
        person_id=me.person_id,
        grid_id=holding.grid_id,
        role_id=holding.role_id,
        kind=kind,
        lat=message.location.latitude,
        lon=message.location.longitude,
        forwarded=forwarded,
        live=message.location.live_period is not None,
        now=app.clock.now(),
    )
    checked, rules = await svc.check_in_with_rules(
        session, at, identity=me, default_tz=app.settings.tz
    )
    if forwarded:
        await message.answer(
            app.t("patrol.forwarded_refused", language),
            reply_markup=location_keyboard(app.translator, language),
        )
        return
    if kind == svc.QUICK:
        result = await svc.outcome(
            session,
            checked.patrol,
            identity=me,
            now=app.clock.now(),
            rules=rules,
            known=checked.credited,
        )
        await state.clear()
        await message.answer(
            render_finished(app, language, result, holding.grid_name),
            reply_markup=main_menu(app.translator, language),
        )
        return
    await _to_checklist(message, state, app, language, holding, checked, data)


async def _to_checklist(
    message: Message,
    state: FSMContext,
    app: AppContext,
    language: str,
    holding: Holding,
    checked: svc.CheckIn,
    data: dict[str, Any],
) -> None:
    """A full patrol checked in: what was noticed about the check-in, then the checklist.
    ``data``: the conversation's data as this update read it (nothing changed it since), so
    the patrol's id is added without reading it again."""
    await state.set_data({**data, "patrol_id": checked.patrol.id})
    await state.set_state(PatrolFlow.checklist)
    lines = [app.t("patrol.checked_in", language, grid=html.quote(holding.grid_name))]
    if checked.flags:
        reasons = flag_text(app, language, checked.flags)
        lines.append(app.t("patrol.flagged_warning", language, reasons=reasons))
    if checked.patrol.route is not None:
        lines.append(app.t("patrol.live_on", language))
    await message.answer("\n".join(lines), reply_markup=ReplyKeyboardRemove())
    text, markup = render_checklist(app, language, checked.patrol, holding.grid_name)
    await message.answer(text, reply_markup=markup)


async def location_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(
        app.t("patrol.location_expected", language),
        reply_markup=location_keyboard(app.translator, language),
    )
