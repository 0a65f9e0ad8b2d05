"""/start: greet people, follow invites, tell strangers how to join."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import set_admin_menu
from bot.context import AppContext
from bot.keyboards import main_menu
from domain.identity import Identity
from services.invites import InviteProblem, Redeemed, redeem_invite
from storage.people import identity_of


def router() -> Router:
    r = Router(name=__name__)
    r.message.filter(F.chat.type == "private")
    r.message.register(follow_invite, CommandStart(deep_link=True, magic=F.args.startswith("inv_")))
    r.message.register(start, CommandStart())
    return r


def render_greeting(app: AppContext, me: Identity, language: str) -> str:
    lines = [app.t("start.greet_known", language, name=html.quote(me.name))]
    if me.holdings:
        lines += [
            app.t(
                "start.role_line",
                language,
                grid=html.quote(h.grid_name),
                code=html.quote(h.grid_code),
                role=html.quote(h.role_label),
            )
            for h in me.holdings
        ]
    else:
        lines.append(app.t("start.no_roles", language))
    if me.is_admin:
        lines.append(app.t("start.admin_hint", language))
    lines.append(app.t("start.menu_hint", language))
    return "\n".join(lines)


async def follow_invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    user = message.from_user
    assert user is not None and command.args is not None
    result = await redeem_invite(
        session,
        token=command.args,
        tg_id=user.id,
        name=user.full_name,
        username=user.username,
        language=None,
        now=app.clock.now(),
    )
    if isinstance(result, InviteProblem):
        await message.answer(app.t(f"start.invite_{result.value}", language))
        return
    await _welcome(message, result, session, app, language)


async def _welcome(
    message: Message, result: Redeemed, session: AsyncSession, app: AppContext, language: str
) -> None:
    key = "start.invite_already" if result.already_member else "start.invite_ok"
    me = await identity_of(
        session,
        result.person,
        default_language=app.settings.default_language,
        admin_ids=app.settings.admin_ids,
    )
    language = me.language if result.person.language else language
    await message.answer(
        app.t(key, language, grid=html.quote(result.grid.name), role=html.quote(result.role.label))
        + "\n\n"
        + render_greeting(app, me, language),
        reply_markup=main_menu(app.translator, language),
    )


async def start(
    message: Message, app: AppContext, me: Identity | None, language: str, is_admin: bool
) -> None:
    if is_admin and message.bot is not None:
        await set_admin_menu(message.bot, app.translator, message.chat.id)
    if me is None:
        await message.answer(app.t("start.stranger", language))
        return
    await message.answer(
        render_greeting(app, me, language), reply_markup=main_menu(app.translator, language)
    )
