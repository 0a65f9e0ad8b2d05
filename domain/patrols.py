"""Patrol check-ins: what makes one count, and the checklist walked on a patrol.

A check-in counts toward the quota iff :func:`assess_checkin` returns no flag. The flags
make a patrol hard to fake without making an honest one hard to record:

- ``OUTSIDE_GEOFENCE``: the grid has a geofence and the location is not in it;
- ``FORWARDED``: the location message was forwarded (someone else's, or an old one);
- ``TOO_SOON``: less than ``min_interval`` from the last counted patrol of the same
  person in the same grid (either side: updates may arrive out of order). Exactly
  ``min_interval`` apart is fine;
- ``SAME_COORDINATES``: within 1 m of the last counted patrol's location. Phone GPS fixes
  taken on two different walks differ by metres; an identical fix means a replayed or
  hand-typed location.

Flagged check-ins are still recorded (the ledger keeps everything); they just do not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.geo import Geofence, haversine_m

__all__ = [
    "DEFAULT_CHECKLIST",
    "SAME_COORDINATES_M",
    "ChecklistItem",
    "ChecklistResult",
    "ItemStatus",
    "LastPatrol",
    "PatrolFlag",
    "assess_checkin",
    "checkin_counts",
    "default_checklist",
]

# Two fixes closer than this (metres) are "the same coordinates".
SAME_COORDINATES_M = 1.0

# 安全疏散 exits, 消防设施 fire equipment, 灭火器具 extinguishers, 用火 / 用电 / 用气 / 用油.
DEFAULT_CHECKLIST: tuple[str, ...] = (
    "安全疏散",
    "消防设施",
    "灭火器具",
    "用火",
    "用电",
    "用气",
    "用油",
)


class PatrolFlag(StrEnum):
    OUTSIDE_GEOFENCE = "outside_geofence"
    FORWARDED = "forwarded"
    TOO_SOON = "too_soon"
    SAME_COORDINATES = "same_coordinates"


@dataclass(frozen=True)
class LastPatrol:
    """The last counted patrol of the same person in the same grid."""

    at: datetime
    lat: float
    lon: float


def assess_checkin(
    *,
    lat: float,
    lon: float,
    at: datetime,
    forwarded: bool,
    geofence: Geofence | None,
    last_counted: LastPatrol | None,
    min_interval: timedelta,
) -> tuple[PatrolFlag, ...]:
    """The reasons a check-in does not count, in :class:`PatrolFlag` order; empty if it does."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"at must be timezone-aware, got naive {at!r}")
    if min_interval < timedelta(0):
        raise ValueError(f"min_interval must not be negative, got {min_interval}")
    flags: list[PatrolFlag] = []
    if geofence is not None and not geofence.contains(lat, lon):
        flags.append(PatrolFlag.OUTSIDE_GEOFENCE)
    if forwarded:
        flags.append(PatrolFlag.FORWARDED)
    if last_counted is not None:
        if abs(at - last_counted.at) < min_interval:
            flags.append(PatrolFlag.TOO_SOON)
        if haversine_m(lat, lon, last_counted.lat, last_counted.lon) < SAME_COORDINATES_M:
            flags.append(PatrolFlag.SAME_COORDINATES)
    return tuple(flags)


def checkin_counts(flags: Iterable[PatrolFlag]) -> bool:
    """A check-in counts toward the quota iff it has no flag."""
    return not tuple(flags)


def default_checklist() -> tuple[str, ...]:
    """The design's seven fire-safety items, for a deployment that sets none."""
    return DEFAULT_CHECKLIST


class ItemStatus(StrEnum):
    OK = "ok"
    PROBLEM = "problem"


@dataclass(frozen=True)
class ChecklistItem:
    name: str
    status: ItemStatus | None = None
    """None while the item has not been answered yet."""
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status is ItemStatus.OK

    @property
    def problem(self) -> bool:
        return self.status is ItemStatus.PROBLEM


@dataclass
class ChecklistResult:
    """The answers of one patrol's checklist, item by item, in checklist order.

    Items are addressed by name or by 0-based index (short enough for callback data).
    Serializable with :meth:`to_dict` / :meth:`from_dict` for conversation state.
    """

    items: list[ChecklistItem] = field(default_factory=list)

    @classmethod
    def start(cls, names: Sequence[str] | None = None) -> ChecklistResult:
        """A fresh checklist of ``names`` (the default seven when None), all unanswered."""
        chosen = default_checklist() if names is None else tuple(names)
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"checklist items must be unique, got {list(chosen)}")
        if any(not n.strip() for n in chosen):
            raise ValueError("checklist items must not be blank")
        return cls(items=[ChecklistItem(name=n) for n in chosen])

    def _index(self, item: str | int) -> int:
        if isinstance(item, int):
            if not 0 <= item < len(self.items):
                raise KeyError(f"no checklist item #{item}")
            return item
        for i, it in enumerate(self.items):
            if it.name == item:
                return i
        raise KeyError(f"no checklist item {item!r}")

    def mark(self, item: str | int, ok: bool, note: str = "") -> ChecklistItem:
        """Answer one item (again, if it was answered already) and return it."""
        i = self._index(item)
        marked = ChecklistItem(
            name=self.items[i].name,
            status=ItemStatus.OK if ok else ItemStatus.PROBLEM,
            note=note,
        )
        self.items[i] = marked
        return marked

    def mark_rest_ok(self) -> None:
        """Mark every unanswered item OK ("all fine" button)."""
        for i, it in enumerate(self.items):
            if it.status is None:
                self.items[i] = ChecklistItem(name=it.name, status=ItemStatus.OK)

    def problems(self) -> tuple[ChecklistItem, ...]:
        """Items answered with a problem; each opens a prefilled hazard report."""
        return tuple(it for it in self.items if it.problem)

    def pending(self) -> tuple[ChecklistItem, ...]:
        return tuple(it for it in self.items if it.status is None)

    @property
    def complete(self) -> bool:
        return not self.pending()

    @property
    def all_ok(self) -> bool:
        return self.complete and not self.problems()

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": [
                {
                    "name": it.name,
                    "status": None if it.status is None else str(it.status),
                    "note": it.note,
                }
                for it in self.items
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChecklistResult:
        items = []
        for raw in data.get("items", []):
            status = raw.get("status")
            items.append(
                ChecklistItem(
                    name=str(raw["name"]),
                    status=None if status is None else ItemStatus(status),
                    note=str(raw.get("note", "")),
                )
            )
        return cls(items=items)
