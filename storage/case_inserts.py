"""A new case written by a plain insert and built straight into the state a flush leaves it
in: SQLModel's constructor sets every one of a case's thirty columns through both the ORM's
and pydantic's attribute hooks, which cost more than the rest of a report's submit. A ledger
step is built the same way (`new_event`) and written by `storage.cases.append_event` or, with
the leaders its card goes to, by `storage.event_leaders`."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseEvent

M = TypeVar("M", bound=SQLModel)


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


async def add_new_case(session: AsyncSession, **values: Any) -> Case:
    """``Case(**values)`` written by a plain insert and held in the unit of work as a flush
    would have left it (persistent, its id set, nothing pending): the ORM's flush of a new
    row cost more than the rest of a report's submit. What the unit of work held goes
    first."""
    await session.flush()
    case = built(Case, values)
    into = case.__dict__
    row = {name: into[name] for name in _CASE_COLUMNS}
    # Set as `case.id = ...` would (the hooks' notes are forgotten by the next line anyway).
    into["id"] = (await session.execute(_INSERT_CASE, row)).scalar_one()
    case.__pydantic_fields_set__.add("id")
    make_transient_to_detached(case)
    session.add(case)
    return case


_CASE_TABLE: Any = Case.__table__  # type: ignore[attr-defined]
_CASE_COLUMNS = tuple(c.name for c in _CASE_TABLE.columns if c.name != "id")
_INSERT_CASE = insert(_CASE_TABLE).returning(_CASE_TABLE.c.id)


def new_event(
    *,
    case: Case,
    kind: str,
    at: datetime,
    actor_id: int | None,
    actor_department_id: int | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """The step `storage.cases.append_event` writes, not yet written (no id)."""
    assert case.id is not None
    # As the constructor builds it, without its per-column hooks: it is never added to a session.
    return built(
        CaseEvent,
        {
            "case_id": case.id,
            "at": at,
            "actor_id": actor_id,
            "actor_department_id": actor_department_id,
            "kind": kind,
            "status_after": case.status,
            "grid_id": case.grid_id,
            "note": note,
            "data": data or {},
        },
    )


def event_row(event: CaseEvent) -> dict[str, Any]:
    """The values an insert of `event` writes (all its columns but the id)."""
    into = event.__dict__
    return {name: into[name] for name in EVENT_COLUMNS}


_EVENT_TABLE: Any = CaseEvent.__table__  # type: ignore[attr-defined]
EVENT_COLUMNS = tuple(c.name for c in _EVENT_TABLE.columns if c.name != "id")
INSERT_EVENT = insert(_EVENT_TABLE).returning(_EVENT_TABLE.c.id)
