"""Case codes (编号): "H" + the local day + "-" + the day's sequence, from a counter row per
day bumped in the caller's transaction (read through `storage.cases`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Dialect, String, Table, TextClause, bindparam, column, inspect, text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.direct_sql import first_values
from storage.loaded import attach_loaded, held
from storage.models import Grid
from storage.unit_connection import transaction_connection

GRID: Table = Grid.__table__  # type: ignore[attr-defined]


async def next_case_code(session: AsyncSession, *, day: str) -> str:
    """The next free code of a local day: "H" + yymmdd + "-" + a 3-digit sequence.

    `day` is "yymmdd" in the deployment's zone. Past 999 cases a day the sequence grows a
    digit. The day's counter row is bumped in the caller's transaction, which holds it
    locked until commit, so two reports in the same second never draw the same number;
    the cost does not grow with the ledger.
    """
    prefix = f"H{day}-"
    statement = _bump_statement(session.get_bind().dialect, grid=False)
    while True:
        # A code written by another path (a restored ledger, a hand-made row) is skipped
        # rather than clashed with: one lookup on the unique index, in the same statement.
        row = (await session.execute(statement, {"day": day, "prefix": prefix})).one()
        if row.taken is None:
            return f"{prefix}{int(row.issued):03d}"


async def next_case_code_in(
    session: AsyncSession, *, day: str, grid_id: int
) -> tuple[str, Grid] | None:
    """`next_case_code` for a case in the grid `grid_id`, and the grid, read by the same
    statement (a report's submit read it first, one statement and a whole ORM load more).
    None, and no number drawn, when there is no such grid or it is archived. The grid is the
    unit of work's own when it holds it already, as `session.get` would hand it back."""
    prefix = f"H{day}-"
    statement = _bump_statement(session.get_bind().dialect, grid=True)
    params = {"day": day, "prefix": prefix, "grid_id": grid_id}
    # On the session's connection: a textual statement needs none of session.execute's ORM
    # layer (which neither flushes nor loads anything for it); sent straight to the driver.
    connection = await transaction_connection(session)
    while True:
        row = await first_values(connection, statement, params)
        if row is None:
            return None
        issued, taken = row[:2]
        if taken is None:
            break
    code = f"{prefix}{int(issued):03d}"
    in_unit = held(session, Grid, grid_id)
    if in_unit is None:
        values: dict[str, Any] = {c.name: row[i] for i, c in enumerate(GRID.c, start=2)}
        return code, attach_loaded(session, Grid, values)
    # Held already: as `session.get` hands it back (reloaded if its values were expired).
    grid = in_unit if not inspect(in_unit).expired_attributes else await session.get(Grid, grid_id)
    assert grid is not None
    return code, grid


# Built once per (dialect, shape): SQLAlchemy renders a subquery in a RETURNING clause without
# correlating it to the row returned, so the statement is spelt out.
_BUMPS: dict[tuple[str, bool], TextClause] = {}


def _bump_statement(dialect: Dialect, *, grid: bool) -> Any:
    statement = _BUMPS.get((dialect.name, grid))
    if statement is None:
        statement = _BUMPS[dialect.name, grid] = _build(dialect, grid=grid)
    return statement


def _build(dialect: Dialect, *, grid: bool) -> Any:
    # The code as Python spells it (f"{n:03d}"): at least three digits, zero-padded.
    issued = "CAST(case_counter.issued AS VARCHAR)"
    number = (
        "printf('%03d', case_counter.issued)"
        if dialect.name == "sqlite"
        else f"CASE WHEN case_counter.issued < 1000 THEN lpad({issued}, 3, '0') ELSE {issued} END"
    )
    returned = [
        "case_counter.issued AS issued",
        '(SELECT c.id FROM "case" AS c'
        f" WHERE c.code = CAST(:prefix AS VARCHAR) || {number}) AS taken",
    ]
    if not grid:
        sql = "INSERT INTO case_counter (day, issued) VALUES (:day, 1)"
    else:
        # No row is inserted or bumped unless the grid is live: then nothing comes back.
        sql = (
            "INSERT INTO case_counter (day, issued) SELECT :day, 1 WHERE EXISTS"
            " (SELECT 1 FROM grid AS g WHERE g.id = :grid_id AND g.archived_at IS NULL)"
        )
        quote = dialect.identifier_preparer.quote
        returned += [
            f"(SELECT g.{quote(c.name)} FROM grid AS g WHERE g.id = :grid_id) AS grid_{c.name}"
            for c in GRID.c
        ]
    sql += (
        " ON CONFLICT (day) DO UPDATE SET issued = case_counter.issued + 1"
        " RETURNING " + ", ".join(returned)
    )
    statement = text(sql).bindparams(
        bindparam("day", type_=String), bindparam("prefix", type_=String)
    )
    if not grid:
        return statement
    return statement.columns(
        column("issued"), column("taken"), *(column(f"grid_{c.name}", c.type) for c in GRID.c)
    )
