"""Live location during a patrol: each move adds a fix to the open patrol's route."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from domain.identity import Identity
from handlers.patrol.common import is_forwarded
from handlers.patrol.states import PatrolFlow
from services import patrols as svc


def router() -> Router:
    r = Router(name=__name__)
    r.edited_message.register(live_location_moved, F.location, F.chat.type == "private")
    r.message.register(
        live_location_started_late,
        F.location,
        F.location.live_period,
        F.chat.type == "private",
        StateFilter(None, PatrolFlow.checklist, PatrolFlow.notes),
    )
    return r


async def live_location_moved(
    message: Message, session: AsyncSession, app: AppContext, me: Identity | None
) -> None:
    if me is None or message.location is None or is_forwarded(message):
        return
    await svc.live_update(
        session,
        person_id=me.person_id,
        lat=message.location.latitude,
        lon=message.location.longitude,
        at=app.clock.now(),
    )


async def live_location_started_late(
    message: Message, session: AsyncSession, app: AppContext, me: Identity | None, language: str
) -> None:
    """A live location shared after the check-in: the route starts now."""
    if me is None or message.location is None or is_forwarded(message):
        return
    patrol = await svc.start_route(
        session,
        person_id=me.person_id,
        lat=message.location.latitude,
        lon=message.location.longitude,
        at=app.clock.now(),
    )
    if patrol is not None:
        await message.answer(app.t("patrol.live_on", language))
    else:
        await message.answer(app.t("patrol.no_open_patrol", language))
