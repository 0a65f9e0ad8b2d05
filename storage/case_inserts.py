"""A new case written by a plain insert and built straight into the state a flush leaves it
in: SQLModel's constructor sets every one of a case's thirty columns through both the ORM's
and pydantic's attribute hooks, which cost more than the rest of a report's submit. A ledger
step is built the same way (`new_event`) and written by `storage.cases.append_event` or, with
the leaders its card goes to, by `storage.event_leaders`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, CaseEvent
from storage.new_rows import add_new_row, built


async def add_new_case(session: AsyncSession, **values: Any) -> Case:
    """``Case(**values)`` written by a plain insert and held in the unit of work as a flush
    would have left it (`storage.new_rows.add_new_row`): the ORM's flush of a new row cost
    more than the rest of a report's submit."""
    # Its id counted as set, as `case.id = ...` had it when submit set it.
    return await add_new_row(session, Case, values, key_counted=True)


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
