"""Hazard cases and their append-only ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._columns import json_dict, json_list, stamped_now, telegram_id, timestamp


class Case(SQLModel, table=True):
    """The current state of a case. Every change to it is also a `CaseEvent`; the events are
    the ledger (台账), this row is their latest sum, kept for queries."""

    __table_args__ = (
        Index("ix_case_grid_status", "grid_id", "status"),
        Index("ix_case_status_deadline", "status", "deadline_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=32)
    grid_id: int = Field(foreign_key="grid.id", index=True)
    origin_grid_id: int = Field(foreign_key="grid.id")
    reporter_id: int = Field(foreign_key="person.id", index=True)
    category: str = Field(max_length=64)
    description: str = Field(max_length=2000)
    photos: list[str] = json_list()
    lat: float | None = None
    lon: float | None = None
    address: str | None = Field(default=None, max_length=500)
    severity: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    assignee_person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    assignee_department_id: int | None = Field(default=None, foreign_key="department.id")
    handler_id: int | None = Field(default=None, foreign_key="person.id")
    verifier_id: int | None = Field(default=None, foreign_key="person.id")
    extension_pending: bool = False
    extension_hours: int | None = None
    rework_count: int = 0
    escalation_count: int = 0
    rating: str | None = Field(default=None, max_length=16)
    patrol_id: int | None = Field(default=None, foreign_key="patrol.id")
    deadline_at: datetime | None = timestamp(index=True)
    created_at: datetime = stamped_now()
    updated_at: datetime = stamped_now()
    accepted_at: datetime | None = timestamp()
    assigned_at: datetime | None = timestamp()
    closed_at: datetime | None = timestamp()


class CaseCounter(SQLModel, table=True):
    """How many case codes a local day has issued: the next code is one UPDATE of this row,
    not a scan of the day's codes, and two reports in the same second cannot share it."""

    __tablename__ = "case_counter"

    day: str = Field(primary_key=True, max_length=8)  # "yymmdd" in the deployment's zone
    issued: int = 0


class CaseEvent(SQLModel, table=True):
    """One step in a case's life. Never updated or deleted."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    at: datetime = stamped_now()
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    actor_department_id: int | None = Field(default=None, foreign_key="department.id")
    kind: str = Field(max_length=32)
    status_after: str = Field(max_length=16)
    grid_id: int = Field(foreign_key="grid.id")
    note: str | None = Field(default=None, max_length=4000)
    data: dict[str, Any] = json_dict()


class CaseCard(SQLModel, table=True):
    """A message showing a case, edited in place as the case moves."""

    __tablename__ = "case_card"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    chat_id: int = telegram_id(nullable=False)
    message_id: int = telegram_id(nullable=False)
    kind: str = Field(default="group", max_length=16)
    created_at: datetime = stamped_now()
