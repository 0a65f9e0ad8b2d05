"""Applying a file's rules and grid tree: the deployment row, roles, departments, grids.

Grids are written in bulk: the new ones in one multi-row INSERT in file order (ids
returned in the order sent), then their parents and materialized paths in one executemany,
the changed ones in another. A city's first import is a handful of statements, not a few
per grid. Re-hanging a grid (rare) still moves its subtree with `storage.grids.move_grid`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_rules import to_stored as case_rules_to_stored
from domain.categories import to_stored
from domain.scenario import GridSpec, RoleSpec, Scenario, ScenarioChanges
from storage.grids import TreeError, archive_grid, move_grid
from storage.importer_snapshot import GridRow, executemany, grid_rows
from storage.models import Department, Deployment, Grid, Membership, Role
from storage.settings_signal import announce_settings_changed


async def apply_settings(session: AsyncSession, s: Scenario) -> None:
    d = await session.get(Deployment, 1) or Deployment(id=1)
    d.name = s.name
    d.timezone = s.timezone
    d.tg_id_start = s.tg_id_start
    d.levels = list(s.levels)
    d.checklist = list(s.checklist)
    d.categories = to_stored(s.categories)
    d.severities = {
        v.name: {"deadline_hours": v.deadline_hours, "notify_to_root": v.notify_to_root}
        for v in s.severities
    }
    d.digest_time = f"{s.schedule.digest:%H:%M}"
    d.nag_time = f"{s.schedule.nag:%H:%M}"
    d.quiet_hours = s.schedule.quiet or ""
    d.patrol_companions_count = s.companions_count
    d.case_rules = case_rules_to_stored(s.case_rules)
    session.add(d)
    await announce_settings_changed(session)  # the scheduler's times, on every instance


async def apply_roles(
    session: AsyncSession, specs: tuple[RoleSpec, ...], removed: tuple[RoleSpec, ...]
) -> dict[str, Role]:
    existing = {r.key: r for r in (await session.exec(select(Role))).all()}
    for spec in removed:  # a role still held by someone (joined by invite) stays
        role = existing.get(spec.key)
        if role is None:
            continue
        held = await session.exec(select(Membership.id).where(Membership.role_id == role.id))
        if held.first() is None:
            await session.delete(role)
            del existing[spec.key]
    for spec in specs:
        role = existing.get(spec.key) or Role(key=spec.key, label=spec.label)
        role.label = spec.label
        role.is_leader = spec.leader
        role.quota_period = spec.quota.period if spec.quota else None
        role.quota_count = spec.quota.count if spec.quota else None
        session.add(role)
        existing[spec.key] = role
    await session.flush()
    return existing


async def apply_departments(session: AsyncSession, changes: ScenarioChanges, now: datetime) -> None:
    rows = {d.code: d for d in (await session.exec(select(Department))).all()}
    for spec in (*changes.departments_added, *(c.new for c in changes.departments_changed)):
        dept = rows.get(spec.code) or Department(code=spec.code, name=spec.name)
        dept.name = spec.name
        dept.archived_at = None
        session.add(dept)
    for spec in changes.departments_removed:
        if spec.code in rows:
            rows[spec.code].archived_at = now
            session.add(rows[spec.code])


async def apply_grids(
    session: AsyncSession,
    scenario: Scenario,
    changes: ScenarioChanges,
    rows: dict[str, GridRow],
    now: datetime,
) -> dict[str, GridRow]:
    """Bring the tree to the file's: add, re-hang, rename, restore and archive grids.
    ``rows`` (every grid by code) is updated in place and returned."""
    taken = {code.upper() for code in rows}
    for spec in scenario.grids:
        if spec.code not in rows and spec.code.upper() in taken:  # codes are typed any case
            raise TreeError("tree.code_taken", code=spec.code)
    await _insert_new(session, [s for s in scenario.grids if s.code not in rows], rows)
    restored = {c.new.code for c in changes.grids_restored}
    hung: list[dict[str, object]] = []  # new grids' parent and path
    updates: list[dict[str, object]] = []
    for spec in scenario.grids:  # depth first: a parent is settled before its children
        row = rows[spec.code]
        parent = rows[spec.parent_code] if spec.parent_code else None
        parent_id = parent.id if parent else None
        if not row.path:  # inserted above
            row.parent_id, row.path = parent_id, f"{parent.path if parent else '/'}{row.id}/"
            hung.append({"gid": row.id, "parent_id": parent_id, "path": row.path})
        elif row.parent_id != parent_id:
            await _write_hung(session, hung)  # the move reads the new parent's path
            grid = await session.get(Grid, row.id)
            assert grid is not None
            await move_grid(session, grid, _as_grid(parent))
            fresh = await grid_rows(session)  # a move re-paths a whole subtree
            for code, current in fresh.items():
                old = rows[code]
                old.parent_id, old.level, old.path = current.parent_id, current.level, current.path
        fields = (spec.name, spec.level_label, spec.geofence, spec.roll_call)
        if spec.code in restored or (
            row.archived_at is None
            and fields != (row.name, row.level_label, row.geofence, row.roll_call)
        ):
            row.name, row.level_label, row.geofence, row.roll_call = fields
            row.archived_at = None
            updates.append(
                {
                    "gid": row.id,
                    "name": row.name,
                    "level_label": row.level_label,
                    "geofence": row.geofence,
                    "roll_call": row.roll_call,
                }
            )
    await _write_hung(session, hung)
    if updates:
        await executemany(
            session,
            update(Grid)
            .where(col(Grid.id) == bindparam("gid"))
            .values(
                name=bindparam("name"),
                level_label=bindparam("level_label"),
                geofence=bindparam("geofence"),
                roll_call=bindparam("roll_call"),
                archived_at=None,
            ),
            updates,
        )
    await _archive(session, changes.grids_archived, rows, now)
    return rows


def _as_grid(row: GridRow | None) -> Grid | None:
    """A detached stand-in for a new parent (`move_grid` reads its id, path and level)."""
    if row is None:
        return None
    return Grid(id=row.id, code=row.code, name=row.name, level=row.level, path=row.path)


async def _insert_new(
    session: AsyncSession, specs: list[GridSpec], rows: dict[str, GridRow]
) -> None:
    """Insert the new grids in file order (so ids follow the tree, as one by one would),
    in multi-row statements returning their ids; parents and paths follow once all are known."""
    if not specs:
        return
    values = [
        {
            "code": s.code,
            "name": s.name,
            "level": s.level,
            "level_label": s.level_label,
            "geofence": s.geofence,
            "roll_call": s.roll_call,
        }
        for s in specs
    ]
    await session.flush()
    conn = await session.connection()
    # Returning the code with the id: rows may come back in any order, and without
    # `sort_by_parameter_order` SQLite sends them in multi-row batches.
    result = await conn.execute(insert(Grid).returning(col(Grid.id), col(Grid.code)), values)
    ids: dict[str, int] = {}
    for gid, code in result.all():
        assert gid is not None
        ids[code] = gid
    for spec in specs:
        rows[spec.code] = GridRow(
            id=ids[spec.code],
            code=spec.code,
            name=spec.name,
            parent_id=None,
            level=spec.level,
            level_label=spec.level_label,
            path="",
            geofence=spec.geofence,
            roll_call=spec.roll_call,
            archived_at=None,
        )


async def _write_hung(session: AsyncSession, hung: list[dict[str, object]]) -> None:
    if not hung:
        return
    await executemany(
        session,
        update(Grid)
        .where(col(Grid.id) == bindparam("gid"))
        .values(parent_id=bindparam("parent_id"), path=bindparam("path")),
        hung,
    )
    hung.clear()


async def _archive(
    session: AsyncSession, specs: tuple[GridSpec, ...], rows: dict[str, GridRow], now: datetime
) -> None:
    """Archive each removed grid with its subtree: one statement per topmost one."""
    removed = {s.code for s in specs}
    by_id = {r.id: r for r in rows.values()}
    for spec in specs:
        row = rows[spec.code]
        parent = by_id.get(row.parent_id) if row.parent_id else None
        if row.archived_at is not None or (parent is not None and parent.code in removed):
            continue  # already archived, or archived with the grid above it
        grid = await session.get(Grid, row.id)
        assert grid is not None
        await archive_grid(session, grid, now=now)
    for spec in specs:
        if rows[spec.code].archived_at is None:
            rows[spec.code].archived_at = now
