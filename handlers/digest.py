"""/today: the leader's daily digest on demand, and the digest's buttons."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.digest import DigestButtonData, DigestCB, DigestView
from domain.cases import CaseStatus
from domain.identity import Identity
from services import digest as service
from services.cases import cases_led_in_status
from services.chasing import load_rules


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(today, Command("today"))
    r.callback_query.register(waiting, DigestCB.filter(F.what == DigestView.WAITING))
    r.callback_query.register(full, DigestCB.filter(F.what == DigestView.FULL))
    return r


WAITING = frozenset({CaseStatus.REPORTED, CaseStatus.ACCEPTED, CaseStatus.FEEDBACK})


async def today(
    message: Message, session: AsyncSession, app: AppContext, me: Identity | None, language: str
) -> None:
    if me is None or not me.led_grid_ids:
        await message.answer(app.t("digest.not_leader", language))
        return
    rules = await load_rules(session)
    rendered = await service.digest_of(
        session,
        person_id=me.person_id,
        now=app.clock.now(),
        tz=rules.tz,
        t=app.translator.t,
        buttons=DigestButtonData(),
        lang=language,
    )
    if rendered is None:
        await message.answer(app.t("digest.not_leader", language))
        return
    markup = InlineKeyboardMarkup.model_validate(rendered.markup) if rendered.markup else None
    await message.answer(rendered.text, reply_markup=markup)


async def waiting(
    query: CallbackQuery,
    callback_data: DigestCB,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if me is None or not me.led_grid_ids or callback_data.status not in WAITING:
        await query.answer(app.t("digest.not_leader", language), show_alert=True)
        return
    rows = await cases_led_in_status(session, me, status=callback_data.status)
    what = app.t(f"digest.what.{callback_data.status}", language)
    lines = [app.t("digest.waiting_head", language, what=what)]
    lines += [f"• {html.quote(c.code)} {html.quote(c.description[:60])}" for c in rows]
    if not rows:
        lines = [app.t("digest.waiting_none", language)]
    await query.answer()
    if query.message is not None:
        await query.bot.send_message(query.from_user.id, "\n".join(lines))  # type: ignore[union-attr]


async def full(
    query: CallbackQuery,
    session: AsyncSession,
    app: AppContext,
    me: Identity | None,
    language: str,
) -> None:
    if me is None or not me.led_grid_ids or me.tg_id is None:
        await query.answer(app.t("digest.not_leader", language), show_alert=True)
        return
    rules = await load_rules(session)
    queued = await service.send_full_lists(
        session,
        person_id=me.person_id,
        chat_id=me.tg_id,
        cause=query.id,
        caption=app.t("digest.full_caption", language),
        now=app.clock.now(),
        tz=rules.tz,
        t=app.translator.t,
        lang=language,
    )
    if not queued:
        await query.answer(app.t("digest.not_leader", language), show_alert=True)
        return
    await query.answer(app.t("digest.full_queued", language))
