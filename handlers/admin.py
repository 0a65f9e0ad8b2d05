"""Admin commands in the private chat: the grid tree, people and roles, departments, invites.

Only admins get through (`IsAdmin`, a router-wide filter); anyone else typing an admin
command, or pressing an admin button, gets a polite refusal and nothing happens. The work is
done in `services.admin`; this module parses, calls and renders.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import AppContext
from bot.keyboards import Callback
from services import admin, groups
from services.admin import AdminError
from services.groups import GroupError

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
admin_only: Final[Router] = Router(name=f"{__name__}.admin_only")
refused: Final[Router] = Router(name=f"{__name__}.refused")
router.include_routers(admin_only, refused)

ADMIN_COMMANDS: Final = (
    "tree",
    "grid_add",
    "grid_rename",
    "grid_move",
    "grid_archive",
    "members",
    "role",
    "remove",
    "admins",
    "dept_add",
    "invite",
    "bind",
)
MESSAGE_LIMIT = 4000  # Telegram allows 4096 characters; keep a margin for the header


class IsAdmin(Filter):
    """True for gridbot admins (settings.admin_ids or Person.is_admin), as Identify decided."""

    async def __call__(self, event: TelegramObject, is_admin: bool = False) -> bool:
        return is_admin


admin_only.message.filter(IsAdmin())
admin_only.callback_query.filter(IsAdmin())


class TreeNav(Callback, prefix="tree"):
    root: int  # grid id, 0 for the whole tree
    page: int


class ArchiveAction(Callback, prefix="garc"):
    grid_id: int
    confirm: bool


# --- rendering helpers ---------------------------------------------------------------------


def _quoted(params: dict[str, object]) -> dict[str, str]:
    return {k: html.quote(str(v)) for k, v in params.items()}


async def _refuse_input(
    message: Message, app: AppContext, language: str, err: AdminError | GroupError, usage: str
) -> None:
    text = app.t(err.key, language, **_quoted(err.params))
    await message.answer(f"{text}\n{_usage(app, language, usage)}")


def _usage(app: AppContext, language: str, command: str) -> str:
    return app.t("admin.usage", language, usage=app.t(f"admin.usage.{command}", language))


async def _answer_usage(message: Message, app: AppContext, language: str, command: str) -> None:
    await message.answer(_usage(app, language, command))


def _args(command: CommandObject, maxsplit: int = -1) -> list[str]:
    return (command.args or "").split(maxsplit=maxsplit)


def _chunks(lines: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join lines into messages no longer than `limit` characters."""
    out: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out


def _level_label(app: AppContext, language: str, label: str, level: int) -> str:
    return html.quote(label) if label else app.t("admin.level_n", language, n=level)


def render_tree(
    app: AppContext, language: str, page: admin.TreePage
) -> tuple[str, InlineKeyboardMarkup | None]:
    if page.total == 0:
        return app.t("admin.tree_empty", language), None
    header = app.t(
        "admin.tree_header",
        language,
        root=html.quote(page.root_code) if page.root_code else app.t("admin.tree_all", language),
        total=page.total,
        page=page.page + 1,
        pages=page.pages,
    )
    bound = app.t("admin.tree_bound_mark", language)
    lines = [
        app.t(
            "admin.tree_line",
            language,
            indent="　" * line.depth,
            label=_level_label(app, language, line.level_label, line.level),
            code=html.quote(line.code),
            name=html.quote(line.name),
            members=line.members,
        )
        + (bound if line.bound else "")
        for line in page.lines
    ]
    buttons = []
    if page.page > 0:
        buttons.append(
            InlineKeyboardButton(
                text=app.t("admin.prev", language),
                callback_data=TreeNav(root=page.root_id, page=page.page - 1).pack(),
            )
        )
    if page.page + 1 < page.pages:
        buttons.append(
            InlineKeyboardButton(
                text=app.t("admin.next", language),
                callback_data=TreeNav(root=page.root_id, page=page.page + 1).pack(),
            )
        )
    markup = InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None
    return "\n".join([header, *lines]), markup


