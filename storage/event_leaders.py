"""A ledger step written with the leaders its card goes to, read by the same statement.

A new report's first step is followed at once by the read of its grid's leaders and the
grids they lead (`storage.cases.leaders_with_led_grids`), for its card and its hand-off:
here the insert's RETURNING clause carries them as one JSON array, one statement and a whole
ORM load fewer. The people become the unit of work's own as a query would leave them: one
already held is handed back as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Dialect, String, Table, bindparam, column, inspect, text
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.case_inserts import EVENT_COLUMNS, event_row, new_event
from storage.direct_sql import one_values
from storage.loaded import attach_loaded, held, json_value_reader
from storage.models import Case, CaseEvent, Person
from storage.new_rows import write_key
from storage.unit_connection import transaction_connection

PERSON: Table = Person.__table__  # type: ignore[attr-defined]
EVENT: Table = CaseEvent.__table__  # type: ignore[attr-defined]

Leaders = tuple[list[tuple[int, Person]], dict[int, frozenset[int]]]
"""As `storage.cases.leaders_with_led_grids` answers: (grid id, leader) in its order, and
each leader's led grids."""


async def append_event_with_leaders(
    session: AsyncSession,
    *,
    grid_ids: Iterable[int],
    case: Case,
    kind: str,
    at: datetime,
    actor_id: int | None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[CaseEvent, Leaders | None]:
    """`storage.cases.append_event`, and `leaders_with_led_grids(grid_ids)` as read right
    after it. None for the leaders when one of them is held with its values expired (a query
    would reload it: the caller asks the query)."""
    event = new_event(case=case, kind=kind, at=at, actor_id=actor_id, note=note, data=data)
    await session.flush()  # as append_event: what the unit of work holds goes first
    dialect = session.get_bind().dialect
    # The grids as a JSON array of their ids: a list bound to an IN clause is spelt out anew
    # at each execution.
    params = {**event_row(event), "grid_ids": f"[{','.join(map(str, sorted(set(grid_ids))))}]"}
    # On the session's connection: a textual statement needs none of session.execute's ORM
    # layer (the unit of work was flushed just above).
    connection = await transaction_connection(session)
    event_id, leaders = await one_values(connection, _statement(dialect.name), params)
    # The step is in no session: its key counted as set, as `event.id = ...` left it.
    write_key(event, event_id, counted=True)
    return event, _leaders(session, dialect, leaders)


def _leaders(session: AsyncSession, dialect: Dialect, raw: Any) -> Leaders | None:
    rows: list[list[Any]] = (json.loads(raw) if isinstance(raw, str) else raw) or []
    # The query's order: grid, person, membership.
    rows.sort(key=lambda r: (r[1], r[3], r[0]))
    people: dict[int, Person] = {}
    leaders: dict[int, tuple[int, Person]] = {}
    led: dict[int, set[int]] = {}
    for membership_id, grid_id, led_grid_id, *values in rows:
        person_id = int(values[0])
        person = people.get(person_id)
        if person is None:
            person = _person(session, dialect, person_id, values)
            if person is None:
                return None
            people[person_id] = person
        leaders.setdefault(int(membership_id), (int(grid_id), person))
        led.setdefault(person_id, set()).add(int(led_grid_id))
    return list(leaders.values()), {p: frozenset(g) for p, g in led.items()}


def _person(session: AsyncSession, dialect: Dialect, person_id: int, values: list[Any]) -> Any:
    in_unit = held(session, Person, person_id)
    if in_unit is not None:
        return None if inspect(in_unit).expired_attributes else in_unit
    read = {
        name: value if read_value is None else read_value(value)
        for (name, read_value), value in zip(_readers(dialect), values, strict=True)
    }
    return attach_loaded(session, Person, read)


_READERS: dict[str, tuple[tuple[str, Any], ...]] = {}


def _readers(dialect: Dialect) -> tuple[tuple[str, Any], ...]:
    """Per person column: its name and what turns its JSON value into what a query reads
    (None: the value as it is), made once per dialect."""
    found = _READERS.get(dialect.name)
    if found is None:
        found = _READERS[dialect.name] = tuple(
            (c.name, json_value_reader(dialect, c)) for c in PERSON.c
        )
    return found


@cache
def _statement(dialect: str) -> Any:
    """Built once per dialect, spelt out: SQLAlchemy renders a subquery in a RETURNING
    clause without correlating it to the row returned."""
    pg = dialect == "postgresql"
    row, agg = ("json_build_array", "json_agg") if pg else ("json_array", "json_group_array")
    grids = (
        "SELECT CAST(value AS INTEGER) FROM json_array_elements_text(CAST(:grid_ids AS json))"
        if pg
        else "SELECT value FROM json_each(:grid_ids)"
    )
    fields = ", ".join(["m.id", "m.grid_id", "o.grid_id", *(f'p."{c.name}"' for c in PERSON.c)])
    leaders = (
        f"(SELECT {agg}({row}({fields})){'::text' if pg else ''}"
        " FROM membership AS m JOIN person AS p ON p.id = m.person_id"
        " JOIN role AS r ON r.id = m.role_id"
        " JOIN membership AS o ON o.person_id = m.person_id"
        " JOIN role AS orl ON orl.id = o.role_id"
        f" WHERE m.grid_id IN ({grids}) AND r.is_leader = TRUE AND orl.is_leader = TRUE)"
    )
    names = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
    values = ", ".join(f":{name}" for name in EVENT_COLUMNS)
    sql = (
        f"INSERT INTO case_event ({names}) VALUES ({values})"
        f" RETURNING case_event.id AS id, {leaders} AS leaders"
    )
    return (
        text(sql)
        .bindparams(
            *(bindparam(name, type_=EVENT.c[name].type) for name in EVENT_COLUMNS),
            bindparam("grid_ids", type_=String),
        )
        .columns(column("id", EVENT.c.id.type), column("leaders"))
    )
