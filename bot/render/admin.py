"""Admin texts and keyboards: the grid tree a page at a time, a grid's members, the admins,
the archive confirmation; long lists cut into messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram import html
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.keyboards import Callback
from services import admin
from storage.admin import MemberRow
from storage.models import Grid

MESSAGE_LIMIT = 4000  # Telegram allows 4096 characters; keep a margin for the header


class TreeNav(Callback, prefix="tree"):
    root: int  # grid id, 0 for the whole tree
    page: int


class ArchiveAction(Callback, prefix="garc"):
    grid_id: int
    confirm: bool


def chunks(lines: Iterable[str], limit: int = MESSAGE_LIMIT) -> list[str]:
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


def level_label(app: AppContext, language: str, label: str, level: int) -> str:
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
            label=level_label(app, language, line.level_label, line.level),
            code=html.quote(line.code),
            name=html.quote(line.name),
            members=line.members,
        )
        + (bound if line.bound else "")
        for line in page.lines
    ]
    return "\n".join([header, *lines]), _tree_buttons(app, language, page)


def _tree_buttons(
    app: AppContext, language: str, page: admin.TreePage
) -> InlineKeyboardMarkup | None:
    buttons = []
    if page.page > 0:
        back = TreeNav(root=page.root_id, page=page.page - 1).pack()
        buttons.append(InlineKeyboardButton(text=app.t("admin.prev", language), callback_data=back))
    if page.page + 1 < page.pages:
        on = TreeNav(root=page.root_id, page=page.page + 1).pack()
        buttons.append(InlineKeyboardButton(text=app.t("admin.next", language), callback_data=on))
    return InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None


def archive_question(
    app: AppContext, language: str, grid: Grid, size: int
) -> tuple[str, InlineKeyboardMarkup]:
    assert grid.id is not None
    yes = ArchiveAction(grid_id=grid.id, confirm=True).pack()
    no = ArchiveAction(grid_id=grid.id, confirm=False).pack()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=app.t("admin.archive_yes", language), callback_data=yes),
                InlineKeyboardButton(text=app.t("admin.archive_no", language), callback_data=no),
            ]
        ]
    )
    text = app.t(
        "admin.archive_confirm",
        language,
        code=html.quote(grid.code),
        name=html.quote(grid.name),
        count=size,
    )
    return text, markup


def members_messages(
    app: AppContext, language: str, grid: Grid, rows: Sequence[MemberRow]
) -> list[str]:
    header = app.t(
        "admin.members_header",
        language,
        code=html.quote(grid.code),
        name=html.quote(grid.name),
        count=len(rows),
    )
    if not rows:
        return [f"{header}\n{app.t('admin.members_none', language)}"]
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
    return chunks([header, *lines])


def admins_messages(app: AppContext, language: str, rows: Sequence[admin.AdminRow]) -> list[str]:
    if not rows:
        return [app.t("admin.admins_none", language)]
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
    return chunks(lines)
