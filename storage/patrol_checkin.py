"""What a check-in is assessed against, read in one statement of plain rows: the grid's
geofence, the person's open patrol, their last counted patrol in the grid and, for a quick
check-in's outcome, the patrols credited to their membership so far in the quota window.

The same rules as `storage.patrols` (`open_patrol_of`, `last_counted`, `credits`), with the
same orderings; built once per dialect and run with bound values. A check-in used to read
the grid and both patrols as entities and count the credits afterwards: four statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import BindParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.direct_sql import first_values
from storage.models import Deployment
from storage.patrols import GRID, OPEN, PATROL, credits
from storage.unit_connection import unit_connection

DEPLOYMENT: Table = Deployment.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CheckinScene:
    geofence: dict[str, Any] | None
    open_id: int | None
    """The person's newest open patrol (anywhere), which the check-in abandons."""
    last_at: datetime | None
    last_lat: float | None
    last_lon: float | None
    """The latest counted patrol of the person in the grid (`last_counted`), if any."""
    credited: int | None
    """Patrols credited (`credits`) to the person × grid × role in the asked window; None
    when no window was asked."""
    deployment: DeploymentRules | None = None
    """The deployment's patrol settings, when asked for."""


@dataclass(frozen=True)
class DeploymentRules:
    """The deployment's row as far as patrols go; ``found`` False without the row."""

    found: bool
    timezone: str | None
    checklist: list[str] | None
    min_interval_minutes: int | None


_SCENES: dict[tuple[str, bool, bool], Any] = {}


def _scene_statement(dialect: str, *, counting: bool, with_rules: bool) -> Any:
    key = (dialect, counting, with_rules)
    if key in _SCENES:
        return _SCENES[key]
    patrol, grid = PATROL, GRID
    person_id: BindParameter[int] = bindparam("person_id")
    grid_id: BindParameter[int] = bindparam("grid_id")
    newest = (patrol.c.started_at.desc(), patrol.c.id.desc())
    open_id = (
        sa_select(patrol.c.id)
        .where(patrol.c.person_id == person_id, patrol.c.status == OPEN)
        .order_by(*newest)
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )
    last_id = (
        sa_select(patrol.c.id)
        .where(
            patrol.c.person_id == person_id,
            patrol.c.grid_id == grid_id,
            patrol.c.counted.is_(True),
        )
        .order_by(*newest)
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )
    last = patrol.alias("last")
    columns: list[Any] = [
        grid.c.geofence,
        open_id.label("open_id"),
        last.c.started_at,
        last.c.lat,
        last.c.lon,
    ]
    if counting:
        started = patrol.c.started_at.type
        credit = credits(
            start=bindparam("start", type_=started),
            end=bindparam("end", type_=started),
            dialect=dialect,
            person_id=person_id,
        )
        credited = (
            sa_select(func.count())
            .select_from(credit)
            .where(
                credit.c.person_id == person_id,
                credit.c.grid_id == grid_id,
                credit.c.role_id == bindparam("role_id"),
            )
            .correlate(None)
            .scalar_subquery()
        )
        columns.append(credited.label("credited"))
    joined = grid.outerjoin(last, last.c.id == last_id)
    if with_rules:
        dep = DEPLOYMENT
        columns += [dep.c.id, dep.c.timezone, dep.c.checklist, dep.c.min_patrol_interval_minutes]
        joined = joined.outerjoin(dep, dep.c.id == 1)
    query = sa_select(*columns).select_from(joined).where(grid.c.id == grid_id)
    _SCENES[key] = query
    return query


async def checkin_scene(
    session: AsyncSession,
    *,
    person_id: int,
    grid_id: int,
    role_id: int | None = None,
    window: tuple[datetime, datetime] | None = None,
    with_rules: bool = False,
) -> CheckinScene | None:
    """The check-in's scene in the grid (credits counted only with a role and a window, the
    deployment's settings read too if asked); None without the grid."""
    counting = window is not None and role_id is not None
    # Run on the unit of work's connection, asked anyway for its dialect.
    connection = await unit_connection(session)
    dialect = connection.dialect.name
    values: dict[str, Any] = {"person_id": person_id, "grid_id": grid_id}
    if counting:
        assert window is not None
        values.update(start=window[0], end=window[1], role_id=role_id)
    query = _scene_statement(dialect, counting=counting, with_rules=with_rules)
    row = await first_values(connection, query, values)
    if row is None:
        return None
    fence, open_id, at, lat, lon = row[:5]
    credited = int(row[5]) if counting else None
    deployment = None
    if with_rules:
        found, tz, checklist, minutes = row[-4:]
        deployment = DeploymentRules(found is not None, tz, checklist, minutes)
    return CheckinScene(fence, open_id, at, lat, lon, credited, deployment)
