"""Possible duplicates of a report (疑似重复): open cases of the same category within 50 m, or
in the same grid within the week (read through `storage.cases`)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, Table, and_, bindparam, cast, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import OPEN
from domain.geo import haversine_m
from storage.direct_sql import all_values
from storage.models import Case, Grid
from storage.unit_connection import unit_connection
from storage.written_words import among_words

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(days=7)


# The statements are built once (per shape: with a point or without) with bound values:
# building the filter cost more than running it.
_GRID_ID = bindparam("grid_id", type_=Integer)
CASE: Table = Case.__table__  # type: ignore[attr-defined]
GRID: Table = Grid.__table__  # type: ignore[attr-defined]


def _duplicate_filter(near: bool) -> ColumnElement[bool]:
    """What the database narrows possible duplicates to (`_is_duplicate` decides); bound by
    `_values`. On the table's columns, and the open statuses written into the statement: a
    list bound to an IN clause is spelt out anew at each execution, and an ORM attribute
    makes the session take even a plain select through its ORM layer."""
    c = CASE.c
    conditions: list[ColumnElement[bool]] = [
        and_(c.grid_id == _GRID_ID, c.created_at >= bindparam("since", type_=c.created_at.type))
    ]
    if near:
        conditions.append(
            and_(
                c.lat.between(bindparam("lat_lo"), bindparam("lat_hi")),
                c.lon.between(bindparam("lon_lo"), bindparam("lon_hi")),
            )
        )
    return and_(
        c.category == bindparam("category", type_=c.category.type),
        among_words(c.status, (s.value for s in OPEN)),
        or_(*conditions),
    )


def _values(
    *, grid_id: int, category: str, lat: float | None, lon: float | None, now: datetime
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "grid_id": grid_id,
        "category": category,
        "since": now - DUPLICATE_WINDOW,
    }
    if lat is not None and lon is not None:
        dlat = DUPLICATE_RADIUS_M / 111_000 * 1.5
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        values.update(lat_lo=lat - dlat, lat_hi=lat + dlat, lon_lo=lon - dlon, lon_hi=lon + dlon)
    return values


@cache
def _cases_query(near: bool) -> Any:
    return select(Case).where(_duplicate_filter(near)).order_by(col(Case.created_at).desc())


@cache
def _review_query(near: bool) -> Any:
    one = sa_select(cast(_GRID_ID, Integer).label("grid_id")).subquery("one")
    c = CASE.c
    return (
        sa_select(
            GRID.c.name,
            c.id,
            c.code,
            c.description,
            c.status,
            c.lat,
            c.lon,
            c.grid_id,
            c.created_at,
        )
        .select_from(one)
        .outerjoin(GRID, GRID.c.id == one.c.grid_id)
        .outerjoin(CASE, _duplicate_filter(near))
        .order_by(c.created_at.desc())
    )


def _is_duplicate(
    case: Any, *, grid_id: int, lat: float | None, lon: float | None, now: datetime
) -> bool:
    """Within 50 m, or in the same grid within 7 days (`case`: a `Case` or a row of its
    columns). The grid and the day are asked first: most duplicates are the grid's own, and
    the distance costs more to work out."""
    if case.grid_id == grid_id and case.created_at >= now - DUPLICATE_WINDOW:
        return True
    return (
        lat is not None
        and lon is not None
        and case.lat is not None
        and case.lon is not None
        and haversine_m(lat, lon, case.lat, case.lon) <= DUPLICATE_RADIUS_M
    )


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
    values = _values(grid_id=grid_id, category=category, lat=lat, lon=lon, now=now)
    query = _cases_query("lat_lo" in values)
    found: list[Case] = []
    for case in await session.exec(query, params=values):
        if _is_duplicate(case, grid_id=grid_id, lat=lat, lon=lon, now=now):
            found.append(case)
        if len(found) >= limit:
            break
    return found


class _Reviewed(NamedTuple):
    """A row of `_review_query`: the case's columns are all None when no case was joined to
    the grid (`id` says which), hence untyped."""

    grid_name: str | None
    id: int | None
    code: Any
    description: Any
    status: Any
    lat: Any
    lon: Any
    grid_id: Any
    created_at: Any


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
    values = _values(grid_id=grid_id, category=category, lat=lat, lon=lon, now=now)
    query = _review_query("lat_lo" in values)
    name: str | None = None
    found: list[DuplicateLine] = []
    # On the unit of work's connection (storage/unit_connection.py says why).
    connection = await unit_connection(session)
    for values_of in await all_values(connection, query, values):
        row = _Reviewed(*values_of)
        name = row.grid_name
        if row.id is not None and _is_duplicate(row, grid_id=grid_id, lat=lat, lon=lon, now=now):
            found.append(DuplicateLine(row.id, row.code, row.description, row.status))
        if len(found) >= limit:
            break
    return name, found
