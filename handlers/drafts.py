"""Before /report or /patrol starts afresh: an unfinished report or patrol is not dropped
silently; the person is asked (the answer is handlers/report/keep.py)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.context import AppContext
from bot.render.drafts import DraftChoice, keep_question
from domain.drafts import unfinished


async def asked_to_keep(
    message: Message, state: FSMContext, app: AppContext, language: str, starting: DraftChoice
) -> bool:
    """True when something unfinished was found and the question sent (start nothing yet).
    A handler given aiogram's `raw_state` calls `asked_to_keep_at`, which does not read it."""
    return await asked_to_keep_at(await state.get_state(), message, state, app, language, starting)


async def asked_to_keep_at(
    raw_state: str | None,
    message: Message,
    state: FSMContext,
    app: AppContext,
    language: str,
    starting: DraftChoice,
) -> bool:
    """`asked_to_keep` in the conversation state `raw_state` (the handler's, as the update
    opened). Without a state nothing is unfinished, so its data is not read (each read of
    the data copies it)."""
    if not raw_state:
        return False
    kind = unfinished(raw_state, await state.get_data())
    if kind is None:
        return False
    text, markup = keep_question(app, language, kind, starting)
    await message.answer(text, reply_markup=markup)
    return True
