"""The end of a report: submitted as a case, or added to a possible duplicate."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.keyboards import main_menu
from bot.render.cases import CaseRender
from bot.render.report import ReportCb
from domain.identity import Identity
from handlers.report.flow import draft_of, pressed
from services import reporting
from services.case_rules import Config, load_config
from services.reporting import DraftProblem


async def add_to_case(
    query: CallbackQuery,
    callback_data: ReportCb,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    """A possible duplicate: the report joins it as a comment instead of a case of its own."""
    message = pressed(query)
    if me is None or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    texts, cfg = await _case_texts(session, app)
    case = await reporting.add_as_comment(
        session,
        case_id=callback_data.x,
        reporter=me,
        draft=await draft_of(state),
        now=app.clock.now(),
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


async def submit(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    message = pressed(query)
    if me is None or message is None:
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    texts, cfg = await _case_texts(session, app)
    result = await reporting.submit(
        session, reporter=me, draft=await draft_of(state), now=app.clock.now(), texts=texts, cfg=cfg
    )
    if isinstance(result, DraftProblem):
        await query.answer(app.t(f"report.problem.{result.value}", language), show_alert=True)
        return
    await state.clear()
    await query.answer()
    deadline = texts.when(result.deadline_at)
    await message.answer(
        app.t("report.submitted", language, code=result.code, deadline=deadline),
        reply_markup=main_menu(app.translator, language),
    )


async def _case_texts(session: AsyncSession, app: AppContext) -> tuple[CaseRender, Config]:
    cfg = await load_config(
        session, default_language=app.settings.default_language, calendar=app.calendar
    )
    return CaseRender(app.translator, app.settings.default_language, cfg.tz), cfg
