"""A new row written by a plain ``INSERT … RETURNING id`` and held by the unit of work as
the ORM's flush would have left it: the flush of one new row (its dependency sort, its
per-attribute history) costs more than the steps that write it."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.direct_sql import one_values
from storage.loaded import hold_as_loaded
from storage.unit_connection import transaction_connection

M = TypeVar("M", bound=SQLModel)


async def add_new_row(
    session: AsyncSession, model: type[M], values: dict[str, Any], *, key_counted: bool = False
) -> M:
    """``model(**values)`` inserted and persistent in `session` (its id set, nothing
    pending). What the unit of work held goes first, as the flush would have written it.
    `key_counted`: the id counted by pydantic as set (see `write_key`)."""
    await session.flush()
    # On the unit of work's connection (storage/unit_connection.py says why), flushed above.
    connection = await transaction_connection(session)
    obj = built(model, values)
    into = obj.__dict__
    columns, statement = _insert_of(model)
    row = {name: into[name] for name in columns}
    (key,) = await one_values(connection, statement, row)
    write_key(obj, key, counted=key_counted)
    hold_as_loaded(session, obj)
    return obj


def write_key(obj: SQLModel, key: int, *, counted: bool) -> None:
    """A new row's key written into the instance's dict, as the flush writes it: not through
    `__setattr__`, whose ORM event would take the row for changed. `counted`: pydantic counts
    it as set too, as an assignment `obj.id = key` would have left it."""
    obj.__dict__["id"] = key
    if counted:
        obj.__pydantic_fields_set__.add("id")


def built(cls: type[M], values: dict[str, Any]) -> M:
    """What ``cls(**values)`` gives (a table model: not validated), each attribute written
    once into the instance's dict: the columns not given take their defaults, and pydantic
    counts as set only those given. Only for an object made persistent at once
    (`make_transient_to_detached`), which forgets the changes the hooks would have noted."""
    obj = manager_of_class(cls).new_instance()
    into = obj.__dict__
    names, defaults = _plan(cls)
    # In the constructor's order: the given columns, then the defaults.
    for name in names:
        if name in values:
            into[name] = values[name]
    for name, field, plain in defaults:
        if name not in values:
            into[name] = field.get_default(call_default_factory=True) if field else plain
    object.__setattr__(obj, "__pydantic_fields_set__", {n for n in names if n in values})
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


_PLAIN = (type(None), bool, int, float, str)


@cache
def _plan(cls: type[SQLModel]) -> tuple[tuple[str, ...], tuple[tuple[str, Any, Any], ...]]:
    """The fields in order, and those with a default: (name, the field when its default must
    be made anew, else None and the default). A plain constant is what `get_default` hands
    back as it is; a factory's or a container's default is made for each object."""
    fields = cls.model_fields
    defaults = []
    for name, field in fields.items():
        if field.is_required():
            continue
        plain = field.default_factory is None and type(field.default) in _PLAIN
        defaults.append((name, None if plain else field, field.default if plain else None))
    return tuple(fields), tuple(defaults)


@cache
def _insert_of(model: type[SQLModel]) -> tuple[tuple[str, ...], Any]:
    table: Any = model.__table__  # type: ignore[attr-defined]
    columns = tuple(c.name for c in table.columns if c.name != "id")
    return columns, insert(table).returning(table.c.id)
