"""Column helpers so every table spells time, Telegram ids and JSON the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field

from storage.types import UTCDateTime, utcnow


def stamped_now() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def timestamp(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def telegram_id(*, unique: bool = False, index: bool = False, nullable: bool = True) -> Any:
    return Field(
        default=None,
        sa_column=Column(BigInteger, unique=unique, index=index, nullable=nullable),
    )


# Plain functions, not the builtins `list` and `dict`: pydantic inspects a default factory's
# signature each time a row is made without that field, and for a builtin that inspection
# fails slowly (~70 us a field, more than the rest of making a Case).
def _empty_list() -> list[Any]:
    return []


def _empty_dict() -> dict[str, Any]:
    return {}


def json_list() -> Any:
    return Field(default_factory=_empty_list, sa_column=Column(JSON, nullable=False))


def json_dict(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_column=Column(JSON, nullable=True))
    return Field(default_factory=_empty_dict, sa_column=Column(JSON, nullable=False))


__all__ = ["datetime", "json_dict", "json_list", "stamped_now", "telegram_id", "timestamp"]
