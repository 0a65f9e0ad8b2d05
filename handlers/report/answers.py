"""The answers to each step of a report: a pick, a text, photos, a location; back; edit."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.keyboards import main_menu
from bot.render import report as render
from bot.render.report import EDITABLE, ReportCb
from domain.identity import Identity
from handlers.report.flow import ORDER, ask, begin, draft_of, next_step, pressed, read, save
from services import reporting


async def chose_grid(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = pressed(query)
    if (
        me is None
        or message is None
        or callback_data.x not in {g for g, _ in reporting.reportable_grids(me)}
    ):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    draft = await draft_of(state)
    draft.grid_id = callback_data.x
    await save(state, draft)
    await query.answer()
    await ask(message, state, session, app, language, "category")


async def chose_category(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    cats = await reporting.categories(session)
    args = (query, callback_data.x, state, session, app, language)
    labels = [c.label for c in cats]  # the case keeps the Chinese label; the reader sees theirs
    await _chosen(*args, labels, "category", shown=lambda i: cats[i].shown(language))


async def _chosen(
    query: CallbackQuery,
    index: int,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    options: Sequence[str],
    step: str,
    *,
    shown: Callable[[int], str] | None,
) -> None:
    """A pick among `options` by index fills the draft's `step` (`shown(index)` is said back,
    if given: only the one picked is worked out)."""
    message = pressed(query)
    if not 0 <= index < len(options) or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    current, draft = await read(state)
    setattr(draft, step, options[index])
    data = await save(state, draft, current=current)
    await query.answer(shown(index) if shown else None)
    await next_step(message, state, session, app, language, step, data)


async def got_description(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    problem = reporting.check_description(message.text)
    if problem is not None:
        await message.answer(
            app.t(
                f"report.description_{problem.value}",
                language,
                limit=reporting.MAX_DESCRIPTION,
                n=len(message.text or ""),
            )
        )
        return
    current, draft = await read(state)
    draft.description = (message.text or "").strip()
    data = await save(state, draft, current=current)
    await next_step(message, state, session, app, language, "description", data)


async def description_not_text(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("report.description_not_text", language))


async def got_photo(message: Message, state: FSMContext, app: AppContext, language: str) -> None:
    assert message.photo
    data, draft = await read(state)
    if len(draft.photos) >= reporting.MAX_PHOTOS:
        await message.answer(app.t("report.photos_full", language, limit=reporting.MAX_PHOTOS))
        return
    draft.photos.append(message.photo[-1].file_id)
    groups = list(data.get("albums") or [])
    album = message.media_group_id
    first_of_album = album is not None and album not in groups
    if album is not None and first_of_album:
        groups.append(album)
    await save(state, draft, current=data, albums=groups[-5:])
    if album is None or first_of_album:
        await message.answer(
            app.t("report.photo_ok", language, n=len(draft.photos), limit=reporting.MAX_PHOTOS),
            reply_markup=render.photos_done_button(app, language),
        )


async def photos_wrong(message: Message, app: AppContext, language: str) -> None:
    await message.answer(
        app.t("report.photos_wrong", language),
        reply_markup=render.photos_done_button(app, language),
    )


async def photos_done(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    message = pressed(query)
    data, draft = await read(state)
    await query.answer(app.t("report.photos_count", language, n=len(draft.photos)))
    if message is not None:
        await next_step(message, state, session, app, language, "photos", data)


async def got_location(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    assert message.location is not None
    current, draft = await read(state)
    draft.lat, draft.lon = message.location.latitude, message.location.longitude
    data = await save(state, draft, current=current)
    await message.answer(
        app.t("report.location_ok", language), reply_markup=main_menu(app.translator, language)
    )
    await next_step(message, state, session, app, language, "location", data)


async def got_address(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    problem = reporting.check_address(message.text)
    if problem is not None:
        await message.answer(
            app.t("report.address_too_long", language, limit=reporting.MAX_ADDRESS)
        )
        return
    current, draft = await read(state)
    draft.address = (message.text or "").strip()
    data = await save(state, draft, current=current)
    await message.answer(
        app.t("report.address_ok", language), reply_markup=main_menu(app.translator, language)
    )
    await next_step(message, state, session, app, language, "location", data)


async def location_wrong(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("report.location_wrong", language))


async def chose_severity(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    offered = [s.value for s in await reporting.offered_severities(session)]
    args = (query, callback_data.x, state, session, app, language)
    await _chosen(*args, offered, "severity", shown=None)


async def press_a_button(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("report.use_buttons", language))


async def go_back(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = pressed(query)
    current = (await state.get_state() or "").rsplit(":", 1)[-1]
    await query.answer()
    if message is None or current not in ORDER:
        return
    if (await state.get_data()).get("editing"):
        await ask(message, state, session, app, language, "confirm")
        return
    index = ORDER.index(current)
    several = me is not None and len(reporting.reportable_grids(me)) > 1
    if index <= 1 and not several:
        await message.answer(app.t("report.at_first_step", language))
        await ask(message, state, session, app, language, current)
        return
    if index == 1:
        await begin(message, state, session, app, me, language, None)
        return
    await ask(message, state, session, app, language, ORDER[index - 1])


async def edit_field(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    message = pressed(query)
    if not 0 <= callback_data.x < len(EDITABLE) or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    field = EDITABLE[callback_data.x]
    await state.update_data(editing=True)
    if field == "photos":
        draft = await draft_of(state)
        draft.photos = []
        await save(state, draft)
    await query.answer()
    await ask(message, state, session, app, language, field)
