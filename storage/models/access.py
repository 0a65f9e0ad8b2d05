"""Invites and the admin audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from storage.models._columns import json_dict, stamped_now, telegram_id, timestamp


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, index=True, max_length=64)
    grid_id: int = Field(foreign_key="grid.id")
    role_id: int = Field(foreign_key="role.id")
    max_uses: int = 1
    used_count: int = 0
    expires_at: datetime = timestamp(nullable=False)
    created_by: int | None = telegram_id()
    revoked: bool = False
    created_at: datetime = stamped_now()


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = stamped_now()
    actor_tg_id: int | None = telegram_id(index=True)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=256)
    detail: dict[str, Any] = json_dict()
