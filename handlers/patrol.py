"""/patrol (巡查打卡): pick the grid → location → checklist → notes and photos → finish.

The flow runs in the private chat (the location button works there only); from a group,
/patrol answers with a deep link that opens it in private. Daily roles may instead do a
quick check-in: one tap, then the location.

A forwarded location is refused in the flow (the person is asked for their own, or a live,
location) and the attempt is kept, flagged, for the leader's digest. Other flags (outside the
geofence, too soon, the same coordinates) let the patrol go on but it will not count.

Hand-over to the hazard report (handlers/report.py, owned by the cases feature): when an
item is marked 有问题 the patrol stores in FSM data, under ``REPORT_PREFILL_KEY``::

    {"grid_id": int, "lat": float | None, "lon": float | None,
     "category": str,            # the checklist item's name (安全疏散, 用电 ...)
     "patrol_id": int, "item": int, "return_to": "patrol"}

and, if the report module offers ``start_prefilled(message, state, ...)``, hands over to it.
The report flow, once the case is opened (or abandoned), calls :func:`resume_after_report`
which shows the checklist again. Until the report module offers that entry point the
problem is recorded on the item with the person's note (a finding in the patrol ledger).
"""

from __future__ import annotations

import importlib
import logging
from datetime import datetime
from typing import Any, Final

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.i18n import Translator
from bot.keyboards import main_menu, menu_texts
from domain.identity import Holding, Identity
from domain.patrols import ChecklistResult, ItemStatus, PatrolFlag
from domain.periods import QuotaPeriod
from services import patrols as svc
from storage.models import Grid, Patrol

log = logging.getLogger(__name__)

router: Final[Router] = Router(name=__name__)

REPORT_PREFILL_KEY = "report_prefill"
DEEP_LINK = "patrol"


class PatrolFlow(StatesGroup):
    grid = State()
    mode = State()
    location = State()
    checklist = State()
    finding = State()
    severity = State()
    notes = State()


class PatrolPick(CallbackData, prefix="pp"):
    m: int  # membership id


class PatrolMode(CallbackData, prefix="pm"):
    m: int
    quick: bool


class PatrolItem(CallbackData, prefix="pi"):
    p: int  # patrol id
    i: int  # item index
    ok: bool


class PatrolStep(CallbackData, prefix="ps"):
    p: int
    a: str  # all_ok | next | finish | skip


class PatrolSeverity(CallbackData, prefix="pv"):
    p: int
    s: str  # general | major | critical


# --- rendering ------------------------------------------------------------------------------

_ICON = {None: "⬜", ItemStatus.OK: "✅", ItemStatus.PROBLEM: "⚠️"}


def render_checklist(
    app: AppContext, language: str, patrol: Patrol, grid_name: str
) -> tuple[str, InlineKeyboardMarkup]:
    checklist = svc.checklist_of(patrol)
    lines = [app.t("patrol.checklist_title", language, grid=html.quote(grid_name))]
    for item in checklist.items:
        line = f"{_ICON[item.status]} {html.quote(item.name)}"
        if item.status is ItemStatus.PROBLEM:
            line += " " + app.t("patrol.item_problem_mark", language)
            if item.note:
                line += f"：{html.quote(item.note)}"
        lines.append(line)
    lines.append(app.t("patrol.checklist_hint", language))
    assert patrol.id is not None
    rows = [
        [
            InlineKeyboardButton(
                text=app.t("patrol.btn_ok", language, item=item.name),
                callback_data=PatrolItem(p=patrol.id, i=i, ok=True).pack(),
            ),
            InlineKeyboardButton(
                text=app.t("patrol.btn_problem", language, item=item.name),
                callback_data=PatrolItem(p=patrol.id, i=i, ok=False).pack(),
            ),
        ]
        for i, item in enumerate(checklist.items)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=app.t("patrol.btn_all_ok", language),
                callback_data=PatrolStep(p=patrol.id, a="all_ok").pack(),
            ),
            InlineKeyboardButton(
                text=app.t("patrol.btn_next", language),
                callback_data=PatrolStep(p=patrol.id, a="next").pack(),
            ),
        ]
    )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def _flag_text(app: AppContext, language: str, flags: tuple[PatrolFlag, ...]) -> str:
    return "、".join(app.t(f"patrol.flag_{f.value}", language) for f in flags)


