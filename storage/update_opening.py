"""An update's first statement: replay protection, its conversation state, its speaker and the
deployment's row (storage/deployment_row.py).

Every update used to open with five round trips before a handler ran: a get and an insert
for replay protection, the FSM state (in a transaction of its own), the person, their roles.
Most of an update's wall time is the event loop waiting on the driver, so here they are one
statement: INSERT ... ON CONFLICT DO NOTHING RETURNING, whose RETURNING clause carries scalar
subqueries for the state and the person and one JSON array of the person's live roles.

No row back: the update was handled before, or another instance holds it (on PostgreSQL the
insert waits for that transaction and then finds the row, or takes over if it rolled back;
on SQLite the write lock taken by BEGIN IMMEDIATE orders them). Nothing is cached across
updates: everything is read inside the update's own transaction, so an import or an admin
command made by another process is seen by the next update, as before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, Text, TextualSelect, bindparam, column, text
from sqlalchemy.engine import Dialect
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.identity import Holding
from storage.deployment_row import hold_deployment, row_sql
from storage.direct_sql import first_row
from storage.models import FsmRecord, Person, ProcessedUpdate
from storage.speaker_row import hold_speaker
from storage.types import utcnow
from storage.unit_connection import transaction_connection

PROCESSED: Table = ProcessedUpdate.__table__  # type: ignore[attr-defined]
FSM: Table = FsmRecord.__table__  # type: ignore[attr-defined]
PERSON: Table = Person.__table__  # type: ignore[attr-defined]
# A holding as the JSON array carries it, in this order.
_HOLDING_COLUMNS = (
    "m.id",
    "g.id",
    "g.code",
    "g.name",
    "g.path",
    "g.level",
    "r.id",
    'r."key"',
    "r.label",
    "r.is_leader",
    "r.quota_period",
    "r.quota_count",
)


@dataclass(frozen=True)
class Opening:
    """What the first statement found, for an update this transaction has claimed."""

    fsm_key: str | None
    fsm_state: str | None
    fsm_data: dict[str, Any] | None
    """None: no state row under `fsm_key` (or no key asked for)."""
    tg_id: int | None
    person: dict[str, Any] | None
    """The person's columns; None: no person with `tg_id` (or no tg_id asked for)."""
    holdings: tuple[Holding, ...]


# Built once per (dialect, shape): the statement depends only on the tables, and building it
# (text, bind and column types) cost more than running it did.
_STATEMENTS: dict[tuple[str, bool, bool], TextualSelect] = {}


def _statement(dialect: Dialect, *, fsm: bool, person: bool) -> TextualSelect:
    key = (dialect.name, fsm, person)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _build(dialect, fsm=fsm, person=person)
    return statement


def _build(dialect: Dialect, *, fsm: bool, person: bool) -> TextualSelect:
    """The statement as text: SQLAlchemy renders the columns of subqueries in a RETURNING
    clause without their tables ("ambiguous column name: id"), so it is spelt out here, in
    SQL that SQLite and PostgreSQL read alike but for the JSON functions."""
    quote = dialect.identifier_preparer.quote
    returned = ["update_id", f"{row_sql(dialect)} AS deployment"]
    typed = [column("update_id", PROCESSED.c.update_id.type), column("deployment", Text())]
    if fsm:
        for name in ("state", "data"):
            returned.append(f"(SELECT f.{quote(name)} FROM fsm_state AS f"
                            f" WHERE f.{quote('key')} = :fsm_key) AS fsm_{name}")  # fmt: skip
            typed.append(column(f"fsm_{name}", FSM.c[name].type))
    if person:
        for col in PERSON.c:
            returned.append(f"(SELECT p.{quote(col.name)} FROM person AS p"
                            f" WHERE p.tg_id = :tg_id) AS person_{col.name}")  # fmt: skip
            typed.append(column(f"person_{col.name}", col.type))
        # As text on both (PostgreSQL would hand json_agg back decoded): one person's roles
        # come back as the same text on each of their updates, read once (`_holdings_in`).
        row, agg = (
            ("json_build_array", "json_agg({})::text")
            if dialect.name == "postgresql"
            else ("json_array", "json_group_array({})")
        )
        fields = ", ".join(_HOLDING_COLUMNS)
        returned.append(
            f"(SELECT {agg.format(f'{row}({fields})')} FROM membership AS m"
            " JOIN grid AS g ON g.id = m.grid_id AND g.archived_at IS NULL"
            " JOIN role AS r ON r.id = m.role_id"
            " WHERE m.person_id = (SELECT p.id FROM person AS p WHERE p.tg_id = :tg_id))"
            " AS holdings"
        )
        typed.append(column("holdings", Text()))
    sql = (
        "INSERT INTO processed_update (bot_id, update_id, at) VALUES (:bot_id, :update_id, :at)"
        " ON CONFLICT (bot_id, update_id) DO NOTHING RETURNING " + ", ".join(returned)
    )
    return text(sql).bindparams(bindparam("at", type_=PROCESSED.c.at.type)).columns(*typed)


