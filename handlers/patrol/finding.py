"""A checklist problem (有问题): describe it, pick the severity, and the hazard case is opened
prefilled with the patrol's grid, place and the item as category; then back to the
checklist. "跳过" records the problem on the item without a case."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.cases import CaseRender
from bot.render.patrol import render_checklist, severity_markup
from bot.render.patrol_buttons import PatrolAct, PatrolSeverity, PatrolStep
from domain.identity import Identity
from handlers.patrol.common import prefill_patrol, stale
from handlers.patrol.states import REPORT_PREFILL_KEY, PatrolFlow
from services import patrols as svc
from services.cases import load_config
from storage.models import Grid, Patrol


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(got_finding, PatrolFlow.finding, F.text)
    r.callback_query.register(got_severity, PatrolSeverity.filter(), PatrolFlow.severity)
    r.message.register(severity_expected, PatrolFlow.severity)
    r.message.register(finding_expected, PatrolFlow.finding)
    r.callback_query.register(
        skip_finding, PatrolStep.filter(F.a == PatrolAct.SKIP), PatrolFlow.finding
    )
    return r


MAX_FINDING = 1000


async def got_finding(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    note = (message.text or "").strip()[:MAX_FINDING]
    patrol = await prefill_patrol(state, session, me)
    if patrol is None:
        await stale(message, state, app, language)
        return
    await state.update_data(finding=note)
    await state.set_state(PatrolFlow.severity)
    severities = await svc.finding_severities(session)
    await message.answer(
        app.t("patrol.ask_severity", language),
        reply_markup=severity_markup(app, language, patrol.id or 0, severities),
    )


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
    patrol = await prefill_patrol(state, session, me)
    if message is None or me is None or patrol is None:
        await query.answer(app.t("patrol.stale", language), show_alert=True)
        return
    if callback_data.s not in await svc.finding_severities(session):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    data = await state.get_data()
    prefill = data.get(REPORT_PREFILL_KEY) or {}
    note = str(data.get("finding") or "")
    cfg = await load_config(
        session, default_language=app.settings.default_language, calendar=app.calendar
    )
    case_code = await svc.report_finding(
        session,
        reporter=me,
        patrol=patrol,
        category=str(prefill.get("category") or ""),
        description=note,
        severity=callback_data.s,
        now=app.clock.now(),
        texts=CaseRender(app.translator, app.settings.default_language, cfg.tz),
        cfg=cfg,
    )
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await _back_to_checklist(
        message, state, session, app, language, patrol, note=note, case_code=case_code
    )


async def severity_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.severity_expected", language))


async def finding_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.finding_expected", language))


async def skip_finding(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = query.message if isinstance(query.message, Message) else None
    patrol = await prefill_patrol(state, session, me)
    if message is None or patrol is None:
        await query.answer(app.t("patrol.stale", language), show_alert=True)
        return
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)
    await _back_to_checklist(message, state, session, app, language, patrol, note="")


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
