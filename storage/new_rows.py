"""A new row written by a plain ``INSERT … RETURNING id`` and held by the unit of work as
the ORM's flush would have left it: the flush of one new row (its dependency sort, its
per-attribute history) costs more than the steps that write it."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.case_inserts import built

M = TypeVar("M", bound=SQLModel)


async def add_new_row(session: AsyncSession, model: type[M], values: dict[str, Any]) -> M:
    """``model(**values)`` inserted and persistent in `session` (its id set, nothing
    pending). What the unit of work held goes first, as the flush would have written it."""
    await session.flush()
    obj = built(model, values)
    into = obj.__dict__
    columns, statement = _insert_of(model)
    row = {name: into[name] for name in columns}
    # Written into the dict as the flush writes a new row's key (not through __setattr__:
    # pydantic does not count it as set).
    into["id"] = (await session.execute(statement, row)).scalar_one()
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


@cache
def _insert_of(model: type[SQLModel]) -> tuple[tuple[str, ...], Any]:
    table: Any = model.__table__  # type: ignore[attr-defined]
    columns = tuple(c.name for c in table.columns if c.name != "id")
    return columns, insert(table).returning(table.c.id)
