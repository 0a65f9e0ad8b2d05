"""The grid tree: lookups, subtree queries on the materialized path, and changes to it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, func, literal, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Grid


class TreeError(Exception):
    """A change that would break the tree (unknown code, a cycle, a duplicate code)."""

    def __init__(self, key: str, **params: str) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def child_path(parent: Grid | None, grid_id: int) -> str:
    return f"{parent.path if parent else '/'}{grid_id}/"


async def grid_by_code(
    session: AsyncSession, code: str, *, include_archived: bool = False
) -> Grid | None:
    query = select(Grid).where(func.upper(Grid.code) == code.strip().upper())
    if not include_archived:
        query = query.where(col(Grid.archived_at).is_(None))
    return (await session.exec(query)).first()


async def grid_by_chat(session: AsyncSession, chat_id: int) -> Grid | None:
    query = select(Grid).where(Grid.group_chat_id == chat_id, col(Grid.archived_at).is_(None))
    return (await session.exec(query)).first()


async def roots(session: AsyncSession) -> Sequence[Grid]:
    query = select(Grid).where(col(Grid.parent_id).is_(None), col(Grid.archived_at).is_(None))
    return (await session.exec(query.order_by(col(Grid.code)))).all()


async def subtree(session: AsyncSession, grid: Grid, *, max_depth: int | None = None) -> list[Grid]:
    """The grid and everything under it, in depth-first order (by path)."""
    query = select(Grid).where(
        col(Grid.path).startswith(grid.path), col(Grid.archived_at).is_(None)
    )
    if max_depth is not None:
        query = query.where(Grid.level <= grid.level + max_depth)
    rows = list((await session.exec(query)).all())
    return sort_depth_first(rows)


def sort_depth_first(grids: list[Grid]) -> list[Grid]:
    """Order by the tree (parents before children, siblings by code)."""
    by_id = {g.id: g for g in grids}

    def key(g: Grid) -> tuple[str, ...]:
        return tuple(by_id[i].code if i in by_id else str(i) for i in g.ancestor_ids())

    return sorted(grids, key=key)


async def ancestors(session: AsyncSession, grid: Grid) -> list[Grid]:
    """From the root down to the grid's parent."""
    ids = grid.ancestor_ids()[:-1]
    if not ids:
        return []
    rows = {g.id: g for g in (await session.exec(select(Grid).where(col(Grid.id).in_(ids))))}
    return [rows[i] for i in ids if i in rows]


async def children(session: AsyncSession, grid: Grid) -> Sequence[Grid]:
    query = select(Grid).where(Grid.parent_id == grid.id, col(Grid.archived_at).is_(None))
    return (await session.exec(query.order_by(col(Grid.code)))).all()


async def add_grid(
    session: AsyncSession,
    *,
    parent: Grid | None,
    code: str,
    name: str,
    level_label: str = "",
) -> Grid:
    if await grid_by_code(session, code, include_archived=True) is not None:
        raise TreeError("tree.code_taken", code=code)
    grid = Grid(
        code=code,
        name=name,
        parent_id=parent.id if parent else None,
        level=(parent.level + 1) if parent else 1,
        level_label=level_label,
    )
    session.add(grid)
    await session.flush()
    assert grid.id is not None
    grid.path = child_path(parent, grid.id)
    session.add(grid)
    await session.flush()
    return grid


async def move_grid(session: AsyncSession, grid: Grid, new_parent: Grid | None) -> None:
    """Re-hang a grid and its whole subtree: rewrite paths and levels in two statements."""
    if new_parent is not None and new_parent.path.startswith(grid.path):
        raise TreeError("tree.cycle", code=grid.code, parent=new_parent.code)
    assert grid.id is not None
    old_path, old_level = grid.path, grid.level
    new_path = child_path(new_parent, grid.id)
    new_level = (new_parent.level + 1) if new_parent else 1
    shift = new_level - old_level
    await session.execute(
        update(Grid)
        .where(col(Grid.path).startswith(old_path))
        .values(
            path=literal(new_path, String) + func.substr(Grid.path, len(old_path) + 1),
            level=Grid.level + shift,
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Grid)
        .where(col(Grid.id) == grid.id)
        .values(parent_id=new_parent.id if new_parent else None)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await session.refresh(grid)


async def archive_grid(session: AsyncSession, grid: Grid, *, now: datetime) -> int:
    """Archive a grid and its subtree; nothing is deleted. Returns how many were archived."""
    result = await session.execute(
        update(Grid)
        .where(col(Grid.path).startswith(grid.path), col(Grid.archived_at).is_(None))
        .values(archived_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await session.refresh(grid)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
