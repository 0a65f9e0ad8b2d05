"""The report's steps in order: starting it, asking each step, moving on."""

from __future__ import annotations

from typing import Any, Final

from aiogram import F
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.chat_answers import answer
from bot.context import AppContext
from bot.group_replies import reply_in_group
from bot.render import report as render
from bot.render.drafts import DraftChoice
from bot.render.report import Question
from domain.identity import Identity
from handlers.drafts import asked_to_keep_at
from services import reporting
from services.reporting import Draft
from storage.grids import grid_by_chat


class Report(StatesGroup):
    grid = State()
    category = State()
    description = State()
    photos = State()
    location = State()
    severity = State()
    confirm = State()


ORDER: Final = ("grid", "category", "description", "photos", "location", "severity", "confirm")
PRIVATE: Final = F.chat.type == "private"


# --- entry points -----------------------------------------------------------------------


async def report_in_group(
    message: Message, session: AsyncSession, app: AppContext, language: str
) -> None:
    grid = await grid_by_chat(session, message.chat.id)
    link = app.deep_link(f"report_{grid.id}" if grid is not None else "report")
    markup = render.open_private_button(app, language, link)
    await reply_in_group(message, session, app, app.t("report.open_private", language), markup)


async def report_from_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    tail = (command.args or "").removeprefix("report").removeprefix("_")
    grid_id = int(tail) if tail.isdigit() else None
    await begin(message, state, session, app, me, language, grid_id)


async def report_command(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
    raw_state: str | None,
) -> None:
    if await asked_to_keep_at(raw_state, message, state, app, language, DraftChoice.REPORT):
        return
    await begin(message, state, session, app, me, language, None)


async def begin(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
    grid_id: int | None,
) -> None:
    if me is None or not me.holdings:
        await message.answer(app.t("report.not_member", language))
        return
    grids = reporting.reportable_grids(me)
    ids = [g for g, _ in grids]
    draft = Draft()
    if grid_id in ids:
        draft.grid_id = grid_id
    elif len(ids) == 1:
        draft.grid_id = ids[0]
    # What clear() and update_data() would leave, written once; the state is set just
    # below (the question's), so clear()'s None is not set first.
    await state.set_data({"draft": draft.to_data(), "editing": False})
    if draft.grid_id is None:
        await state.set_state(Report.grid)
        text, markup = render.grid_question(app, language, grids)
        await message.answer(text, reply_markup=markup)
        return
    await ask(message, state, session, app, language, "category")


# --- asking each step ---------------------------------------------------------------------


async def draft_of(state: FSMContext) -> Draft:
    return Draft.from_data((await state.get_data()).get("draft") or {})


async def read(state: FSMContext) -> tuple[dict[str, Any], Draft]:
    """The state's data and its draft (for `save`: each read of the data copies it)."""
    data = await state.get_data()
    return data, Draft.from_data(data.get("draft") or {})


async def save(
    state: FSMContext, draft: Draft, *, current: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """The draft kept; the state's data as it now is (for `next_step`). `current`: the data as
    `read` gave it in this update, so that it is not read again (what update_data leaves)."""
    return await save_data(state, current=current, draft=draft.to_data(), **extra)


async def save_data(
    state: FSMContext, *, current: dict[str, Any] | None, **values: Any
) -> dict[str, Any]:
    """`state.update_data(**values)`, from `current` (the data as this update last read or
    wrote it) when given, instead of reading it again."""
    if current is None:
        return await state.update_data(**values)
    data = {**current, **values}
    await state.set_data(data)
    return data


async def ask(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    step: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Move to `step` and ask its question (in `message`'s chat). `data`: the state's data
    as the caller has just read or written it (see `next_step`)."""
    await state.set_state(getattr(Report, step))
    for text, markup in await questions(state, session, app, language, step, data):
        await answer(message, text, markup)


async def questions(
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    step: str,
    data: dict[str, Any] | None = None,
) -> list[Question]:
    r = render
    match step:
        case "grid":
            return [r.grid_again_question(app, language)]
        case "category":
            return [r.category_question(app, language, await reporting.categories(session))]
        case "description":
            return [r.description_question(app, language)]
        case "photos":
            return [r.photos_question(app, language, await _photos_in(state, data))]
        case "location":
            return r.location_questions(app, language)
        case "severity":
            offered = await reporting.offered_severities(session)
            return [r.severity_question(app, language, offered)]
    # The summary ends any editing; when the data in hand says so already (the step that
    # led here has just written it), writing it again would change nothing.
    if data is None or data.get("editing") is not False:
        data = await save_data(state, current=data, editing=False)
    draft = Draft.from_data(data.get("draft") or {})
    return [
        r.summary(app, language, draft, await reporting.review(session, draft, app.clock.now()))
    ]


async def _photos_in(state: FSMContext, data: dict[str, Any] | None) -> int:
    """How many photos the draft has, from `data` when the caller has it (see `ask`)."""
    if data is None:
        return len((await draft_of(state)).photos)
    return len(Draft.from_data(data.get("draft") or {}).photos)


async def next_step(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    current: str,
    data: dict[str, Any] | None = None,
) -> None:
    """After a step: back to the summary when editing, else on to the next step. `data`: the
    state's data when the caller has just read or written it (each read copies it)."""
    editing = bool((data if data is not None else await state.get_data()).get("editing"))
    step = "confirm" if editing else ORDER[ORDER.index(current) + 1]
    await ask(message, state, session, app, language, step, data)


def pressed(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None
