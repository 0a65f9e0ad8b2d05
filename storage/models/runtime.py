"""The deployment's rules, conversation state, and replay protection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Text, false
from sqlmodel import Field, SQLModel

from storage.models._columns import json_dict, json_list, stamped_now


class Deployment(SQLModel, table=True):
    """One row (id 1): the rules of this deployment, from the import file or admin commands."""

    id: int = Field(default=1, primary_key=True)
    name: str = Field(default="gridbot", max_length=128)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    tg_id_start: int = Field(default=900000000, sa_column=Column(BigInteger, nullable=False))
    levels: list[str] = json_list()
    checklist: list[str] = json_list()
    categories: list[Any] = json_list()  # domain.categories.to_stored; older: bare labels
    severities: dict[str, Any] = json_dict()
    digest_time: str = Field(default="18:00", max_length=5)
    nag_time: str = Field(default="09:30", max_length=5)
    quiet_hours: str = Field(default="22:00-07:00", max_length=11)
    min_patrol_interval_minutes: int = 60
    overdue_escalate_working_days: int = 2
    accept_remind_hours: int = 2
    accept_escalate_hours: int = 24
    patrol_companions_count: bool = Field(
        default=False, sa_column_kwargs={"server_default": false()}
    )
    """A joint patrol (联合巡查) counts for its companions on the roster too."""
    case_rules: dict[str, Any] = json_dict()
    """The scenario's ``cases:`` block (`domain.case_rules.to_stored`); empty: the defaults."""
    monthly_time: str = Field(
        default="09:00", max_length=5, sa_column_kwargs={"server_default": "09:00"}
    )
    """When the monthly scoreboards go out on the 1st (local time); empty: not at all."""


class FsmRecord(SQLModel, table=True):
    """aiogram conversation state, kept in the database so a restart resumes a flow."""

    __tablename__ = "fsm_state"

    key: str = Field(primary_key=True, max_length=255)
    state: str | None = Field(default=None, max_length=255)
    data: dict[str, Any] = json_dict()
    updated_at: datetime = stamped_now()


class ProcessedUpdate(SQLModel, table=True):
    """Telegram delivers updates at least once; a seen update id is not handled again."""

    __tablename__ = "processed_update"

    bot_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = stamped_now()


class QuarantinedUpdate(SQLModel, table=True):
    """An update the bot could not even parse, kept raw so nothing Telegram sent is lost
    and one bad update never holds up the ones behind it."""

    __tablename__ = "quarantined_update"

    id: int | None = Field(default=None, primary_key=True)
    # None when Telegram's update_id itself is missing or does not fit in 64 bits.
    update_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    raw: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(max_length=1000)
    at: datetime = stamped_now()
