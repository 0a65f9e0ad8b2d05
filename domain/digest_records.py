"""The records of the digest's snapshot (`domain.digest.Snapshot`): what the grouped
queries of storage/digest.py hand over, one record per row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from domain.cases import SEVERITY_BY_ZH, Severity

# The records below are NamedTuples: a city's snapshot holds a few hundred thousand of them,
# and a tuple is several times cheaper to build than a (frozen) dataclass.


class GridNode(NamedTuple):
    id: int
    parent_id: int | None
    name: str
    code: str
    depth: int


class PersonInfo(NamedTuple):
    id: int
    name: str
    tg_id: int | None
    language: str | None
    reachable: bool


class Holding(NamedTuple):
    """One membership as the chasing needs it."""

    membership_id: int
    person_id: int
    grid_id: int
    role_id: int
    role_label: str
    is_leader: bool
    quota_period: str | None
    quota_count: int | None


_PERIOD_INDEX = {"day": 0, "week": 1, "month": 2}


class DoneCounts(NamedTuple):
    """Counted patrols of one person × grid × role since the start of each current window;
    the `joint_*` part of them were walked as a roster companion of someone else's patrol
    (credited when the deployment counts companions)."""

    day: int = 0
    week: int = 0
    month: int = 0
    joint_day: int = 0
    joint_week: int = 0
    joint_month: int = 0

    def of(self, period: str) -> int:
        return self[_PERIOD_INDEX[period]]

    def joint(self, period: str) -> int:
        return self[3 + _PERIOD_INDEX[period]]


class CaseRow(NamedTuple):
    """Counts for one grid × severity (the grouped case query)."""

    grid_id: int
    severity: str
    new: int = 0
    accepted: int = 0
    closed: int = 0
    overdue: int = 0
    escalated: int = 0


class NamedCase(NamedTuple):
    id: int
    code: str
    grid_id: int
    description: str
    overdue: bool


@dataclass(frozen=True)
class Snapshot:
    """Everything the digests of a day need, from the grouped queries."""

    grids: tuple[GridNode, ...]
    people: Mapping[int, PersonInfo]
    holdings: tuple[Holding, ...]
    done: Mapping[tuple[int, int, int], DoneCounts]
    cases: tuple[CaseRow, ...] = ()
    flagged: Mapping[int, int] = field(default_factory=dict)
    closure: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    """grid id -> (closed this month with a deadline, of which on time)."""
    open_cases: Mapping[tuple[int, str], int] = field(default_factory=dict)
    """(grid id, status) -> open cases in that status."""
    critical: tuple[NamedCase, ...] = ()
    supervised: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    """grid id -> (督办 yellow, red): open cases past 80 % of their stage's time limit, and
    past it (`domain.case_rules.flags_by`)."""


def is_critical(severity: str) -> bool:
    return SEVERITY_BY_ZH.get(severity, severity) == Severity.CRITICAL


def severity_key(severity: str) -> Severity | str:
    try:
        return SEVERITY_BY_ZH.get(severity) or Severity(severity)
    except ValueError:
        return severity
