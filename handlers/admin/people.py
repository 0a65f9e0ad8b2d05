"""People and roles (/members, /role, /remove, /admins), departments, invites and group
binding codes (/dept_add, /invite, /bind)."""

from __future__ import annotations

from aiogram import html
from aiogram.filters import CommandObject
from aiogram.types import Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.admin import admins_messages, members_messages
from handlers.admin.common import actor, run
from services import admin, groups


async def members(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message, command, app, language, lambda a: admin.grid_members(session, code=a[0])
    )
    if done is not None:
        for text in members_messages(app, language, *done[1]):
            await message.answer(text)


async def grant_role(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    def placeholder(who: str) -> str:
        return app.t("admin.placeholder_name", app.settings.default_language, tg_id=who.strip())

    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.grant_role(
            session,
            who=a[0],
            code=a[1],
            role=a[2],
            actor_tg_id=actor(message),
            placeholder_name=placeholder(a[0]),
        ),
    )
    if done is None:
        return
    got = done[1]
    text = app.t(
        "admin.role_already" if got.already else "admin.role_granted",
        language,
        name=html.quote(got.person.name),
        tg_id=got.person.tg_id if got.person.tg_id is not None else "-",
        code=html.quote(got.grid.code),
        grid=html.quote(got.grid.name),
        role=html.quote(got.role.label),
    )
    if got.new_person:
        text += "\n" + app.t("admin.role_new_person", language)
    await message.answer(text)


async def remove_role(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.remove_role(
            session,
            who=a[0],
            code=a[1],
            role=a[2] if len(a) > 2 else None,
            actor_tg_id=actor(message),
        ),
    )
    if done is None:
        return
    removed = done[1]
    await message.answer(
        app.t(
            "admin.role_removed",
            language,
            name=html.quote(removed.person.name),
            tg_id=removed.person.tg_id if removed.person.tg_id is not None else "-",
            code=html.quote(removed.grid.code),
            grid=html.quote(removed.grid.name),
            roles=html.quote("、".join(r.label for r in removed.roles)),
        )
    )


async def list_admins(
    message: Message, session: AsyncSession, app: AppContext, language: str
) -> None:
    rows = await admin.list_admins(session, admin_ids=app.settings.admin_ids)
    for text in admins_messages(app, language, rows):
        await message.answer(text)


async def dept_add(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.add_department(session, code=a[0], name=a[1], actor_tg_id=actor(message)),
    )
    if done is not None:
        code, name = html.quote(done[1].code), html.quote(done[1].name)
        await message.answer(app.t("admin.dept_added", language, code=code, name=name))


async def invite(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.new_invite(
            session,
            code=a[0],
            role=a[1],
            uses=a[2] if len(a) > 2 else None,
            days=a[3] if len(a) > 3 else None,
            actor_tg_id=actor(message),
            now=app.clock.now(),
        ),
    )
    if done is None:
        return
    made = done[1]
    expires = made.invite.expires_at.astimezone(app.settings.tz)
    await message.answer(
        app.t(
            "admin.invite_made",
            language,
            grid=html.quote(made.grid.name),
            code=html.quote(made.grid.code),
            role=html.quote(made.role.label),
            uses=made.invite.max_uses,
            expires=expires.strftime("%Y-%m-%d %H:%M"),
            link=html.quote(app.deep_link(made.invite.token)),
        )
    )


async def bind_code(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    """In private, `/bind <code>` gives a one-time code for binding a group (see groups.py)."""
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: groups.issue_bind_code(
            session, code=a[0], actor_tg_id=actor(message), now=app.clock.now()
        ),
    )
    if done is None:
        return
    issued = done[1]
    await message.answer(
        app.t(
            "admin.bind_code",
            language,
            code=html.quote(issued.target.code),
            name=html.quote(issued.target.name),
            token=issued.code,
            minutes=int(groups.BIND_CODE_TTL.total_seconds() // 60),
        )
    )
