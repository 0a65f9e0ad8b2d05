"""/today: the leader's daily digest on demand, and the digest's buttons."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.digest import DigestButtonData, DigestCB
from domain.identity import Identity
from services import digest as service
from services.cases import cases_led_in_status
from services.chasing import load_rules
from storage.outbox import enqueue


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(today, Command("today"))
    r.callback_query.register(waiting, DigestCB.filter(F.what == "w"))
    r.callback_query.register(full, DigestCB.filter(F.what == "full"))
    return r


WAITING = ("reported", "accepted", "feedback")


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
    now = app.clock.now()
    body = await service.full_lists(
        session, person_id=me.person_id, now=now, tz=rules.tz, t=app.translator.t, lang=language
    )
    if body is None:
        await query.answer(app.t("digest.not_leader", language), show_alert=True)
        return
    day = service.day_label(now, rules.tz)
    await enqueue(
        session,
        key=f"digest_full:{me.person_id}:{query.id}",
        kind="document",
        chat_id=me.tg_id,
        person_id=me.person_id,
        text=app.t("digest.full_caption", language),
        document_name=f"digest-{day}.txt",
        document_body=body,
        now=now,
    )
    await query.answer(app.t("digest.full_queued", language))
