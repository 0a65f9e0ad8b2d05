"""Before /report or /patrol starts afresh: an unfinished report or patrol is not dropped
silently; the person is asked (the answer is handlers/report/keep.py)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.context import AppContext
from bot.render.drafts import DraftChoice, keep_question
from domain.drafts import unfinished


async def asked_to_keep_at(
    raw_state: str | None,
    message: Message,
    state: FSMContext,
    app: AppContext,
    language: str,
    starting: DraftChoice,
) -> bool:
    """True when something unfinished was found and the question sent (start nothing yet).
    `raw_state`: the conversation's state as the update opened (aiogram's, given to the
    handler), not read again. Without a state nothing is unfinished, so its data is not read
    (each read of the data copies it)."""
    if not raw_state:
        return False
    kind = unfinished(raw_state, await state.get_data())
    if kind is None:
        return False
    text, markup = keep_question(app, language, kind, starting)
    await message.answer(text, reply_markup=markup)
    return True
