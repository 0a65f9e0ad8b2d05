"""The grid tree: /tree and its pages, /grid_add, /grid_rename, /grid_move, /grid_archive."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.render.admin import ArchiveAction, TreeNav, archive_question, level_label, render_tree
from handlers.admin.common import actor, run, show
from services import admin
from services.admin import AdminError


async def show_tree(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.tree_page(session, code=a[0] if a else None),
    )
    if done is not None:
        text, markup = render_tree(app, language, done[1])
        await message.answer(text, reply_markup=markup)


async def turn_tree_page(
    query: CallbackQuery,
    callback_data: TreeNav,
    bot: Bot,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    try:
        page = await admin.tree_page(session, root_id=callback_data.root, page=callback_data.page)
    except AdminError as err:
        await query.answer(app.t(err.key, language), show_alert=True)
        return
    await query.answer()
    text, markup = render_tree(app, language, page)
    await show(query, bot, text, markup)


async def grid_add(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.add_grid(
            session, parent_code=a[0], code=a[1], name=a[2], actor_tg_id=actor(message)
        ),
    )
    if done is None:
        return
    (parent, _code, _name), grid = done
    await message.answer(
        app.t(
            "admin.grid_added",
            language,
            code=html.quote(grid.code),
            name=html.quote(grid.name),
            label=level_label(app, language, grid.level_label, grid.level),
            parent=html.quote(parent) if parent not in admin.ROOT_MARKERS else "-",
        )
    )


async def grid_rename(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.rename_grid(session, code=a[0], name=a[1], actor_tg_id=actor(message)),
    )
    if done is None:
        return
    grid, old = done[1]
    await message.answer(
        app.t(
            "admin.grid_renamed",
            language,
            code=html.quote(grid.code),
            old=html.quote(old),
            name=html.quote(grid.name),
        )
    )


async def grid_move(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message,
        command,
        app,
        language,
        lambda a: admin.move_grid(session, code=a[0], parent_code=a[1], actor_tg_id=actor(message)),
    )
    if done is None:
        return
    (_code, parent), (grid, size) = done
    await message.answer(
        app.t(
            "admin.grid_moved",
            language,
            code=html.quote(grid.code),
            parent=html.quote(parent) if parent.lower() not in admin.ROOT_MARKERS else "-",
            count=size,
            level=grid.level,
        )
    )


async def grid_archive(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    done = await run(
        message, command, app, language, lambda a: admin.archive_preview(session, code=a[0])
    )
    if done is not None:
        text, markup = archive_question(app, language, *done[1])
        await message.answer(text, reply_markup=markup)


async def grid_archive_answer(
    query: CallbackQuery,
    callback_data: ArchiveAction,
    bot: Bot,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    if not callback_data.confirm:
        await query.answer()
        await show(query, bot, app.t("admin.archive_cancelled", language), None)
        return
    try:
        grid, count = await admin.archive_grid(
            session,
            grid_id=callback_data.grid_id,
            actor_tg_id=query.from_user.id,
            now=app.clock.now(),
        )
    except AdminError as err:
        await query.answer(app.t(err.key, language), show_alert=True)
        return
    await query.answer()
    code, name = html.quote(grid.code), html.quote(grid.name)
    text = app.t("admin.archived", language, code=code, name=name, count=count)
    await show(query, bot, text, None)
