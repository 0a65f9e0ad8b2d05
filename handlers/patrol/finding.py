"""A checklist problem (有问题) reported as a hazard, the way /report does it: describe it,
send photos (or none) and press 完成, pick the severity, then confirm the summary (grid,
place and the deployment's category for the item are filled in from the patrol); the case
is opened only on ✅ 提交, and the checklist comes back. « 返回 goes back to the severity;
"跳过" / "不上报" records the problem on the item without a case."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render import patrol_finding as render
from bot.render.cases import CaseRender
from bot.render.patrol import render_checklist, severity_markup
from bot.render.patrol_buttons import PatrolAct, PatrolSeverity, PatrolStep
from domain.categories import by_label
from domain.identity import Identity
from handlers.patrol.common import prefill_patrol, stale
from handlers.patrol.states import REPORT_PREFILL_KEY, PatrolFlow
from services import patrols as svc
from services import reporting
from services.cases import load_config
from storage.models import Grid, Patrol

PHOTOS_KEY = "finding_photos"
SEVERITY_KEY = "finding_severity"


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(got_finding, PatrolFlow.finding, F.text)
    r.message.register(finding_expected, PatrolFlow.finding)
    r.message.register(got_photo, PatrolFlow.finding_photos, F.photo)
    r.message.register(photos_expected, PatrolFlow.finding_photos)
    r.callback_query.register(
        photos_done,
        PatrolStep.filter(F.a == PatrolAct.FINDING_PHOTOS_DONE),
        PatrolFlow.finding_photos,
    )
    r.callback_query.register(got_severity, PatrolSeverity.filter(), PatrolFlow.severity)
    r.message.register(severity_expected, PatrolFlow.severity)
    r.callback_query.register(
        file_finding, PatrolStep.filter(F.a == PatrolAct.FINDING_FILE), PatrolFlow.finding_confirm
    )
    r.callback_query.register(
        back_to_severity,
        PatrolStep.filter(F.a == PatrolAct.FINDING_BACK),
        PatrolFlow.finding_confirm,
    )
    r.message.register(confirm_expected, PatrolFlow.finding_confirm)
    problem_steps = StateFilter(
        PatrolFlow.finding,
        PatrolFlow.finding_photos,
        PatrolFlow.severity,
        PatrolFlow.finding_confirm,
    )
    r.callback_query.register(skip_finding, PatrolStep.filter(F.a == PatrolAct.SKIP), problem_steps)
    return r


MAX_FINDING = 1000


async def _pressed(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
    *,
    ready: bool = True,
) -> tuple[Message, Patrol] | None:
    """The message pressed and the open patrol whose problem is being reported, if it is the
    presser's (and the step is `ready`); else the press is answered as stale."""
    message = query.message if isinstance(query.message, Message) else None
    patrol = await prefill_patrol(state, session, me)
    if message is None or patrol is None or me is None or not ready:
        await query.answer(app.t("patrol.stale", language), show_alert=True)
        return None
    return message, patrol


async def _close(query: CallbackQuery, message: Message) -> None:
    """The press is taken: answered, and its buttons gone so it cannot be taken twice."""
    await query.answer()
    await message.edit_reply_markup(reply_markup=None)


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
    await state.update_data({"finding": note, PHOTOS_KEY: [], "albums": []})
    await state.set_state(PatrolFlow.finding_photos)
    text, markup = render.photos_question(app, language, patrol.id or 0, 0)
    await message.answer(text, reply_markup=markup)


async def got_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    assert message.photo
    patrol = await prefill_patrol(state, session, me)
    if patrol is None:
        await stale(message, state, app, language)
        return
    data = await state.get_data()
    photos = list(data.get(PHOTOS_KEY) or [])
    if len(photos) >= reporting.MAX_PHOTOS:
        await message.answer(app.t("report.photos_full", language, limit=reporting.MAX_PHOTOS))
        return
    photos.append(message.photo[-1].file_id)
    albums = list(data.get("albums") or [])
    album = message.media_group_id
    first_of_album = album is not None and album not in albums
    if album is not None and first_of_album:
        albums.append(album)
    await state.update_data({PHOTOS_KEY: photos, "albums": albums[-5:]})
    if album is None or first_of_album:  # an album is answered once
        text, markup = render.photo_received(app, language, patrol.id or 0, len(photos))
        await message.answer(text, reply_markup=markup)


