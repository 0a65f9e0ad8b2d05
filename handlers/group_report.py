"""A hazard reported in one group message (issue 16 pt 4).

In a grid's group a photo (or an album) whose caption mentions the bot or starts with
/report, or that replies to the bot, becomes a draft: the bot reads the caption
(domain.group_report), asks in one line for what is missing (the category with a button
each, the place as a reply to its question, which privacy mode lets it see) and then shows
the draft, which the reporter confirms with one tap. The case goes through the same submit
as /report and its card is posted back to the group. A draft can move to the private chat
(a deep link) to be completed or changed there with /report's own steps.

The pending drafts live in the reporter's conversation state in that group. Every press is
checked again: only the reporter, still a member of the grid the group is still bound to,
may confirm; a foreign or stale press gets a polite answer and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Final

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render import group_report as render
from bot.render.group_report import GroupPress, GroupReportCb
from domain.group_report import (
    Missing,
    PendingReport,
    missing_of,
    read_caption,
)
from domain.identity import Identity
from handlers.group_report_done import add_to, keep, pending_of, submit
from handlers.report.flow import ask
from services import group_report as svc
from services import reporting
from services.reporting import Draft
from storage.models import Grid

GROUPS: Final = F.chat.type.in_({"group", "supergroup"})
LINK_PREFIX: Final = "grp_"
log = logging.getLogger(__name__)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(album_photo, GROUPS, F.photo, F.media_group_id, ~F.caption)
    r.message.register(photo_report, GROUPS, F.photo, addressed_to_bot)
    r.message.register(place_answer, GROUPS, F.reply_to_message, F.text | F.location)
    r.callback_query.register(pressed, GroupReportCb.filter())
    r.message.register(
        from_link,
        CommandStart(deep_link=True, magic=F.args.startswith(LINK_PREFIX)),
        F.chat.type == "private",
    )
    return r


def addressed_to_bot(message: Message, bot: Bot, app: AppContext) -> bool:
    """A caption that starts with /report or mentions the bot, or a reply to the bot."""
    caption = (message.caption or "").strip()
    if caption.lower().startswith("/report"):
        return True
    if app.bot_username and f"@{app.bot_username}".lower() in caption.lower():
        return True
    reply = message.reply_to_message
    return bool(reply and reply.from_user and reply.from_user.id == bot.id)


def _link(app: AppContext, chat_id: int, source: int) -> str:
    return app.deep_link(f"{LINK_PREFIX}{-chat_id}_{source}")


# --- a new report --------------------------------------------------------------------------


async def photo_report(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
) -> None:
    language = app.settings.default_language
    if message.sender_chat is not None or message.from_user is None:
        await message.reply(app.t("greport.anonymous", language))
        return
    grid = await svc.bound_grid(session, message.chat.id)
    if grid is None:
        await message.reply(app.t("greport.not_bound", language))
        return
    assert grid.id is not None and message.photo
    name = render.mention(me.name if me else message.from_user.full_name, message.from_user.id)
    if not svc.may_report(me, grid.id):
        await message.reply(app.t("greport.not_member", language, name=name, grid=grid.name))
        return
    categories = await reporting.categories(session)
    caption = read_caption(message.caption, bot_username=app.bot_username, categories=categories)
    draft = await svc.draft_from(
        session, grid_id=grid.id, caption=caption, photos=[message.photo[-1].file_id]
    )
    report = PendingReport(
        source=message.message_id, draft=draft.to_data(), album=message.media_group_id
    )
    text, markup = await _next_question(session, app, grid, report, name, message.from_user.id)
    sent = await message.reply(text, reply_markup=markup)
    report.shown = sent.message_id
    pending = await pending_of(state)
    pending.put(report)
    await keep(state, pending)


async def _next_question(
    session: AsyncSession,
    app: AppContext,
    grid: Grid,
    report: PendingReport,
    name: str,
    reporter: int,
) -> tuple[str, InlineKeyboardMarkup]:
    """The prompt for the first missing part, or the draft to confirm."""
    language = app.settings.default_language
    chat_id = grid.group_chat_id or 0
    link = _link(app, chat_id, report.source)
    report.missing = missing_of(report.draft)
    categories = await reporting.categories(session)
    if report.missing is Missing.CATEGORY:
        return render.ask_category(app, language, name, categories, reporter, link)
    if report.missing is Missing.PLACE:
        return render.ask_place(app, language, name, link)
    draft = Draft.from_data(report.draft)
    duplicates = await reporting.duplicates(session, draft, app.clock.now())
    return render.preview(
        app, language, name, draft, grid.name, categories, reporter, link, duplicates
    )


async def album_photo(message: Message, state: FSMContext) -> None:
    """A further photo of an album whose first (captioned) photo started a report. Seen only
    where the bot is an administrator: privacy mode hides uncaptioned photos."""
    assert message.photo and message.media_group_id
    pending = await pending_of(state)
    report = pending.by_album(message.media_group_id)
    if report is None:
        raise SkipHandler
    photos = list(report.draft.get("photos") or [])
    if len(photos) < reporting.MAX_PHOTOS:
        photos.append(message.photo[-1].file_id)
    report.draft["photos"] = photos
    pending.put(report)
    await keep(state, pending)


# --- answering the place prompt -------------------------------------------------------------


async def place_answer(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    bot: Bot,
) -> None:
    assert message.reply_to_message is not None
    pending = await pending_of(state)
    report = pending.by_shown(message.reply_to_message.message_id)
    if report is None or report.missing is not Missing.PLACE or message.from_user is None:
        raise SkipHandler
    language = app.settings.default_language
    name = render.mention(me.name if me else message.from_user.full_name, message.from_user.id)
    grid = await svc.bound_grid(session, message.chat.id)
    if grid is None or grid.id != report.draft.get("grid_id") or not svc.may_report(me, grid.id):
        pending.drop(report.source)
        await keep(state, pending)
        await message.reply(app.t("greport.stale", language))
        return
    if message.location is not None:
        report.draft["lat"] = message.location.latitude
        report.draft["lon"] = message.location.longitude
    elif reporting.check_address(message.text) is None:
        report.draft["address"] = (message.text or "").strip()
    else:
        await message.reply(
            app.t("report.address_too_long", language, limit=reporting.MAX_ADDRESS)
            if message.text and message.text.strip()
            else app.t("greport.place_wrong", language, name=name)
        )
        return
    text, markup = await _next_question(session, app, grid, report, name, message.from_user.id)
    sent = await message.reply(text, reply_markup=markup)
    await _retire(bot, message.chat.id, report.shown)
    report.shown = sent.message_id
    pending.put(report)
    await keep(state, pending)


async def _retire(bot: Bot, chat_id: int, message_id: int | None) -> None:
    """An answered prompt loses its buttons, so nothing old can be pressed."""
    if message_id is None:
        return
    try:
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except TelegramAPIError as exc:
        log.info("prompt %s in %s kept its buttons: %s", message_id, chat_id, exc)


# --- presses -----------------------------------------------------------------------------


async def pressed(
    query: CallbackQuery,
    callback_data: GroupReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    if query.from_user.id != callback_data.r:
        await query.answer(app.t("greport.not_yours", language), show_alert=True)
        return
    pending = await pending_of(state)
    report = pending.by_shown(message.message_id) if message is not None else None
    grid = await svc.bound_grid(session, message.chat.id) if message is not None else None
    if (
        report is None
        or message is None
        or grid is None
        or grid.id != report.draft.get("grid_id")
        or not svc.may_report(me, grid.id)
        or me is None
    ):
        await query.answer(app.t("greport.stale", language), show_alert=True)
        return
    group_language = app.settings.default_language
    name = render.mention(me.name, query.from_user.id)
    if callback_data.k is GroupPress.DROP:
        pending.drop(report.source)
        await keep(state, pending)
        await query.answer()
        await message.edit_text(app.t("greport.dropped", group_language, name=name))
        return
    if callback_data.k is GroupPress.CATEGORY:
        draft = svc.with_category(
            Draft.from_data(report.draft), await reporting.categories(session), callback_data.x
        )
        if draft is None or report.missing is not Missing.CATEGORY:
            await query.answer(app.t("greport.stale", language), show_alert=True)
            return
        report.draft = draft.to_data()
        text, markup = await _next_question(session, app, grid, report, name, me.tg_id or 0)
        pending.put(report)
        await keep(state, pending)
        await query.answer()
        await message.edit_text(text, reply_markup=markup)
        return
    if callback_data.k is GroupPress.ADD_TO:
        await add_to(query, message, state, session, app, me, pending, report, language,
                     case_id=callback_data.x)  # fmt: skip
        return
    await submit(query, message, state, session, app, me, pending, report, language)


# --- on to the private chat ----------------------------------------------------------------


async def from_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
    bot: Bot,
    fsm_storage: BaseStorage,
) -> None:
    """The deep link of a group report: its draft continues with /report's own steps."""
    chat_part, _, source_part = (command.args or "").removeprefix(LINK_PREFIX).partition("_")
    user = message.from_user
    if not (chat_part.isdigit() and source_part.isdigit()) or user is None:
        await message.answer(app.t("greport.stale", language))
        return
    chat_id, source = -int(chat_part), int(source_part)
    key = StorageKey(bot_id=bot.id, chat_id=chat_id, user_id=user.id)
    group_state = FSMContext(storage=fsm_storage, key=key)
    pending = await pending_of(group_state)
    report = pending.by_source(source)
    grid_id = report.draft.get("grid_id") if report else None
    if report is None or not isinstance(grid_id, int) or not svc.may_report(me, grid_id):
        await message.answer(app.t("greport.stale", language))
        return
    pending.drop(source)
    await keep(group_state, pending)
    if not report.draft.get("description") and report.draft.get("category"):
        report.draft["description"] = report.draft["category"]  # as a group submit does
    missing = missing_of(report.draft)
    await state.clear()
    # One part missing: ask it, then the summary. Both: /report's steps from the category on.
    both = missing is Missing.CATEGORY and missing_of({**report.draft, "category": "x"})
    await state.update_data(draft=report.draft, editing=not both)
    await message.answer(app.t("greport.continue_private", language))
    step = {Missing.CATEGORY: "category", Missing.PLACE: "location", None: "confirm"}[missing]
    await ask(message, state, session, app, language, step)
    if report.shown is not None:
        name = render.mention(me.name if me else user.full_name, user.id)
        try:
            await bot.edit_message_text(
                chat_id=chat_id,
                message_id=report.shown,
                text=app.t("greport.moved", app.settings.default_language, name=name),
            )
        except TelegramAPIError as exc:
            log.info("group report %s in %s not marked as moved: %s", source, chat_id, exc)
