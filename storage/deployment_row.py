"""The deployment's row, carried by the update's first statement (storage/update_opening.py).

Nearly every update reads the deployment's rules: the case rules, the categories, the
severities, the patrol rules, and each read was a `session.get(Deployment, 1)` whose first
loaded the row: one statement more and a whole ORM load per update. The first statement now
carries the row as one JSON text. A service that only reads the rules takes the row with
`deployment_to_read` (one instance per text, in no session); a writer's `session.get` puts
the row in the session as if loaded (storage.db.UnitSession). The text is the row itself,
read in the update's own transaction: a row changed by an import or an admin (in any
process) is new text, seen by the next update as before. What is worked out of a text (which
column is which, each value as its type reads it) is kept for the next update with the same
text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.loaded import attach_loaded, held, json_value_reader, keep
from storage.models import Deployment

DEPLOYMENT: Table = Deployment.__table__  # type: ignore[attr-defined]
_KEPT_TEXTS = 8
"""Row texts whose reading is kept: a deployment changes seldom; more is an old version."""


def row_sql(dialect: Dialect) -> str:
    """A scalar subquery: the row (id 1) as a JSON array of its columns in table order, each
    JSON column as its stored text; NULL when there is no row (before the first import)."""
    quote = dialect.identifier_preparer.quote
    postgresql = dialect.name == "postgresql"
    # PostgreSQL would nest a JSON column as JSON; its stored text is what is wanted.
    parts = ", ".join(
        f"d.{quote(c.name)}::text" if postgresql and _is_json(c.type) else f"d.{quote(c.name)}"
        for c in DEPLOYMENT.c
    )
    row = f"json_build_array({parts})::text" if postgresql else f"json_array({parts})"
    return f"(SELECT {row} FROM deployment AS d WHERE d.id = 1)"


def _is_json(type_: Any) -> bool:
    return isinstance(type_, JSON)


@dataclass(frozen=True)
class _Reading:
    """A row text, read: the plain columns' values, and each JSON column's stored text (its
    value is made anew for each session, which may change it)."""

    plain: dict[str, Any]
    stored_json: tuple[tuple[str, str | None], ...]

    def values(self) -> dict[str, Any]:
        values = dict(self.plain)
        for name, stored in self.stored_json:
            values[name] = None if stored is None else json.loads(stored)
        return values

    @cached_property
    def shared(self) -> Deployment:
        """The row as one instance in no session, for every update that read this text and
        only reads it (`deployment_to_read`)."""
        return Deployment(**self.values())


@lru_cache(maxsize=_KEPT_TEXTS)
def _reading(dialect: Dialect, text: str) -> _Reading:
    plain: dict[str, Any] = {}
    stored_json: list[tuple[str, str | None]] = []
    for column, value in zip(DEPLOYMENT.c, json.loads(text), strict=True):
        if _is_json(column.type):
            stored_json.append((column.name, value))
            continue
        # As the ORM would read the column (SQLite's 0/1 for a boolean, say).
        process = json_value_reader(dialect, column)
        plain[column.name] = process(value) if process is not None else value
    return _Reading(plain, tuple(stored_json))


_HELD = "gridbot_deployment_row"


def hold_deployment(session: AsyncSession, text: str | None) -> None:
    """Keeps `text` (from `row_sql`) for the session's first `get` of the row: many updates
    never read the row, and putting it in the session costs more than holding its text."""
    session.sync_session.info[_HELD] = text


async def deployment_to_read(session: AsyncSession) -> Deployment | None:
    """The deployment's row, to read and never to change (a writer takes it with
    `session.get(Deployment, 1)`): what that get would give, without putting the row in the
    session when the update's first statement read it. In order: the row the unit of work
    holds (changed or not), the row of the text the first statement read (one instance in no
    session, shared by the updates that read the same text), or the get's."""
    found = _at_hand(session.sync_session)
    return await session.get(Deployment, 1) if found is _NOT_AT_HAND else found


def deployment_at_hand(session: AsyncSession) -> bool:
    """Whether `deployment_to_read` gives the row (or its absence) without a query."""
    return _at_hand(session.sync_session) is not _NOT_AT_HAND


_NOT_AT_HAND: Any = object()


def _at_hand(sync: Session) -> Any:
    """The row (None: there is none) if the unit of work has it without a query, else
    `_NOT_AT_HAND`."""
    in_unit = held(sync, Deployment, 1)
    if in_unit is not None:
        return _NOT_AT_HAND if instance_state(in_unit).expired else in_unit
    if _HELD not in sync.info:
        return _NOT_AT_HAND
    text = sync.info[_HELD]
    return None if text is None else _reading(sync.get_bind().dialect, text).shared


def forget_held_deployment(session: Session, _previous: object = None) -> None:
    """After a commit or a rollback (storage.db.UnitSession): the text read at the start of
    the transaction is no longer the row's to vouch for; a later read asks again."""
    session.info.pop(_HELD, None)


def attach_held_deployment(session: Session) -> None:
    """Before `session.get(Deployment, …)` (storage.db.UnitSession): the row held by
    `hold_deployment`, put in the session as if loaded, unless the session has the row already
    or holds no text (no row, or none read)."""
    text = session.info.pop(_HELD, None)
    if text is None or held(session, Deployment, 1) is not None:
        return
    values = _reading(session.get_bind().dialect, text).values()
    deployment = attach_loaded(session, Deployment, values)
    keep(session, deployment)
