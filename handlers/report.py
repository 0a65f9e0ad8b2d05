"""/report: a hazard report in a few taps (信息收集), as a conversation in the private chat.

grid (only when the person has several) → category → description → photos (0–10, albums,
"完成") → location (the location button, or a typed address) → severity → summary (change any
field; a possible duplicate is shown with "add as a comment") → submit. Every step has a back
button; /cancel (handlers/common.py) works in every state. The draft lives in the FSM data,
which is stored in the database, so a restart resumes where the person was.
"""

from __future__ import annotations

from typing import Any, Final

from aiogram import F, Router, html
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.group_replies import reply_in_group
from bot.keyboards import Callback, main_menu
from bot.render.cases import CaseRender, rows_of
from domain.identity import Identity
from services import reporting
from services.cases import load_config
from services.reporting import Draft, DraftProblem
from storage.grids import grid_by_chat
from storage.models import Deployment


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(report_in_group, Command("report"), F.chat.type.in_({"group", "supergroup"}))
    r.message.register(
        report_from_link,
        CommandStart(deep_link=True, magic=F.args.startswith("report")),
        F.chat.type == "private",
    )
    r.message.register(report_command, _is_menu_report, F.chat.type == "private", StateFilter("*"))
    r.message.register(
        report_command, Command("report"), F.chat.type == "private", StateFilter("*")
    )
    r.callback_query.register(chose_grid, ReportCb.filter(F.k == "grid"), Report.grid)
    r.callback_query.register(chose_category, ReportCb.filter(F.k == "cat"), Report.category)
    r.message.register(got_description, Report.description, F.text)
    r.message.register(description_not_text, Report.description)
    r.message.register(got_photo, Report.photos, F.photo)
    r.message.register(photos_wrong, Report.photos)
    r.callback_query.register(photos_done, ReportCb.filter(F.k == "done"), Report.photos)
    r.message.register(got_location, Report.location, F.location)
    r.message.register(got_address, Report.location, F.text, ~F.text.startswith("/"))
    r.message.register(location_wrong, Report.location)
    r.callback_query.register(chose_severity, ReportCb.filter(F.k == "sev"), Report.severity)
    r.message.register(press_a_button, Report.confirm)
    r.message.register(press_a_button, Report.severity)
    r.message.register(press_a_button, Report.category)
    r.message.register(press_a_button, Report.grid)
    r.callback_query.register(go_back, ReportCb.filter(F.k == "back"), StateFilter(Report))
    r.callback_query.register(edit_field, ReportCb.filter(F.k == "edit"), Report.confirm)
    r.callback_query.register(submit, ReportCb.filter(F.k.in_({"ok", "dup"})), Report.confirm)
    return r


class Report(StatesGroup):
    grid = State()
    category = State()
    description = State()
    photos = State()
    location = State()
    severity = State()
    confirm = State()


ORDER: Final = ("grid", "category", "description", "photos", "location", "severity", "confirm")
EDITABLE: Final = ("category", "description", "photos", "location", "severity")


class ReportCb(Callback, prefix="r"):
    """k: grid | cat | sev | done | back | edit | ok | dup; x: an index or an id."""

    k: str
    x: int = 0


