"""Reading cases: /case CODE (the card and its ledger), /cases with its filters and pages,
and the cases part of /my."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from aiogram import Bot, Router, html
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.i18n import LANGUAGES, Translates
from bot.render.case_buttons import SEVERITY_FILTERS, CardTool, CaseList, CaseTool, ListFilter
from bot.render.case_lists import cases_page, history_text, waiting_section
from bot.render.cases import CaseRender
from domain.case_rules import CaseRules
from domain.cases import OPEN
from domain.identity import Identity
from handlers.cases.common import departments_of, press_chat, tools, visible
from services import case_photos
from services import cases as svc
from services.case_lists import cases_listed
from services.case_notify import build_view, person_actions
from services.case_photos import steps_with_photos
from services.case_rules import facts_of
from storage import cases as q
from storage.models import Case

FILTER_WORDS: Final[dict[str, ListFilter]] = {
    "未结": ListFilter.OPEN,
    "未结案": ListFilter.OPEN,
    "未办结": ListFilter.OPEN,
    "逾期": ListFilter.OVERDUE,
    "超期": ListFilter.OVERDUE,
    "待我处理": ListFilter.WAITING,
    "待办": ListFilter.WAITING,
    "待处理": ListFilter.WAITING,
    "重大": ListFilter.CRITICAL,
    "较大": ListFilter.MAJOR,
    "一般": ListFilter.GENERAL,
    "全部": ListFilter.ALL,
}
"""Chinese words /cases accepts besides the codes (and every language's filter labels)."""


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(show_case, Command("case"), StateFilter("*"))
    r.message.register(list_cases, Command("cases"), StateFilter("*"))
    r.callback_query.register(list_cases_page, CaseList.filter(), StateFilter("*"))
    return r


async def send_card(
    bot: Bot,
    session: AsyncSession,
    texts: CaseRender,
    case: Case,
    chat_id: int,
    me: Identity | None,
    language: str,
    *,
    now: datetime,
    rules: CaseRules,
) -> None:
    """The card, with the steps `me` may take on it (none without `me`) and where its stage
    stands against its 督办 limit at `now`."""
    view = await build_view(session, case, now=now, rules=rules)
    actions = person_actions(facts_of(case, view.grid), svc.actor_of(me)) if me else []
    text, _ = texts.card(view, actions, language)
    await bot.send_message(chat_id, text, reply_markup=texts.card_markup(view, actions, language))


async def history(
    session: AsyncSession, texts: CaseRender, case: Case, language: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The case's ledger (台账), with a button for its photos when a step has any."""
    events = await q.events_of(session, case.id or 0)
    people = await q.people_by_id(session, [e.actor_id for e in events])
    depts = {d.id: d.name for d in await q.live_departments(session)}
    names: dict[int | None, str] = {i: p.name for i, p in people.items()}
    text = history_text(texts, language, case, events, names, depts)
    if not steps_with_photos(case, events):
        return text, None
    button = InlineKeyboardButton(
        text=texts.t("cases.btn.photos", language),
        callback_data=CaseTool(id=case.id or 0, a=CardTool.PHOTOS).pack(),
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[[button]])


async def send_photos(
    query: CallbackQuery,
    session: AsyncSession,
    app: AppContext,
    case: Case,
    me: Identity | None,
    language: str,
) -> int:
    """The ledger's 照片: every step's photos, to the chat the button is in."""
    chat_id, chat_type = press_chat(query)
    _cfg, texts = await tools(session, app)
    return await case_photos.send_photos(
        session,
        case=case,
        chat_id=chat_id,
        person_id=me.person_id if me and chat_type == "private" else None,
        request=query.id,
        now=app.clock.now(),
        texts=texts,
        language=language,
    )


async def show_case(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    bot: Bot,
    me: Identity | None,
    language: str,
) -> None:
    code = (command.args or "").strip()
    if not code:
        await message.answer(app.t("cases.case_usage", language))
        return
    found = await q.case_by_code(session, code)
    depts = await departments_of(session, message.chat.id, message.chat.type)
    loaded = await visible(session, found.id or 0, me, depts) if found is not None else None
    if loaded is None:
        await message.answer(app.t("cases.not_found", language, code=html.quote(code)))
        return
    cfg, texts = await tools(session, app)
    private = message.chat.type == "private"
    await send_card(
        bot,
        session,
        texts,
        loaded.case,
        message.chat.id,
        me if private else None,
        language,
        now=app.clock.now(),
        rules=cfg.rules,
    )
    text, markup = await history(session, texts, loaded.case, language)
    await message.answer(text, reply_markup=markup)


def filter_of(args: str, app: Translates) -> ListFilter:
    """The /cases filter a typed word names: a code (open, ovd ...), a Chinese word (未结, 逾期,
    待我处理, 一般/较大/重大) or a filter's label in any language; "all" otherwise."""
    word = args.strip().lower()
    if word in ListFilter.__members__.values():
        return ListFilter(word)
    if word in FILTER_WORDS:
        return FILTER_WORDS[word]
    for language in LANGUAGES:
        for f in ListFilter:
            if word == app.t(f"cases.filter.{f.value}", language).strip().lower():
                return f
    return ListFilter.ALL


async def list_cases(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if me is None or not me.holdings:
        await message.answer(app.t("report.not_member", language))
        return
    flt = filter_of(command.args or "", app)
    text, markup = await _page(session, app, me, language, flt, 0)
    await message.answer(text, reply_markup=markup)


async def list_cases_page(
    query: CallbackQuery,
    callback_data: CaseList,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if me is None or not isinstance(query.message, Message):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    page = max(callback_data.p, 0)
    text, markup = await _page(session, app, me, language, callback_data.f, page)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


async def _page(
    session: AsyncSession, app: AppContext, me: Identity, language: str, flt: ListFilter, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    now = app.clock.now()
    _cfg, texts = await tools(session, app)
    found = await cases_listed(
        session,
        me,
        flt=q.CaseFilter(
            statuses=tuple(s.value for s in OPEN) if flt is ListFilter.OPEN else (),
            severity=flt.value if flt in SEVERITY_FILTERS else None,
            overdue=flt is ListFilter.OVERDUE,
        ),
        waiting=flt is ListFilter.WAITING,
        page=page,
        now=now,
    )
    return cases_page(
        app,
        texts,
        language,
        now,
        flt=flt,
        page=page,
        more=found.more,
        rows=found.rows,
        total=found.total,
    )


async def render_waiting(
    session: AsyncSession, app: AppContext, me: Identity, language: str, now: datetime
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """The cases part of /my: what waits for the person, nearest deadline first."""
    waiting = await svc.cases_waiting_for(session, me, now)
    _cfg, texts = await tools(session, app)
    return waiting_section(app, texts, language, now, waiting)
