"""What the admin commands do: change the tree, grant and remove roles, departments, invites.

Every function takes the update's session and keyword arguments, flushes but never commits
(the unit of work commits once), writes an audit entry for every change, and raises
`AdminError` carrying a locale key and its parameters for anything the admin typed wrong.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.invites import MAX_INVITE_DAYS, MAX_INVITE_USES, create_invite
from storage import admin as q
from storage import grids as tree
from storage.audit import record_audit
from storage.grids import TreeError
from storage.models import Department, Grid, Invite, Membership, Person, Role
from storage.people import person_by_tg, person_by_username

CODE_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
USERNAME_RE = re.compile(r"@[A-Za-z0-9_]{4,32}")
MAX_NAME = 128
MAX_TG_ID = 2**52  # Telegram: user ids fit in 52 significant bits
ROOT_MARKERS = frozenset({"-", "root", "/"})
TREE_PAGE_SIZE = 20
DEFAULT_INVITE_USES = 1
DEFAULT_INVITE_DAYS = 7


class AdminError(Exception):
    """Something the admin typed cannot be done; `key` names the locale message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


# --- checking what was typed ---------------------------------------------------------------


def check_code(code: str) -> str:
    code = code.strip()
    if not CODE_RE.fullmatch(code):
        raise AdminError("admin.bad_code", code=code)
    return code


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise AdminError("admin.name_missing")
    if len(name) > MAX_NAME:
        raise AdminError("admin.name_too_long", limit=MAX_NAME, length=len(name))
    return name


def parse_count(text: str | None, *, default: int, low: int, high: int, key: str) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise AdminError(key, value=text, low=low, high=high) from None
    if not low <= value <= high:
        raise AdminError(key, value=text, low=low, high=high)
    return value


@dataclass(frozen=True)
class Who:
    """A person as the admin named them: a Telegram id or an @username."""

    tg_id: int | None = None
    username: str | None = None


def parse_who(text: str) -> Who:
    text = text.strip()
    if text.isdigit():
        tg_id = int(text)
        if not 0 < tg_id < MAX_TG_ID:
            raise AdminError("admin.bad_person", who=text)
        return Who(tg_id=tg_id)
    if USERNAME_RE.fullmatch(text):
        return Who(username=text[1:])
    raise AdminError("admin.bad_person", who=text)


async def live_grid(session: AsyncSession, code: str) -> Grid:
    grid = await tree.grid_by_code(session, check_code(code))
    if grid is None:
        raise AdminError("admin.unknown_grid", code=code)
    return grid


async def parent_grid(session: AsyncSession, code: str) -> Grid | None:
    """The grid to hang something under; `-` means the top of the tree."""
    if code.strip().lower() in ROOT_MARKERS:
        return None
    return await live_grid(session, code)


async def find_role(session: AsyncSession, text: str) -> Role:
    role = await q.role_by_text(session, text)
    if role is None:
        known = ", ".join(f"{r.key}({r.label})" for r in await q.all_roles(session))
        raise AdminError("admin.unknown_role", role=text, known=known or "-")
    return role


# --- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeLine:
    grid_id: int
    depth: int
    level: int
    level_label: str
    code: str
    name: str
    members: int
    bound: bool


@dataclass(frozen=True)
class TreePage:
    root_id: int  # 0: the whole forest
    root_code: str | None
    lines: list[TreeLine]
    page: int
    pages: int
    total: int


async def tree_page(
    session: AsyncSession,
    *,
    code: str | None = None,
    root_id: int | None = None,
    page: int = 0,
    page_size: int = TREE_PAGE_SIZE,
) -> TreePage:
    """One page of a subtree (or of the whole forest), depth first, with member counts."""
    root: Grid | None = None
    if code is not None:
        root = await live_grid(session, code)
    elif root_id:
        root = await session.get(Grid, root_id)
        if root is None or root.archived_at is not None:
            raise AdminError("admin.tree_gone")
    if root is not None:
        grids = await tree.subtree(session, root)
        base = root.level
    else:
        grids = tree.sort_depth_first(await q.all_live_grids(session))
        base = 1
    # A grid under an archived grid is not live either: keep only unbroken chains from the top.
    live = {g.id for g in grids}
    grids = [g for g in grids if all(i in live for i in g.ancestor_ids()[base - 1 :])]
    total = len(grids)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 0), pages - 1)
    chunk = grids[page * page_size : (page + 1) * page_size]
    counts = await q.member_counts(session, (g.id for g in chunk if g.id is not None))
    lines = [
        TreeLine(
            grid_id=g.id or 0,
            depth=g.level - base,
            level=g.level,
            level_label=g.level_label,
            code=g.code,
            name=g.name,
            members=counts.get(g.id or 0, 0),
            bound=g.group_chat_id is not None,
        )
        for g in chunk
    ]
    return TreePage(
        root_id=root.id or 0 if root is not None else 0,
        root_code=root.code if root is not None else None,
        lines=lines,
        page=page,
        pages=pages,
        total=total,
    )