def render_pace(app: AppContext, language: str, status: svc.QuotaStatus) -> str:
    """ "本月第3次巡查，目标5次，还差2次，剩9天"."""
    period = app.t(f"patrol.period_{status.period.value}", language)
    params = {
        "period": period,
        "n": status.done,
        "quota": status.pace.quota,
        "left": status.left,
        "days": status.pace.days_left,
    }
    if status.pace.met:
        return app.t("patrol.pace_met", language, **params)
    return app.t("patrol.pace_left", language, **params)


def render_quota_line(app: AppContext, language: str, status: svc.QuotaStatus) -> str:
    """One quota for /my: done, expected by now, left."""
    key = "patrol.my_line_behind" if status.pace.behind else "patrol.my_line"
    return app.t(
        key,
        language,
        grid=html.quote(status.grid_name),
        role=html.quote(status.role_label),
        period=app.t(f"patrol.period_{status.period.value}", language),
        quota=status.pace.quota,
        done=status.done,
        expected=status.expected,
        left=status.left,
        days=status.pace.days_left,
    )


def render_quota_section(app: AppContext, language: str, statuses: list[svc.QuotaStatus]) -> str:
    """The /my section on patrol quotas (empty string when the person has none)."""
    if not statuses:
        return ""
    lines = [app.t("patrol.my_title", language)]
    lines += [render_quota_line(app, language, s) for s in statuses]
    return "\n".join(lines)


async def quota_section(
    session: AsyncSession, app: AppContext, me: Identity, language: str, now: datetime
) -> tuple[str, list[list[InlineKeyboardButton]]] | None:
    """The patrol-quota section of /my (handlers/my.py ``MY_SECTIONS``); None without quotas."""
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    text = render_quota_section(app, language, await svc.my_quotas(session, me, now, rules.tz))
    return (text, []) if text else None


def render_finished(app: AppContext, language: str, result: svc.Finished, grid_name: str) -> str:
    patrol = result.patrol
    problems = (
        len(ChecklistResult.from_dict(patrol.checklist).problems()) if patrol.checklist else 0
    )
    key = "patrol.done_quick" if patrol.kind == svc.QUICK else "patrol.done_full"
    lines = [app.t(key, language, grid=html.quote(grid_name), problems=problems)]
    if patrol.route and patrol.route.get("points_count", 0) > 1:
        lines.append(
            app.t(
                "patrol.route_summary",
                language,
                distance=round(float(patrol.route["distance_m"])),
                minutes=round(float(patrol.route["duration_s"]) / 60),
                points=patrol.route["points_count"],
            )
        )
    if not result.counted:
        lines.append(
            app.t("patrol.not_counted", language, reasons=_flag_text(app, language, result.flags))
        )
    if result.quota is not None:
        lines.append(render_pace(app, language, result.quota))
    return "\n".join(lines)


def location_keyboard(t: Translator, language: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=t.t("patrol.btn_location", language), request_location=True)]
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


# --- entry ----------------------------------------------------------------------------------


@router.message(Command("patrol"), F.chat.type != "private", StateFilter("*"))
async def patrol_in_group(message: Message, app: AppContext, language: str) -> None:
    link = app.deep_link(DEEP_LINK)
    await message.reply(
        app.t("patrol.go_private", language),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=app.t("patrol.btn_open_private", language), url=link)]
            ]
        ),
    )


def _is_patrol_button(message: Message, app: AppContext) -> bool:
    return message.text is not None and message.text in menu_texts(app.translator, "menu.patrol")


