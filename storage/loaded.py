"""Rows read by a plain statement, put in a session as if the ORM had loaded them.

The update's first statement (storage/update_opening.py) reads the speaker and the
deployment's row along with everything else; here they become the session's own instances,
so a later `session.get` finds them without a query and a change to them is written when the
unit of work flushes, with no select first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")
_KEPT = "gridbot_kept"


def attach_loaded(session: AsyncSession | Session, model: type[T], values: dict[str, Any]) -> T:
    """An instance of `model` holding `values` (its columns' own values, as a query would
    give them), in `session` as a loaded row."""
    # Made as the ORM makes a loaded row (a bare instance, its columns put in place), not
    # through the model's constructor: the values are already the columns' own, and the
    # constructor's validation was most of what reading the row this way saves.
    manager = manager_of_class(model)
    # A process whose first use of the ORM is this (an instance without the scheduler) has
    # not configured the mappers yet; a query would have, a bare instance does not. Once the
    # model's mapper is configured there is nothing left to do: asking again on every attach
    # walked all the registries each time.
    if not manager.mapper.configured:
        configure_mappers()
    instance: T = manager.new_instance()
    instance.__dict__.update(values)
    hold_as_loaded(session, instance)
    return instance


def hold_as_loaded(session: AsyncSession | Session, instance: object) -> None:
    """`instance`, its columns' values in place and its key among them, in `session` as a
    loaded row (persistent, nothing pending): a change to it is written by the flush."""
    make_transient_to_detached(instance)
    session.add(instance)


def keep(session: Session, instance: object) -> None:
    """Held by `session` until it ends: its identity map holds rows only while something
    else does, and a row a unit of work reads several times is read once."""
    session.info.setdefault(_KEPT, []).append(instance)


def held(session: AsyncSession | Session, model: type[T], primary_key: int) -> T | None:
    """The instance of `model` with `primary_key` that the session holds (loaded, or
    expired), or None. Its identity key is spelt out as the mapper spells it (a single-column
    key, no identity token): asking the mapper cost more than the look-up itself."""
    found: T | None = session.identity_map.get((model, (primary_key,), None))
    return found


def json_value_reader(dialect: Dialect, col: Any) -> Any:
    """What turns a column's value, as a JSON array built by the database carries it, into
    what a query of the column reads (None: the value as it is)."""
    process = col.type.dialect_impl(dialect).result_processor(dialect, None)
    # PostgreSQL writes a timestamp into JSON as ISO text, where its driver hands a datetime.
    from_text = dialect.name == "postgresql" and isinstance(
        getattr(col.type, "impl", col.type), DateTime
    )
    if not from_text:
        return process

    def read(value: Any) -> Any:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return process(value) if process is not None else value

    return read