def _kb(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _btn(text: str, k: str, x: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ReportCb(k=k, x=x).pack())


def _back_row(app: AppContext, language: str) -> list[InlineKeyboardButton]:
    return [_btn(app.t("report.back", language), "back")]


async def _is_menu_report(message: Message, app: AppContext) -> bool:
    from bot.keyboards import menu_texts

    return message.text is not None and message.text in menu_texts(app.translator, "menu.report")


# --- entry points -----------------------------------------------------------------------


async def report_in_group(
    message: Message, session: AsyncSession, app: AppContext, language: str
) -> None:
    grid = await grid_by_chat(session, message.chat.id)
    payload = f"report_{grid.id}" if grid is not None else "report"
    link = app.deep_link(payload)
    await reply_in_group(
        message,
        session,
        app,
        app.t("report.open_private", language),
        _kb([[InlineKeyboardButton(text=app.t("report.open_button", language), url=link)]]),
    )


async def report_from_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    grid_id: int | None = None
    tail = (command.args or "").removeprefix("report").removeprefix("_")
    if tail.isdigit():
        grid_id = int(tail)
    await _begin(message, state, session, app, me, language, grid_id)


async def report_command(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    await _begin(message, state, session, app, me, language, None)


async def _begin(
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
    await state.clear()
    await state.update_data(draft=draft.to_data(), editing=False)
    if draft.grid_id is None:
        await state.set_state(Report.grid)
        await message.answer(
            app.t("report.ask_grid", language),
            reply_markup=_kb(rows_of([_btn(name, "grid", gid) for gid, name in grids], 1)),
        )
        return
    await _ask(message, state, session, app, language, "category")


# --- asking each step ---------------------------------------------------------------------


async def _draft(state: FSMContext) -> Draft:
    return Draft.from_data((await state.get_data()).get("draft") or {})


async def _save(state: FSMContext, draft: Draft, **extra: Any) -> None:
    await state.update_data(draft=draft.to_data(), **extra)


async def _ask(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    step: str,
) -> None:
    """Move to `step` and ask its question (in `message`'s chat)."""
    draft = await _draft(state)
    back = _back_row(app, language)
    if step == "grid":
        await state.set_state(Report.grid)
        me_grids = (await state.get_data()).get("grids") or []
        del me_grids
        await message.answer(app.t("report.ask_grid_again", language), reply_markup=_kb([back]))
    elif step == "category":
        await state.set_state(Report.category)
        cats = await reporting.categories(session)
        buttons = [_btn(c, "cat", i) for i, c in enumerate(cats)]
        await message.answer(
            app.t("report.ask_category", language), reply_markup=_kb([*rows_of(buttons, 2), back])
        )
    elif step == "description":
        await state.set_state(Report.description)
        await message.answer(
            app.t("report.ask_description", language, limit=reporting.MAX_DESCRIPTION),
            reply_markup=_kb([back]),
        )
    elif step == "photos":
        await state.set_state(Report.photos)
        await message.answer(
            app.t("report.ask_photos", language, n=len(draft.photos), limit=reporting.MAX_PHOTOS),
            reply_markup=_kb([[_btn(app.t("report.done", language), "done")], back]),
        )
    elif step == "location":
        await state.set_state(Report.location)
        await message.answer(
            app.t("report.ask_location", language),
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[
                    [
                        KeyboardButton(
                            text=app.t("report.send_location", language), request_location=True
                        )
                    ]
                ],
                resize_keyboard=True,
                one_time_keyboard=True,
            ),
        )
        await message.answer(app.t("report.or_back", language), reply_markup=_kb([back]))
    elif step == "severity":
        await state.set_state(Report.severity)
        d = await session.get(Deployment, 1)
        offered = reporting.severities_offered(d.severities if d else None)
        buttons = [
            _btn(app.t(f"cases.severity.{s.value}", language), "sev", i)
            for i, s in enumerate(offered)
        ]
        await message.answer(
            app.t("report.ask_severity", language), reply_markup=_kb([buttons, back])
        )
    else:
        await _show_summary(message, state, session, app, language)


async def _next(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    current: str,
) -> None:
    """After a step: back to the summary when editing, else on to the next step."""
    editing = bool((await state.get_data()).get("editing"))
    step = "confirm" if editing else ORDER[ORDER.index(current) + 1]
    await _ask(message, state, session, app, language, step)


async def _show_summary(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    await state.set_state(Report.confirm)
    await state.update_data(editing=False)
    draft = await _draft(state)
    from storage.models import Grid

    grid = await session.get(Grid, draft.grid_id) if draft.grid_id else None
    place = " ".join(
        p
        for p in (
            html.quote(draft.address) if draft.address else "",
            f"📍 {draft.lat:.5f}, {draft.lon:.5f}"
            if draft.lat is not None and draft.lon is not None
            else "",
        )
        if p
    )
    text = app.t(
        "report.summary",
        language,
        grid=html.quote(grid.name if grid else ""),
        category=html.quote(draft.category or ""),
        description=html.quote(draft.description or ""),
        photos=len(draft.photos),
        place=place,
        severity=app.t(f"cases.severity.{draft.severity}", language) if draft.severity else "",
    )
    rows: list[list[InlineKeyboardButton]] = []
    dups = await reporting.duplicates(session, draft, app.clock.now())
    if dups:
        text += "\n\n" + app.t("report.duplicate_intro", language)
        for case in dups:
            text += "\n" + app.t(
                "report.duplicate_line",
                language,
                code=case.code,
                text=html.quote(case.description[:60]),
                status=app.t(f"cases.status.{case.status}", language),
            )
            rows.append(
                [_btn(app.t("report.add_to", language, code=case.code), "dup", case.id or 0)]
            )
    edit_buttons = [
        _btn(app.t(f"report.edit.{f}", language), "edit", i) for i, f in enumerate(EDITABLE)
    ]
    rows += rows_of(edit_buttons, 3)
    rows.append([_btn(app.t("report.submit", language), "ok")])
    await message.answer(text, reply_markup=_kb(rows))


# --- answers ------------------------------------------------------------------------------


def _msg(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


async def chose_grid(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = _msg(query)
    if (
        me is None
        or message is None
        or callback_data.x not in {g for g, _ in reporting.reportable_grids(me)}
    ):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    draft = await _draft(state)
    draft.grid_id = callback_data.x
    await _save(state, draft)
    await query.answer()
    await _ask(message, state, session, app, language, "category")


async def chose_category(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    cats = await reporting.categories(session)
    message = _msg(query)
    if not 0 <= callback_data.x < len(cats) or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    draft = await _draft(state)
    draft.category = cats[callback_data.x]
    await _save(state, draft)
    await query.answer(cats[callback_data.x])
    await _next(message, state, session, app, language, "category")


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
    draft = await _draft(state)
    draft.description = (message.text or "").strip()
    await _save(state, draft)
    await _next(message, state, session, app, language, "description")


async def description_not_text(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("report.description_not_text", language))


async def got_photo(message: Message, state: FSMContext, app: AppContext, language: str) -> None:
    assert message.photo
    data = await state.get_data()
    draft = Draft.from_data(data.get("draft") or {})
    if len(draft.photos) >= reporting.MAX_PHOTOS:
        await message.answer(app.t("report.photos_full", language, limit=reporting.MAX_PHOTOS))
        return
    draft.photos.append(message.photo[-1].file_id)
    groups = list(data.get("albums") or [])
    album = message.media_group_id
    first_of_album = album is not None and album not in groups
    if album is not None and first_of_album:
        groups.append(album)
    await _save(state, draft, albums=groups[-5:])
    if album is None or first_of_album:
        await message.answer(
            app.t("report.photo_ok", language, n=len(draft.photos), limit=reporting.MAX_PHOTOS),
            reply_markup=_kb([[_btn(app.t("report.done", language), "done")]]),
        )


async def photos_wrong(message: Message, app: AppContext, language: str) -> None:
    await message.answer(
        app.t("report.photos_wrong", language),
        reply_markup=_kb([[_btn(app.t("report.done", language), "done")]]),
    )


async def photos_done(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    message = _msg(query)
    draft = await _draft(state)
    await query.answer(app.t("report.photos_count", language, n=len(draft.photos)))
    if message is not None:
        await _next(message, state, session, app, language, "photos")


async def got_location(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    assert message.location is not None
    draft = await _draft(state)
    draft.lat, draft.lon = message.location.latitude, message.location.longitude
    await _save(state, draft)
    await message.answer(
        app.t("report.location_ok", language), reply_markup=main_menu(app.translator, language)
    )
    await _next(message, state, session, app, language, "location")


async def got_address(
    message: Message, state: FSMContext, session: AsyncSession, app: AppContext, language: str
) -> None:
    problem = reporting.check_address(message.text)
    if problem is not None:
        await message.answer(
            app.t("report.address_too_long", language, limit=reporting.MAX_ADDRESS)
        )
        return
    draft = await _draft(state)
    draft.address = (message.text or "").strip()
    await _save(state, draft)
    await message.answer(
        app.t("report.address_ok", language), reply_markup=main_menu(app.translator, language)
    )
    await _next(message, state, session, app, language, "location")


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
    d = await session.get(Deployment, 1)
    offered = reporting.severities_offered(d.severities if d else None)
    message = _msg(query)
    if not 0 <= callback_data.x < len(offered) or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    draft = await _draft(state)
    draft.severity = offered[callback_data.x].value
    await _save(state, draft)
    await query.answer()
    await _next(message, state, session, app, language, "severity")


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
    message = _msg(query)
    current = (await state.get_state() or "").rsplit(":", 1)[-1]
    await query.answer()
    if message is None or current not in ORDER:
        return
    if (await state.get_data()).get("editing"):
        await _ask(message, state, session, app, language, "confirm")
        return
    index = ORDER.index(current)
    several = me is not None and len(reporting.reportable_grids(me)) > 1
    if index <= 1 and not several:
        await message.answer(app.t("report.at_first_step", language))
        await _ask(message, state, session, app, language, current)
        return
    if index == 1:
        await _begin(message, state, session, app, me, language, None)
        return
    await _ask(message, state, session, app, language, ORDER[index - 1])


async def edit_field(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    message = _msg(query)
    if not 0 <= callback_data.x < len(EDITABLE) or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    field = EDITABLE[callback_data.x]
    await state.update_data(editing=True)
    if field == "photos":
        draft = await _draft(state)
        draft.photos = []
        await _save(state, draft)
    await query.answer()
    await _ask(message, state, session, app, language, field)


async def submit(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = _msg(query)
    draft = await _draft(state)
    if me is None or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    cfg = await load_config(session, default_language=app.settings.default_language)
    texts = CaseRender(app.translator, app.settings.default_language, cfg.tz)
    now = app.clock.now()
    if callback_data.k == "dup":
        case = await reporting.add_as_comment(
            session,
            case_id=callback_data.x,
            reporter=me,
            draft=draft,
            now=now,
            texts=texts,
            cfg=cfg,
        )
        if case is None:
            await query.answer(app.t("report.duplicate_gone", language), show_alert=True)
            return
        await state.clear()
        await query.answer()
        await message.answer(
            app.t("report.added_to", language, code=case.code),
            reply_markup=main_menu(app.translator, language),
        )
        return
    result = await reporting.submit(
        session, reporter=me, draft=draft, now=now, texts=texts, cfg=cfg
    )
    if isinstance(result, DraftProblem):
        await query.answer(app.t(f"report.problem.{result.value}", language), show_alert=True)
        return
    await state.clear()
    await query.answer()
    await message.answer(
        app.t(
            "report.submitted",
            language,
            code=result.code,
            deadline=texts.when(result.deadline_at),
        ),
        reply_markup=main_menu(app.translator, language),
    )