async def _show(
    query: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the pressed message; if the bot can no longer see it, send a new one."""
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
        return
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


# --- the tree ------------------------------------------------------------------------------


@admin_only.message(Command("tree"))
async def show_tree(
    message: Message, command: CommandObject, session: AsyncSession, app: AppContext, language: str
) -> None:
    args = _args(command)
    if len(args) > 1:
        await _answer_usage(message, app, language, "tree")
        return
    try:
        page = await admin.tree_page(session, code=args[0] if args else None)
    except AdminError as err:
        await _refuse_input(message, app, language, err, "tree")
        return
    text, markup = render_tree(app, language, page)
    await message.answer(text, reply_markup=markup)


@admin_only.callback_query(TreeNav.filter())
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
    await _show(query, bot, text, markup)


@admin_only.message(Command("grid_add"))
async def grid_add(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command, maxsplit=2)
    if len(args) < 3:
        await _answer_usage(message, app, language, "grid_add")
        return
    parent, code, name = args
    try:
        grid = await admin.add_grid(
            session, parent_code=parent, code=code, name=name, actor_tg_id=_actor(message)
        )
    except AdminError as err:
        await _refuse_input(message, app, language, err, "grid_add")
        return
    await message.answer(
        app.t(
            "admin.grid_added",
            language,
            code=html.quote(grid.code),
            name=html.quote(grid.name),
            label=_level_label(app, language, grid.level_label, grid.level),
            parent=html.quote(parent) if parent not in admin.ROOT_MARKERS else "-",
        )
    )


@admin_only.message(Command("grid_rename"))
async def grid_rename(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command, maxsplit=1)
    if len(args) < 2:
        await _answer_usage(message, app, language, "grid_rename")
        return
    try:
        grid, old = await admin.rename_grid(
            session, code=args[0], name=args[1], actor_tg_id=_actor(message)
        )
    except AdminError as err:
        await _refuse_input(message, app, language, err, "grid_rename")
        return
    await message.answer(
        app.t(
            "admin.grid_renamed",
            language,
            code=html.quote(grid.code),
            old=html.quote(old),
            name=html.quote(grid.name),
        )
    )


@admin_only.message(Command("grid_move"))
async def grid_move(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command)
    if len(args) != 2:
        await _answer_usage(message, app, language, "grid_move")
        return
    try:
        grid, size = await admin.move_grid(
            session, code=args[0], parent_code=args[1], actor_tg_id=_actor(message)
        )
    except AdminError as err:
        await _refuse_input(message, app, language, err, "grid_move")
        return
    await message.answer(
        app.t(
            "admin.grid_moved",
            language,
            code=html.quote(grid.code),
            parent=html.quote(args[1]) if args[1].lower() not in admin.ROOT_MARKERS else "-",
            count=size,
            level=grid.level,
        )
    )


@admin_only.message(Command("grid_archive"))
async def grid_archive(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command)
    if len(args) != 1:
        await _answer_usage(message, app, language, "grid_archive")
        return
    try:
        grid, size = await admin.archive_preview(session, code=args[0])
    except AdminError as err:
        await _refuse_input(message, app, language, err, "grid_archive")
        return
    assert grid.id is not None
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=app.t("admin.archive_yes", language),
                    callback_data=ArchiveAction(grid_id=grid.id, confirm=True).pack(),
                ),
                InlineKeyboardButton(
                    text=app.t("admin.archive_no", language),
                    callback_data=ArchiveAction(grid_id=grid.id, confirm=False).pack(),
                ),
            ]
        ]
    )
    await message.answer(
        app.t(
            "admin.archive_confirm",
            language,
            code=html.quote(grid.code),
            name=html.quote(grid.name),
            count=size,
        ),
        reply_markup=markup,
    )


@admin_only.callback_query(ArchiveAction.filter())
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
        await _show(query, bot, app.t("admin.archive_cancelled", language), None)
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
    text = app.t(
        "admin.archived",
        language,
        code=html.quote(grid.code),
        name=html.quote(grid.name),
        count=count,
    )
    await _show(query, bot, text, None)


# --- people and roles ----------------------------------------------------------------------


@admin_only.message(Command("members"))
async def members(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command)
    if len(args) != 1:
        await _answer_usage(message, app, language, "members")
        return
    try:
        grid, rows = await admin.grid_members(session, code=args[0])
    except AdminError as err:
        await _refuse_input(message, app, language, err, "members")
        return
    header = app.t(
        "admin.members_header",
        language,
        code=html.quote(grid.code),
        name=html.quote(grid.name),
        count=len(rows),
    )
    if not rows:
        await message.answer(f"{header}\n{app.t('admin.members_none', language)}")
        return
    lines = [
        app.t(
            "admin.member_line",
            language,
            name=html.quote(row.person.name),
            username=f" @{html.quote(row.person.username)}" if row.person.username else "",
            tg_id=row.person.tg_id if row.person.tg_id is not None else "-",
            role=html.quote(row.role.label),
            leader=app.t("admin.leader_mark", language) if row.role.is_leader else "",
            reach=app.t(
                "admin.reachable" if row.person.reachable else "admin.unreachable", language
            ),
        )
        for row in rows
    ]
    for text in _chunks([header, *lines]):
        await message.answer(text)


@admin_only.message(Command("role"))
async def grant_role(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command, maxsplit=2)
    if len(args) < 3:
        await _answer_usage(message, app, language, "role")
        return
    who, code, role = args
    placeholder = app.t("admin.placeholder_name", app.settings.default_language, tg_id=who.strip())
    try:
        got = await admin.grant_role(
            session,
            who=who,
            code=code,
            role=role,
            actor_tg_id=_actor(message),
            placeholder_name=placeholder,
        )
    except AdminError as err:
        await _refuse_input(message, app, language, err, "role")
        return
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


@admin_only.message(Command("remove"))
async def remove_role(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command, maxsplit=2)
    if len(args) < 2:
        await _answer_usage(message, app, language, "remove")
        return
    who, code = args[0], args[1]
    role = args[2] if len(args) > 2 else None
    try:
        removed = await admin.remove_role(
            session, who=who, code=code, role=role, actor_tg_id=_actor(message)
        )
    except AdminError as err:
        await _refuse_input(message, app, language, err, "remove")
        return
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


@admin_only.message(Command("admins"))
async def list_admins(
    message: Message, session: AsyncSession, app: AppContext, language: str
) -> None:
    rows = await admin.list_admins(session, admin_ids=app.settings.admin_ids)
    if not rows:
        await message.answer(app.t("admin.admins_none", language))
        return
    lines = [app.t("admin.admins_header", language, count=len(rows))]
    for row in rows:
        sources = [
            app.t("admin.admin_from_settings", language) if row.from_settings else "",
            app.t("admin.admin_from_database", language) if row.from_database else "",
        ]
        lines.append(
            app.t(
                "admin.admin_line",
                language,
                name=html.quote(row.name) if row.name else app.t("admin.unknown_name", language),
                username=f" @{html.quote(row.username)}" if row.username else "",
                tg_id=row.tg_id,
                source="、".join(s for s in sources if s),
            )
        )
    for text in _chunks(lines):
        await message.answer(text)


# --- departments, invites, group binding codes ---------------------------------------------


@admin_only.message(Command("dept_add"))
async def dept_add(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command, maxsplit=1)
    if len(args) < 2:
        await _answer_usage(message, app, language, "dept_add")
        return
    try:
        dept = await admin.add_department(
            session, code=args[0], name=args[1], actor_tg_id=_actor(message)
        )
    except AdminError as err:
        await _refuse_input(message, app, language, err, "dept_add")
        return
    await message.answer(
        app.t("admin.dept_added", language, code=html.quote(dept.code), name=html.quote(dept.name))
    )


@admin_only.message(Command("invite"))
async def invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    args = _args(command)
    if not 2 <= len(args) <= 4:
        await _answer_usage(message, app, language, "invite")
        return
    code, role = args[0], args[1]
    uses = args[2] if len(args) > 2 else None
    days = args[3] if len(args) > 3 else None
    try:
        made = await admin.new_invite(
            session,
            code=code,
            role=role,
            uses=uses,
            days=days,
            actor_tg_id=_actor(message),
            now=app.clock.now(),
        )
    except AdminError as err:
        await _refuse_input(message, app, language, err, "invite")
        return
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


@admin_only.message(Command("bind"))
async def bind_code(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    app: AppContext,
    language: str,
) -> None:
    """In private, `/bind <code>` gives a one-time code for binding a group (see groups.py)."""
    args = _args(command)
    if len(args) != 1:
        await _answer_usage(message, app, language, "bind")
        return
    try:
        issued = await groups.issue_bind_code(
            session, code=args[0], actor_tg_id=_actor(message), now=app.clock.now()
        )
    except GroupError as err:
        await _refuse_input(message, app, language, err, "bind")
        return
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


def _actor(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None


# --- everyone else -------------------------------------------------------------------------


@refused.message(Command(*ADMIN_COMMANDS))
async def refuse_command(message: Message, app: AppContext, language: str) -> None:
    await message.answer(app.t("admin.refused", language))


@refused.callback_query(TreeNav.filter())
@refused.callback_query(ArchiveAction.filter())
async def refuse_button(query: CallbackQuery, app: AppContext, language: str) -> None:
    await query.answer(app.t("admin.refused", language), show_alert=True)