@router.message(
    F.chat.type == "private",
    CommandStart(deep_link=True, magic=F.args == DEEP_LINK),
    StateFilter("*"),
)
@router.message(F.chat.type == "private", Command("patrol"), StateFilter("*"))
async def patrol_start(
    message: Message, state: FSMContext, app: AppContext, me: Identity | None, language: str
) -> None:
    await _begin(message, state, app, me, language)


@router.message(F.chat.type == "private", F.text, _is_patrol_button, StateFilter("*"))
async def patrol_button(
    message: Message, state: FSMContext, app: AppContext, me: Identity | None, language: str
) -> None:
    await _begin(message, state, app, me, language)


async def _begin(
    message: Message, state: FSMContext, app: AppContext, me: Identity | None, language: str
) -> None:
    await state.clear()
    if me is None or not me.holdings:
        await message.answer(app.t("patrol.not_member", language))
        return
    if len(me.holdings) == 1:
        await _after_pick(message, state, app, me.holdings[0], language)
        return
    await state.set_state(PatrolFlow.grid)
    rows = [
        [
            InlineKeyboardButton(
                text=f"{h.grid_name}（{h.grid_code}）· {h.role_label}",
                callback_data=PatrolPick(m=h.membership_id).pack(),
            )
        ]
        for h in me.holdings
    ]
    await message.answer(
        app.t("patrol.pick_grid", language), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
    )


def _holding(me: Identity | None, membership_id: int) -> Holding | None:
    if me is None:
        return None
    return next((h for h in me.holdings if h.membership_id == membership_id), None)


@router.callback_query(PatrolPick.filter(), PatrolFlow.grid)
async def picked_grid(
    query: CallbackQuery,
    callback_data: PatrolPick,
    state: FSMContext,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    holding = _holding(me, callback_data.m)
    if holding is None or not isinstance(query.message, Message):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _after_pick(query.message, state, app, holding, language)


async def _after_pick(
    message: Message, state: FSMContext, app: AppContext, holding: Holding, language: str
) -> None:
    await state.update_data(
        m=holding.membership_id, grid_id=holding.grid_id, role_id=holding.role_id
    )
    if holding.quota_period == QuotaPeriod.DAY.value:
        await state.set_state(PatrolFlow.mode)
        buttons = [
            InlineKeyboardButton(
                text=app.t("patrol.btn_quick", language),
                callback_data=PatrolMode(m=holding.membership_id, quick=True).pack(),
            ),
            InlineKeyboardButton(
                text=app.t("patrol.btn_full", language),
                callback_data=PatrolMode(m=holding.membership_id, quick=False).pack(),
            ),
        ]
        await message.answer(
            app.t("patrol.pick_mode", language, grid=html.quote(holding.grid_name)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons]),
        )
        return
    await _ask_location(message, state, app, holding, svc.FULL, language)


