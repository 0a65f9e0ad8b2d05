"""A step's note, and feedback's photos; then the step is taken."""

from __future__ import annotations

from typing import Any, Final

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.case_steps import (
    FEEDBACK_ACTIONS,
    finish_button,
)
from domain.cases import CaseAction
from domain.identity import Identity
from handlers.cases.common import (
    perform,
    result_text,
)
from handlers.cases.states import Step
from services import cases as svc

NOT_TEXT: Final = ~F.text.startswith("/")


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(step_note, Step.note, F.text, NOT_TEXT)
    r.message.register(step_note_photo, Step.note, F.photo)
    r.message.register(step_note_wrong, Step.note, NOT_TEXT)
    r.message.register(step_photo, Step.photos, F.photo)
    r.message.register(step_use_buttons, Step.photos, NOT_TEXT)
    r.message.register(step_use_buttons, Step.choose, NOT_TEXT)
    return r


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
    result = await perform(session, app, me, message.chat.id, message.chat.type, data, params)
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