async def photos_expected(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    patrol = await prefill_patrol(state, session, me)
    if patrol is None:
        await stale(message, state, app, language)
        return
    await message.answer(
        app.t("report.photos_wrong", language),
        reply_markup=render.photos_done_markup(app, language, patrol.id or 0),
    )


async def photos_done(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _pressed(query, state, session, app, me, language)
    if found is None:
        return
    message, patrol = found
    photos = len((await state.get_data()).get(PHOTOS_KEY) or [])
    await query.answer(app.t("report.photos_count", language, n=photos))
    await _ask_severity(message, state, session, app, language, patrol)


async def _ask_severity(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    language: str,
    patrol: Patrol,
) -> None:
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
    """The severity picked: the summary to confirm (nothing is filed yet)."""
    found = await _pressed(query, state, session, app, me, language)
    if found is None or me is None:
        return
    message, patrol = found
    if callback_data.s not in await svc.finding_severities(session):
        await query.answer(app.t("error.stale_button", language), show_alert=True)
        return
    await state.update_data({SEVERITY_KEY: callback_data.s.value})
    await state.set_state(PatrolFlow.finding_confirm)
    await _close(query, message)
    data = await state.get_data()
    prefill = data.get(REPORT_PREFILL_KEY) or {}
    label = str(prefill.get("category") or "")
    known = by_label(await reporting.categories(session), label)
    grid = await session.get(Grid, patrol.grid_id)
    text, markup = render.summary(
        app,
        language,
        patrol.id or 0,
        grid=grid.name if grid else "",
        category=known.shown(language) if known else label,
        description=str(data.get("finding") or ""),
        photos=len(data.get(PHOTOS_KEY) or []),
        place=f"📍 {patrol.lat:.5f}, {patrol.lon:.5f}" if patrol.lat and patrol.lon else "",
        severity=callback_data.s.value,
    )
    await message.answer(text, reply_markup=markup)


async def back_to_severity(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _pressed(query, state, session, app, me, language)
    if found is None:
        return
    message, patrol = found
    await _close(query, message)
    await _ask_severity(message, state, session, app, language, patrol)


async def file_finding(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    """✅ 提交: the hazard case is opened, then back to the checklist."""
    data = await state.get_data()
    severity = data.get(SEVERITY_KEY)
    found = await _pressed(query, state, session, app, me, language, ready=severity is not None)
    if found is None or me is None:
        return
    message, patrol = found
    prefill = data.get(REPORT_PREFILL_KEY) or {}
    note = str(data.get("finding") or "")
    cfg = await load_config(session, default_language=app.settings.default_language)
    case_code = await svc.report_finding(
        session,
        reporter=me,
        patrol=patrol,
        category=str(prefill.get("category") or ""),
        description=note,
        severity=str(severity),
        now=app.clock.now(),
        texts=CaseRender(app.translator, app.settings.default_language, cfg.tz),
        cfg=cfg,
        photos=list(data.get(PHOTOS_KEY) or []),
    )
    await _close(query, message)
    await _back_to_checklist(
        message, state, session, app, language, patrol, note=note, case_code=case_code
    )


async def severity_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.severity_expected", language))


async def finding_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("patrol.finding_expected", language))


async def confirm_expected(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("report.use_buttons", language))


async def skip_finding(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    found = await _pressed(query, state, session, app, me, language)
    if found is None:
        return
    message, patrol = found
    await _close(query, message)
    note = str((await state.get_data()).get("finding") or "")
    await _back_to_checklist(message, state, session, app, language, patrol, note=note)


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
    await state.update_data(
        {REPORT_PREFILL_KEY: None, "finding": None, PHOTOS_KEY: None, SEVERITY_KEY: None}
    )
    await state.set_state(PatrolFlow.checklist)
    grid = await session.get(Grid, patrol.grid_id)
    assert grid is not None
    if case_code:
        await message.answer(app.t("patrol.hazard_opened", language, code=html.quote(case_code)))
    else:
        await message.answer(app.t("patrol.finding_recorded", language))
    text, markup = render_checklist(app, language, patrol, grid.name)
    await message.answer(text, reply_markup=markup)