async def add_grid(
    session: AsyncSession, *, parent_code: str, code: str, name: str, actor_tg_id: int | None
) -> Grid:
    code, name = check_code(code), check_name(name)
    parent = await parent_grid(session, parent_code)
    labels = await q.level_labels(session)
    level = parent.level + 1 if parent is not None else 1
    label = labels[level - 1] if level <= len(labels) else ""
    try:
        grid = await tree.add_grid(session, parent=parent, code=code, name=name, level_label=label)
    except TreeError as exc:
        raise AdminError("admin.code_taken", code=code) from exc
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="grid_add",
        target=grid.code,
        detail={"name": name, "parent": parent.code if parent else None, "path": grid.path},
    )
    await session.flush()
    return grid


async def rename_grid(
    session: AsyncSession, *, code: str, name: str, actor_tg_id: int | None
) -> tuple[Grid, str]:
    name = check_name(name)
    grid = await live_grid(session, code)
    old = grid.name
    grid.name = name
    session.add(grid)
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="grid_rename",
        target=grid.code,
        detail={"old": old, "new": name},
    )
    await session.flush()
    return grid, old


async def move_grid(
    session: AsyncSession, *, code: str, parent_code: str, actor_tg_id: int | None
) -> tuple[Grid, int]:
    """Re-hang a grid with its subtree; returns the grid and how many grids moved."""
    grid = await live_grid(session, code)
    new_parent = await parent_grid(session, parent_code)
    old_parent_id = grid.parent_id
    old_path = grid.path
    size = len(await tree.subtree(session, grid))
    try:
        await tree.move_grid(session, grid, new_parent)
    except TreeError as exc:
        raise AdminError(
            "admin.move_cycle", code=grid.code, parent=new_parent.code if new_parent else "-"
        ) from exc
    labels = await q.level_labels(session)
    if labels:
        await q.relabel_subtree(session, path=grid.path, labels=labels)
        await session.flush()
        await session.refresh(grid)
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="grid_move",
        target=grid.code,
        detail={
            "old_parent_id": old_parent_id,
            "new_parent": new_parent.code if new_parent else None,
            "old_path": old_path,
            "new_path": grid.path,
            "grids": size,
        },
    )
    await session.flush()
    return grid, size


async def archive_preview(session: AsyncSession, *, code: str) -> tuple[Grid, int]:
    """The grid an archive would hit and how many grids it would archive with it."""
    grid = await live_grid(session, code)
    return grid, len(await tree.subtree(session, grid))


async def archive_grid(
    session: AsyncSession, *, grid_id: int, actor_tg_id: int | None, now: datetime
) -> tuple[Grid, int]:
    grid = await session.get(Grid, grid_id)
    if grid is None or grid.archived_at is not None:
        raise AdminError("admin.archive_gone")
    count = await tree.archive_grid(session, grid, now=now)
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="grid_archive",
        target=grid.code,
        detail={"grids": count, "path": grid.path},
    )
    await session.flush()
    return grid, count


# --- people and roles ----------------------------------------------------------------------


async def grid_members(session: AsyncSession, *, code: str) -> tuple[Grid, list[q.MemberRow]]:
    grid = await live_grid(session, code)
    assert grid.id is not None
    return grid, await q.members_of(session, grid.id)


async def find_person(session: AsyncSession, who: Who) -> Person | None:
    if who.tg_id is not None:
        return await person_by_tg(session, who.tg_id)
    assert who.username is not None
    return await person_by_username(session, who.username)


@dataclass(frozen=True)
class Granted:
    person: Person
    grid: Grid
    role: Role
    new_person: bool
    already: bool