_KEPT_HOLDINGS = 1024
"""Holdings texts whose reading is kept: the people who spoke lately."""


def _holding(values: list[Any]) -> Holding:
    m_id, g_id, code, name, path, _level, r_id, key, label, leader, period, count = values
    return Holding(
        membership_id=int(m_id),
        grid_id=int(g_id),
        grid_code=str(code),
        grid_name=str(name),
        grid_path=tuple(int(p) for p in str(path).strip("/").split("/") if p),
        role_id=int(r_id),
        role_key=str(key),
        role_label=str(label),
        is_leader=bool(leader),
        quota_period=period,
        quota_count=count,
    )


def _holdings(text: str | None) -> tuple[Holding, ...]:
    return () if text is None else _holdings_in(text)


@lru_cache(maxsize=_KEPT_HOLDINGS)
def _holdings_in(text: str) -> tuple[Holding, ...]:
    """The holdings a JSON text carries, kept per text: a person's roles come back as the
    same text on each of their updates until they change (then it is another text), and
    holdings are frozen, so one reading serves them all."""
    return _read_holdings(json.loads(text) or [])


def _read_holdings(rows: list[list[Any]]) -> tuple[Holding, ...]:
    # As storage.people.holdings_of orders them: by level, grid code, role key.
    ordered = sorted(rows, key=lambda r: (r[5], r[2], r[7]))
    return tuple(_holding(r) for r in ordered)


async def open_update(
    session: AsyncSession,
    *,
    bot_id: int,
    update_id: int,
    fsm_key: str | None,
    tg_id: int | None,
) -> Opening | None:
    """Claims the update and reads what every update needs; None: not this one's to handle."""
    statement = _statement(
        session.get_bind().dialect, fsm=fsm_key is not None, person=tg_id is not None
    )
    params: dict[str, Any] = {"bot_id": bot_id, "update_id": update_id, "at": utcnow()}
    if fsm_key is not None:
        params["fsm_key"] = fsm_key
    if tg_id is not None:
        params["tg_id"] = tg_id
    # On the session's connection: a textual statement needs none of session.execute's ORM
    # layer (nothing is flushed before an update's first statement); on SQLite straight to
    # the driver (storage/direct_sql.py).
    connection = await transaction_connection(session)
    row = await first_row(connection, statement, params)
    if row is None:
        return None
    hold_deployment(session, row["deployment"])
    person: dict[str, Any] | None = None
    holdings: tuple[Holding, ...] = ()
    if tg_id is not None and row["person_id"] is not None:
        person = {column.name: row[f"person_{column.name}"] for column in PERSON.c}
        holdings = _holdings(row["holdings"])
    hold_speaker(session, person)
    fsm_data = row["fsm_data"] if fsm_key is not None else None
    if isinstance(fsm_data, str):
        fsm_data = json.loads(fsm_data)
    return Opening(
        fsm_key=fsm_key,
        fsm_state=row["fsm_state"] if fsm_key is not None else None,
        fsm_data=dict(fsm_data) if fsm_data is not None else None,
        tg_id=tg_id,
        person=person,
        holdings=holdings,
    )
