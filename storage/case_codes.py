"""Case codes (编号): "H" + the local day + "-" + the day's sequence, from a counter row per
day bumped in the caller's transaction (read through `storage.cases`)."""

from __future__ import annotations

from sqlalchemy import Dialect, String, TextClause, bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession


async def next_case_code(session: AsyncSession, *, day: str) -> str:
    """The next free code of a local day: "H" + yymmdd + "-" + a 3-digit sequence.

    `day` is "yymmdd" in the deployment's zone. Past 999 cases a day the sequence grows a
    digit. The day's counter row is bumped in the caller's transaction, which holds it
    locked until commit, so two reports in the same second never draw the same number;
    the cost does not grow with the ledger.
    """
    prefix = f"H{day}-"
    statement = _bump_statement(session.get_bind().dialect)
    while True:
        # A code written by another path (a restored ledger, a hand-made row) is skipped
        # rather than clashed with: one lookup on the unique index, in the same statement.
        row = (await session.execute(statement, {"day": day, "prefix": prefix})).one()
        if row.taken is None:
            return f"{prefix}{int(row.issued):03d}"


# Built once per dialect: SQLAlchemy renders a subquery in a RETURNING clause without
# correlating it to the row returned, so the statement is spelt out.
_BUMPS: dict[str, TextClause] = {}


def _bump_statement(dialect: Dialect) -> TextClause:
    statement = _BUMPS.get(dialect.name)
    if statement is None:
        # The code as Python spells it (f"{n:03d}"): at least three digits, zero-padded.
        issued = "CAST(case_counter.issued AS VARCHAR)"
        number = (
            "printf('%03d', case_counter.issued)"
            if dialect.name == "sqlite"
            else f"CASE WHEN case_counter.issued < 1000 THEN lpad({issued}, 3, '0')"
            f" ELSE {issued} END"
        )
        sql = (
            "INSERT INTO case_counter (day, issued) VALUES (:day, 1)"
            " ON CONFLICT (day) DO UPDATE SET issued = case_counter.issued + 1"
            ' RETURNING case_counter.issued AS issued, (SELECT c.id FROM "case" AS c'
            f" WHERE c.code = CAST(:prefix AS VARCHAR) || {number}) AS taken"
        )
        statement = _BUMPS[dialect.name] = text(sql).bindparams(
            bindparam("day", type_=String), bindparam("prefix", type_=String)
        )
    return statement
