"""Patrols (巡查): the patrol ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from storage.models._columns import json_dict, json_list, stamped_now, timestamp


class Patrol(SQLModel, table=True):
    __table_args__ = (
        Index("ix_patrol_person_role_at", "person_id", "role_id", "started_at"),
        Index("ix_patrol_grid_at", "grid_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    grid_id: int = Field(foreign_key="grid.id")
    role_id: int = Field(foreign_key="role.id")
    kind: str = Field(default="full", max_length=8)
    status: str = Field(default="open", max_length=12)
    started_at: datetime = stamped_now()
    finished_at: datetime | None = timestamp()
    lat: float | None = None
    lon: float | None = None
    forwarded: bool = False
    checklist: dict[str, Any] = json_dict()
    notes: str | None = Field(default=None, max_length=2000)
    measures: str | None = Field(default=None, max_length=2000)
    photos: list[str] = json_list()
    flags: list[str] = json_list()
    counted: bool = False
    route: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
