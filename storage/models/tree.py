"""The grid tree and who holds which role where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.models._columns import json_dict, stamped_now, telegram_id, timestamp


class Grid(SQLModel, table=True):
    """A node of the tree. `path` is the materialized path "/1/4/9/" of ids, root first,
    so a subtree is one `LIKE '/1/4/%'` and the ancestors are the ids in the path."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=128)
    parent_id: int | None = Field(default=None, foreign_key="grid.id", index=True)
    level: int
    level_label: str = Field(default="", max_length=32)
    path: str = Field(default="", index=True, max_length=512)
    geofence: dict[str, Any] | None = json_dict(nullable=True)
    group_chat_id: int | None = telegram_id(index=True)
    roll_call: bool = False
    archived_at: datetime | None = timestamp()
    created_at: datetime = stamped_now()

    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this grid, itself included."""
        return [int(p) for p in self.path.strip("/").split("/") if p]


class Role(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True, max_length=64)
    label: str = Field(max_length=64)
    is_leader: bool = False
    quota_period: str | None = Field(default=None, max_length=8)
    quota_count: int | None = None


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tg_id: int | None = telegram_id(unique=True, index=True)
    name: str = Field(max_length=128)
    username: str | None = Field(default=None, index=True, max_length=64)
    language: str | None = Field(default=None, max_length=8)
    reachable: bool = True
    is_admin: bool = False
    # Set while an imported roster file lists this person: the next import ends the
    # memberships of a listed person it no longer names (people who came by invite are
    # never listed, so a file does not touch them).
    listed: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # "<grid code>/<role key>/<i>" for a person the file lists without a tg_id: their
    # identity from one import to the next (the file's order is not).
    place: str | None = Field(default=None, unique=True, index=True, max_length=200)
    created_at: datetime = stamped_now()


class Membership(SQLModel, table=True):
    """Person × grid × role. One person may hold several (一岗双责)."""

    __table_args__ = (UniqueConstraint("person_id", "grid_id", "role_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    grid_id: int = Field(foreign_key="grid.id", index=True)
    role_id: int = Field(foreign_key="role.id", index=True)
    created_at: datetime = stamped_now()


class Department(SQLModel, table=True):
    """A 职能部门 cases can be transferred to; it answers from its bound chat."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=128)
    chat_id: int | None = telegram_id(index=True)
    archived_at: datetime | None = timestamp()
    created_at: datetime = stamped_now()
