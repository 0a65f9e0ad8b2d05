"""What a new row's object carries, to compare a plain insert's with the ORM flush's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect


def looks(
    obj: Any, *, left_out: tuple[str, ...] = ("id",), repr_as: Callable[[str], str] = str
) -> dict[str, Any]:
    """Everything `obj` carries: its values (but `left_out`, which differ between the two
    rows), its repr up to the id (through `repr_as`), pydantic's and the ORM's state."""
    state = inspect(obj)
    skipped = ("_sa_instance_state", *left_out)
    return {
        "dict": {k: v for k, v in obj.__dict__.items() if k not in skipped},
        "repr": repr_as(repr(obj)).split(" id=")[0],
        "order": list(obj.__dict__),
        "fields_set": obj.__pydantic_fields_set__,
        "extra": obj.__pydantic_extra__,
        "private": obj.__pydantic_private__,
        "committed": dict(state.committed_state),
        "modified": state.modified,
        "expired": state.expired_attributes,
        "persistent": state.persistent,
        "unloaded": state.unloaded,
    }