async def grant_role(
    session: AsyncSession,
    *,
    who: str,
    code: str,
    role: str,
    actor_tg_id: int | None,
    placeholder_name: str,
) -> Granted:
    """Give a person a role in a grid; a new Telegram id gets a person with a placeholder name."""
    target = parse_who(who)
    grid = await live_grid(session, code)
    found_role = await find_role(session, role)
    person = await find_person(session, target)
    new_person = False
    if person is None:
        if target.tg_id is None:
            raise AdminError("admin.unknown_username", who=who)
        person = Person(tg_id=target.tg_id, name=placeholder_name)
        session.add(person)
        await session.flush()
        new_person = True
    assert person.id is not None and grid.id is not None and found_role.id is not None
    existing = await q.memberships_of(
        session, person_id=person.id, grid_id=grid.id, role_id=found_role.id
    )
    if existing:
        return Granted(person, grid, found_role, new_person=new_person, already=True)
    session.add(Membership(person_id=person.id, grid_id=grid.id, role_id=found_role.id))
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="role_grant",
        target=f"{person.tg_id}@{grid.code}",
        detail={"role": found_role.key, "new_person": new_person, "person_id": person.id},
    )
    await session.flush()
    return Granted(person, grid, found_role, new_person=new_person, already=False)


@dataclass(frozen=True)
class Removed:
    person: Person
    grid: Grid
    roles: list[Role]


async def remove_role(
    session: AsyncSession,
    *,
    who: str,
    code: str,
    role: str | None,
    actor_tg_id: int | None,
) -> Removed:
    """Take one role (or every role) in a grid away from a person."""
    target = parse_who(who)
    grid = await live_grid(session, code)
    found_role = await find_role(session, role) if role else None
    person = await find_person(session, target)
    if person is None:
        raise AdminError("admin.unknown_person", who=who)
    assert person.id is not None and grid.id is not None
    held = await q.memberships_of(
        session,
        person_id=person.id,
        grid_id=grid.id,
        role_id=found_role.id if found_role else None,
    )
    if not held:
        raise AdminError("admin.not_member", who=who, code=grid.code)
    roles = [r for r in await q.all_roles(session) if r.id in {m.role_id for m in held}]
    await q.delete_memberships(session, (m.id for m in held if m.id is not None))
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="role_remove",
        target=f"{person.tg_id}@{grid.code}",
        detail={"roles": [r.key for r in roles], "person_id": person.id},
    )
    await session.flush()
    return Removed(person=person, grid=grid, roles=roles)


@dataclass(frozen=True)
class AdminRow:
    tg_id: int
    name: str | None
    username: str | None
    from_settings: bool
    from_database: bool


async def list_admins(session: AsyncSession, *, admin_ids: frozenset[int]) -> list[AdminRow]:
    people = {p.tg_id: p for p in await q.db_admins(session, admin_ids) if p.tg_id is not None}
    rows = []
    for tg_id in sorted(set(admin_ids) | set(people)):
        p = people.get(tg_id)
        rows.append(
            AdminRow(
                tg_id=tg_id,
                name=p.name if p else None,
                username=p.username if p else None,
                from_settings=tg_id in admin_ids,
                from_database=bool(p and p.is_admin),
            )
        )
    return rows


# --- departments and invites ---------------------------------------------------------------


async def add_department(
    session: AsyncSession, *, code: str, name: str, actor_tg_id: int | None
) -> Department:
    code, name = check_code(code), check_name(name)
    if await q.any_department_by_code(session, code) is not None:
        raise AdminError("admin.dept_taken", code=code)
    dept = Department(code=code, name=name)
    session.add(dept)
    await record_audit(
        session, actor_tg_id=actor_tg_id, action="dept_add", target=code, detail={"name": name}
    )
    await session.flush()
    return dept


@dataclass(frozen=True)
class NewInvite:
    invite: Invite
    grid: Grid
    role: Role


async def new_invite(
    session: AsyncSession,
    *,
    code: str,
    role: str,
    uses: str | None,
    days: str | None,
    actor_tg_id: int | None,
    now: datetime,
) -> NewInvite:
    grid = await live_grid(session, code)
    found_role = await find_role(session, role)
    max_uses = parse_count(
        uses, default=DEFAULT_INVITE_USES, low=1, high=MAX_INVITE_USES, key="admin.bad_uses"
    )
    valid_days = parse_count(
        days, default=DEFAULT_INVITE_DAYS, low=1, high=MAX_INVITE_DAYS, key="admin.bad_days"
    )
    invite = await create_invite(
        session,
        grid=grid,
        role=found_role,
        uses=max_uses,
        days=valid_days,
        now=now,
        created_by=actor_tg_id,
    )
    return NewInvite(invite=invite, grid=grid, role=found_role)