@router.callback_query(PatrolMode.filter(), PatrolFlow.mode)
async def picked_mode(
    query: CallbackQuery,
    callback_data: PatrolMode,
    state: FSMContext,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    holding = _holding(me, callback_data.m)
    if holding is None or not isinstance(query.message, Message):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    kind = svc.QUICK if callback_data.quick else svc.FULL
    await _ask_location(query.message, state, app, holding, kind, language)


async def _ask_location(
    message: Message,
    state: FSMContext,
    app: AppContext,
    holding: Holding,
    kind: str,
    language: str,
) -> None:
    await state.update_data(kind=kind)
    await state.set_state(PatrolFlow.location)
    key = "patrol.ask_location_quick" if kind == svc.QUICK else "patrol.ask_location"
    await message.answer(
        app.t(key, language, grid=html.quote(holding.grid_name)),
        reply_markup=location_keyboard(app.translator, language),
    )


# --- the check-in ---------------------------------------------------------------------------


def is_forwarded(message: Message) -> bool:
    """Forwarded, by the current field or the legacy twins real updates still carry."""
    return bool(
        message.forward_origin is not None
        or message.forward_date is not None
        or message.forward_from is not None
        or message.forward_from_chat is not None
        or message.forward_sender_name is not None
    )


@router.message(PatrolFlow.location, F.location)
async def got_location(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    data = await state.get_data()
    holding = _holding(me, int(data.get("m", 0)))
    if me is None or holding is None:
        await state.clear()
        await message.answer(
            app.t("patrol.not_member", language), reply_markup=ReplyKeyboardRemove()
        )
        return
    assert message.location is not None
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    kind = str(data.get("kind", svc.FULL))
    forwarded = is_forwarded(message)
    checked = await svc.check_in(
        session,
        person_id=me.person_id,
        grid_id=holding.grid_id,
        role_id=holding.role_id,
        kind=kind,
        lat=message.location.latitude,
        lon=message.location.longitude,
        forwarded=forwarded,
        live=message.location.live_period is not None,
        now=app.clock.now(),
        rules=rules,
    )
    if forwarded:
        await message.answer(
            app.t("patrol.forwarded_refused", language),
            reply_markup=location_keyboard(app.translator, language),
        )
        return
    if kind == svc.QUICK:
        result = await svc.outcome(
            session, checked.patrol, identity=me, now=app.clock.now(), rules=rules
        )
        await state.clear()
        await message.answer(
            render_finished(app, language, result, holding.grid_name),
            reply_markup=main_menu(app.translator, language),
        )
        return
    await state.update_data(patrol_id=checked.patrol.id)
    await state.set_state(PatrolFlow.checklist)
    lines = [app.t("patrol.checked_in", language, grid=html.quote(holding.grid_name))]
    if checked.flags:
        lines.append(
            app.t(
                "patrol.flagged_warning", language, reasons=_flag_text(app, language, checked.flags)
            )
        )
    if checked.patrol.route is not None:
        lines.append(app.t("patrol.live_on", language))
    await message.answer("\n".join(lines), reply_markup=ReplyKeyboardRemove())
    text, markup = render_checklist(app, language, checked.patrol, holding.grid_name)
    await message.answer(text, reply_markup=markup)


@router.message(PatrolFlow.location)
async def location_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(
        app.t("patrol.location_expected", language),
        reply_markup=location_keyboard(app.translator, language),
    )


# --- live location --------------------------------------------------------------------------


@router.edited_message(F.location, F.chat.type == "private")
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


@router.message(
    F.location,
    F.location.live_period,
    F.chat.type == "private",
    StateFilter(None, PatrolFlow.checklist, PatrolFlow.notes),
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


# --- the checklist --------------------------------------------------------------------------


async def _own_patrol(
    query: CallbackQuery,
    patrol_id: int,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> tuple[Patrol, Grid, Message] | None:
    patrol = None
    if me is not None:
        patrol = await svc.own_open_patrol(session, patrol_id=patrol_id, person_id=me.person_id)
    if patrol is None or not isinstance(query.message, Message):
        await query.answer(app.t("patrol.stale", language), show_alert=True)
        return None
    grid = await session.get(Grid, patrol.grid_id)
    assert grid is not None
    return patrol, grid, query.message


@router.callback_query(PatrolItem.filter(), StateFilter("*"))
async def item_pressed(
    query: CallbackQuery,
    callback_data: PatrolItem,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _own_patrol(query, callback_data.p, session, app, me, language)
    if found is None:
        return
    patrol, grid, message = found
    try:
        checklist = await svc.mark_item(session, patrol, index=callback_data.i, ok=callback_data.ok)
    except KeyError:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await state.set_state(PatrolFlow.checklist)
    await state.update_data(patrol_id=patrol.id)
    text, markup = render_checklist(app, language, patrol, grid.name)
    if callback_data.ok:
        await query.answer()
        await message.edit_text(text, reply_markup=markup)
        return
    item = checklist.items[callback_data.i]
    await query.answer()
    await message.edit_text(text, reply_markup=None)
    prefill = {
        "grid_id": patrol.grid_id,
        "lat": patrol.lat,
        "lon": patrol.lon,
        "category": item.name,
        "patrol_id": patrol.id,
        "item": callback_data.i,
        "return_to": "patrol",
    }
    await state.update_data({REPORT_PREFILL_KEY: prefill})
    entry = _report_entry()
    if entry is not None:
        await entry(
            message=message,
            state=state,
            session=session,
            app=app,
            me=me,
            language=language,
            prefill=prefill,
        )
        return
    await state.set_state(PatrolFlow.finding)
    await message.answer(
        app.t("patrol.ask_finding", language, item=html.quote(item.name)),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=app.t("patrol.btn_skip", language),
                        callback_data=PatrolStep(p=patrol.id or 0, a="skip").pack(),
                    )
                ]
            ]
        ),
    )


def _report_entry() -> Any:
    """The report flow's prefilled entry point, when the cases feature offers one."""
    try:
        module = importlib.import_module("handlers.report")
    except ImportError:
        return None
    return getattr(module, "start_prefilled", None)


async def resume_after_report(
    bot: Bot,
    chat_id: int,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    case_id: int | None = None,
) -> bool:
    """Back to the patrol after the prefilled report: the checklist is shown again.

    Called by the report flow when ``data[REPORT_PREFILL_KEY]["return_to"] == "patrol"``.
    Links the case to the patrol (``Case.patrol_id`` is set by the report flow from the
    prefill). False when the patrol is gone (finished elsewhere, or not this person's)."""
    data = await state.get_data()
    prefill = data.get(REPORT_PREFILL_KEY) or {}
    patrol = await session.get(Patrol, int(prefill.get("patrol_id", 0) or 0))
    await state.update_data({REPORT_PREFILL_KEY: None})
    if patrol is None or patrol.status != svc.OPEN:
        await state.clear()
        return False
    grid = await session.get(Grid, patrol.grid_id)
    assert grid is not None
    await state.set_state(PatrolFlow.checklist)
    await state.update_data(patrol_id=patrol.id)
    key = "patrol.back_from_report" if case_id is not None else "patrol.back_to_patrol"
    await bot.send_message(chat_id, app.t(key, language), reply_markup=ReplyKeyboardRemove())
    text, markup = render_checklist(app, language, patrol, grid.name)
    await bot.send_message(chat_id, text, reply_markup=markup)
    return True


@router.message(PatrolFlow.finding, F.text)
async def got_finding(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    note = (message.text or "").strip()[:1000]
    patrol = await _prefill_patrol(state, session, me)
    if patrol is None:
        await _stale(message, state, app, language)
        return
    await state.update_data(finding=note)
    severities = _hazard_severities(await _deployment_severities(session))
    if not severities:
        # The hazard report is not available in this build: keep the finding on the item.
        await _back_to_checklist(message, state, session, app, language, patrol, note=note)
        return
    await state.set_state(PatrolFlow.severity)
    buttons = [
        InlineKeyboardButton(
            text=app.t(f"patrol.severity_{s}", language),
            callback_data=PatrolSeverity(p=patrol.id or 0, s=s).pack(),
        )
        for s in severities
    ]
    await message.answer(
        app.t("patrol.ask_severity", language),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[buttons]),
    )


async def _deployment_severities(session: AsyncSession) -> dict[str, Any] | None:
    from storage.models import Deployment

    dep = await session.get(Deployment, 1)
    return dep.severities if dep is not None else None


def _reporting() -> Any:
    """services.reporting (the cases feature), when present in this build."""
    try:
        return importlib.import_module("services.reporting")
    except ImportError:  # pragma: no cover - only before the cases feature lands
        return None


def _hazard_severities(configured: dict[str, Any] | None) -> list[str]:
    reporting = _reporting()
    if reporting is None:
        return []
    return [str(s.value) for s in reporting.severities_offered(configured)]


async def _prefill_patrol(
    state: FSMContext, session: AsyncSession, me: Identity | None
) -> Patrol | None:
    if me is None:
        return None
    prefill = (await state.get_data()).get(REPORT_PREFILL_KEY) or {}
    return await svc.own_open_patrol(
        session, patrol_id=int(prefill.get("patrol_id", 0) or 0), person_id=me.person_id
    )


async def _stale(message: Message, state: FSMContext, app: AppContext, language: str) -> None:
    await state.clear()
    await message.answer(
        app.t("patrol.stale", language), reply_markup=main_menu(app.translator, language)
    )


async def _back_to_checklist(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    patrol: Patrol,
    *,
    note: str,
    case_code: str | None = None,
) -> None:
    data = await state.get_data()
    prefill = data.get(REPORT_PREFILL_KEY) or {}
    if case_code:
        note = (
            f"{note}（{app.t('patrol.case_ref', language, code=case_code)}）" if note else case_code
        )
    await svc.mark_item(
        session, patrol, index=int(prefill.get("item", 0)), ok=False, note=note[:500]
    )
    await state.update_data({REPORT_PREFILL_KEY: None, "finding": None})
    await state.set_state(PatrolFlow.checklist)
    grid = await session.get(Grid, patrol.grid_id)
    assert grid is not None
    if case_code:
        await message.answer(app.t("patrol.hazard_opened", language, code=html.quote(case_code)))
    else:
        await message.answer(app.t("patrol.finding_recorded", language))
    text, markup = render_checklist(app, language, patrol, grid.name)
    await message.answer(text, reply_markup=markup)


@router.callback_query(PatrolSeverity.filter(), PatrolFlow.severity)
async def got_severity(
    query: CallbackQuery,
    callback_data: PatrolSeverity,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    patrol = await _prefill_patrol(state, session, me)
    reporting = _reporting()
    if message is None or me is None or patrol is None or reporting is None:
        await query.answer(app.t("patrol.stale", language), show_alert=True)
        return
    if callback_data.s not in _hazard_severities(await _deployment_severities(session)):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    data = await state.get_data()
    prefill = data.get(REPORT_PREFILL_KEY) or {}
    note = str(data.get("finding") or "")
    case_code = await _open_hazard(
        session,
        app,
        me,
        reporting,
        patrol=patrol,
        prefill=prefill,
        description=note,
        severity=callback_data.s,
    )
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await _back_to_checklist(
        message, state, session, app, language, patrol, note=note, case_code=case_code
    )


async def _open_hazard(
    session: AsyncSession,
    app: AppContext,
    me: Identity,
    reporting: Any,
    *,
    patrol: Patrol,
    prefill: dict[str, Any],
    description: str,
    severity: str,
) -> str | None:
    """Open the hazard case through the cases feature's service; its code, or None."""
    # Imported by name: the cases feature is a separate module set, loaded when present.
    render = importlib.import_module("bot.render.cases")
    cases = importlib.import_module("services.cases")
    cfg = await cases.load_config(session, default_language=app.settings.default_language)
    texts = render.CaseRender(app.translator, app.settings.default_language, cfg.tz)
    draft = reporting.Draft(
        grid_id=patrol.grid_id,
        category=str(prefill.get("category") or ""),
        description=description or str(prefill.get("category") or ""),
        lat=patrol.lat,
        lon=patrol.lon,
        severity=severity,
        patrol_id=patrol.id,
    )
    result = await reporting.submit(
        session, reporter=me, draft=draft, now=app.clock.now(), texts=texts, cfg=cfg
    )
    code = getattr(result, "code", None)
    return str(code) if code else None


@router.message(PatrolFlow.severity)
async def severity_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.severity_expected", language))


@router.message(PatrolFlow.finding)
async def finding_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.finding_expected", language))


@router.callback_query(PatrolStep.filter(F.a == "skip"), PatrolFlow.finding)
async def skip_finding(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    patrol = await _prefill_patrol(state, session, me)
    if message is None or patrol is None:
        await query.answer(app.t("patrol.stale", language), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await _back_to_checklist(message, state, session, app, language, patrol, note="")


@router.callback_query(PatrolStep.filter(F.a == "all_ok"), StateFilter("*"))
async def all_ok(
    query: CallbackQuery,
    callback_data: PatrolStep,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _own_patrol(query, callback_data.p, session, app, me, language)
    if found is None:
        return
    patrol, grid, message = found
    await svc.mark_rest_ok(session, patrol)
    await query.answer()
    text, markup = render_checklist(app, language, patrol, grid.name)
    await message.edit_text(text, reply_markup=markup)


def _finish_markup(app: AppContext, language: str, patrol_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=app.t("patrol.btn_finish", language),
                    callback_data=PatrolStep(p=patrol_id, a="finish").pack(),
                )
            ]
        ]
    )


@router.callback_query(PatrolStep.filter(F.a == "next"), StateFilter("*"))
async def to_notes(
    query: CallbackQuery,
    callback_data: PatrolStep,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _own_patrol(query, callback_data.p, session, app, me, language)
    if found is None:
        return
    patrol, grid, message = found
    await svc.mark_rest_ok(session, patrol)
    await query.answer()
    text, _ = render_checklist(app, language, patrol, grid.name)
    await message.edit_text(text, reply_markup=None)
    await state.set_state(PatrolFlow.notes)
    await state.update_data(patrol_id=patrol.id)
    await message.answer(
        app.t("patrol.ask_notes", language),
        reply_markup=_finish_markup(app, language, patrol.id or 0),
    )


async def _notes_patrol(
    state: FSMContext, session: AsyncSession, me: Identity | None
) -> Patrol | None:
    if me is None:
        return None
    data = await state.get_data()
    return await svc.own_open_patrol(
        session, patrol_id=int(data.get("patrol_id", 0) or 0), person_id=me.person_id
    )


@router.message(PatrolFlow.notes, F.photo)
async def got_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    patrol = await _notes_patrol(state, session, me)
    if patrol is None or not message.photo:
        await state.clear()
        await message.answer(
            app.t("patrol.stale", language), reply_markup=main_menu(app.translator, language)
        )
        return
    count = await svc.add_photo(session, patrol, message.photo[-1].file_id)
    if message.caption:
        await svc.add_note(session, patrol, message.caption)
    await message.answer(
        app.t("patrol.photo_added", language, count=count),
        reply_markup=_finish_markup(app, language, patrol.id or 0),
    )


@router.message(PatrolFlow.notes, F.text)
async def got_note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    patrol = await _notes_patrol(state, session, me)
    if patrol is None:
        await state.clear()
        await message.answer(
            app.t("patrol.stale", language), reply_markup=main_menu(app.translator, language)
        )
        return
    await svc.add_note(session, patrol, message.text or "")
    await message.answer(
        app.t("patrol.note_added", language),
        reply_markup=_finish_markup(app, language, patrol.id or 0),
    )


@router.message(PatrolFlow.notes)
async def notes_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.notes_expected", language))


@router.callback_query(PatrolStep.filter(F.a == "finish"), StateFilter("*"))
async def finish(
    query: CallbackQuery,
    callback_data: PatrolStep,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _own_patrol(query, callback_data.p, session, app, me, language)
    if found is None or me is None:
        return
    patrol, grid, message = found
    rules = await svc.patrol_rules(session, default_tz=app.settings.tz)
    result = await svc.finish_patrol(session, patrol, identity=me, now=app.clock.now(), rules=rules)
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await state.clear()
    await message.answer(
        render_finished(app, language, result, grid.name),
        reply_markup=main_menu(app.translator, language),
    )
