"""The end of a group report (handlers/group_report.py): submitted through /report's own
service, or added to a possible duplicate as a comment; and the reporter's pending group
reports as kept in their conversation state in that group."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render import group_report as render
from domain.group_report import PENDING_KEY, Pending, PendingReport
from domain.identity import Identity
from handlers.cases.common import tools
from services import group_report as svc
from services import reporting
from services.reporting import Draft, DraftProblem


async def pending_of(state: FSMContext) -> Pending:
    return Pending.from_state(await state.get_data())


async def keep(state: FSMContext, pending: Pending) -> None:
    await state.update_data({PENDING_KEY: pending.to_state()})


async def add_to(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity,
    pending: Pending,
    report: PendingReport,
    language: str,
    *,
    case_id: int,
) -> None:
    """The report joins a possible duplicate as a comment (worked out again, not trusted)."""
    cfg, texts = await tools(session, app)
    draft = Draft.from_data(report.draft)
    if not draft.description and draft.category:
        draft.description = draft.category
    case = await reporting.add_as_comment(
        session, case_id=case_id, reporter=me, draft=draft, now=app.clock.now(),
        texts=texts, cfg=cfg,
    )  # fmt: skip
    if case is None:
        await query.answer(app.t("report.duplicate_gone", language), show_alert=True)
        return
    pending.drop(report.source)
    await keep(state, pending)
    await query.answer()
    name = render.mention(me.name, query.from_user.id)
    text = app.t("greport.added_to", app.settings.default_language, name=name, code=case.code)
    await message.edit_text(text)


async def submit(
    query: CallbackQuery,
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity,
    pending: Pending,
    report: PendingReport,
    language: str,
) -> None:
    if report.missing is not None:
        await query.answer(app.t("greport.stale", language), show_alert=True)
        return
    cfg, texts = await tools(session, app)
    result = await svc.submit(
        session,
        reporter=me,
        draft=Draft.from_data(report.draft),
        now=app.clock.now(),
        texts=texts,
        cfg=cfg,
    )
    if isinstance(result, DraftProblem):
        await query.answer(app.t(f"report.problem.{result.value}", language), show_alert=True)
        return
    pending.drop(report.source)
    await keep(state, pending)
    await query.answer()
    name = render.mention(me.name, query.from_user.id)
    await message.edit_text(
        app.t(
            "greport.submitted",
            app.settings.default_language,
            name=name,
            code=result.code,
            deadline=texts.when(result.deadline_at),
        )
    )
