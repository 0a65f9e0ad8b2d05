"""Possible duplicates of a report (疑似重复): open cases of the same category within 50 m, or
in the same grid within the week (read through `storage.cases`)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, and_, cast, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import OPEN
from domain.geo import haversine_m
from storage.models import Case, Grid

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(days=7)


def _duplicate_filter(
    *, grid_id: int, category: str, lat: float | None, lon: float | None, now: datetime
) -> ColumnElement[bool]:
    """What the database narrows possible duplicates to (`_is_duplicate` decides)."""
    conditions: list[ColumnElement[bool]] = [
        and_(col(Case.grid_id) == grid_id, col(Case.created_at) >= now - DUPLICATE_WINDOW)
    ]
    if lat is not None and lon is not None:
        dlat = DUPLICATE_RADIUS_M / 111_000 * 1.5
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        conditions.append(
            and_(
                col(Case.lat).between(lat - dlat, lat + dlat),
                col(Case.lon).between(lon - dlon, lon + dlon),
            )
        )
    return and_(
        col(Case.category) == category,
        col(Case.status).in_([s.value for s in OPEN]),
        or_(*conditions),
    )


def _is_duplicate(
    case: Any, *, grid_id: int, lat: float | None, lon: float | None, now: datetime
) -> bool:
    """Within 50 m, or in the same grid within 7 days (`case`: a `Case` or a row of its
    columns)."""
    near = (
        lat is not None
        and lon is not None
        and case.lat is not None
        and case.lon is not None
        and haversine_m(lat, lon, case.lat, case.lon) <= DUPLICATE_RADIUS_M
    )
    return near or (case.grid_id == grid_id and case.created_at >= now - DUPLICATE_WINDOW)


async def possible_duplicates(
    session: AsyncSession,
    *,
    grid_id: int,
    category: str,
    lat: float | None,
    lon: float | None,
    now: datetime,
    limit: int = 3,
) -> list[Case]:
    """Open cases of the same category within 50 m, or in the same grid within 7 days."""
    where = _duplicate_filter(grid_id=grid_id, category=category, lat=lat, lon=lon, now=now)
    query = select(Case).where(where).order_by(col(Case.created_at).desc())
    found: list[Case] = []
    for case in await session.exec(query):
        if _is_duplicate(case, grid_id=grid_id, lat=lat, lon=lon, now=now):
            found.append(case)
        if len(found) >= limit:
            break
    return found


class DuplicateLine(NamedTuple):
    """What a report's summary shows of a possible duplicate."""

    id: int
    code: str
    description: str
    status: str


async def grid_name_and_duplicates(
    session: AsyncSession,
    *,
    grid_id: int,
    category: str,
    lat: float | None,
    lon: float | None,
    now: datetime,
    limit: int = 3,
) -> tuple[str | None, list[DuplicateLine]]:
    """The grid's name (None: no such grid) and `possible_duplicates`' cases, in one
    statement of plain rows: the grid joined to one row, the cases joined to that."""
    one = sa_select(cast(literal(grid_id), Integer).label("grid_id")).subquery("one")
    where = _duplicate_filter(grid_id=grid_id, category=category, lat=lat, lon=lon, now=now)
    query = (
        sa_select(
            col(Grid.name),
            col(Case.id),
            col(Case.code),
            col(Case.description),
            col(Case.status),
            col(Case.lat),
            col(Case.lon),
            col(Case.grid_id),
            col(Case.created_at),
        )
        .select_from(one)
        .outerjoin(Grid, col(Grid.id) == one.c.grid_id)
        .outerjoin(Case, where)
        .order_by(col(Case.created_at).desc())
    )
    name: str | None = None
    found: list[DuplicateLine] = []
    for row in await session.execute(query):
        name = row[0]
        if row.id is not None and _is_duplicate(row, grid_id=grid_id, lat=lat, lon=lon, now=now):
            found.append(DuplicateLine(row.id, row.code, row.description, row.status))
        if len(found) >= limit:
            break
    return name, found
