"""The shapes a scenario file resolves to (see ``domain.scenario`` for the rules).

Everything here is a frozen dataclass of plain values, so that a parsed file, what the
database holds (``domain.scenario_diff.Snapshot``) and the difference between the two can be
compared with ``==``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from domain.case_rules import CaseRules
from domain.categories import Category

__all__ = [
    "DEFAULT_TG_ID_START",
    "DEFAULT_TIMEZONE",
    "MAX_ERRORS",
    "PERIODS",
    "DepartmentSpec",
    "GridSpec",
    "MembershipSpec",
    "PersonSpec",
    "QuotaSpec",
    "RoleSpec",
    "Scenario",
    "ScenarioError",
    "ScenarioSettings",
    "ScheduleSpec",
    "SeveritySpec",
    "place_of",
]

DEFAULT_TG_ID_START = 900_000_000
DEFAULT_TIMEZONE = "Asia/Shanghai"
MAX_ERRORS = 50
PERIODS = ("day", "week", "month")


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded: where (1-based line, if known) and why.

    ``str(err)`` is ``"<source>:<line>: <reason>"`` (``"<source>: <reason>"`` without a line),
    the shape editors and compilers use, so an admin can jump to the spot. A file with several
    problems raises one error whose ``line`` and ``message`` are the first problem's and whose
    ``errors`` holds them all (up to ``MAX_ERRORS``), each on its own line of ``str(err)``.
    """

    def __init__(
        self,
        line: int | None,
        message: str,
        *,
        source: str = "<scenario>",
        errors: Sequence[ScenarioError] = (),
    ) -> None:
        self.line = line
        self.message = message
        self.source = source
        self.errors: tuple[ScenarioError, ...] = tuple(errors) or (self,)
        super().__init__(str(self))

    def __str__(self) -> str:
        if len(self.errors) > 1:
            return "\n".join(e.location() for e in self.errors)
        return self.location()

    def location(self) -> str:
        """This one problem as ``"<source>:<line>: <reason>"``."""
        if self.line is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        listed = [(e.line, e.message, e.source) for e in self.errors if e is not self]
        return (_rebuild_error, (self.line, self.message, self.source, listed))


def _rebuild_error(
    line: int | None,
    message: str,
    source: str,
    listed: Sequence[tuple[int | None, str, str]] = (),
) -> ScenarioError:
    errors = [ScenarioError(*e[:2], source=e[2]) for e in listed]
    return ScenarioError(line, message, source=source, errors=errors)


@dataclass(frozen=True)
class QuotaSpec:
    """``count`` patrols required per ``period`` (one of ``PERIODS``)."""

    period: str
    count: int

    def __str__(self) -> str:
        return f"{self.count}/{self.period}"


@dataclass(frozen=True)
class RoleSpec:
    key: str
    label: str
    leader: bool = False
    quota: QuotaSpec | None = None


@dataclass(frozen=True)
class SeveritySpec:
    name: str
    deadline_hours: int
    notify_to_root: bool = False

    def __str__(self) -> str:
        return f"{self.deadline_hours}h" + (", notify to root" if self.notify_to_root else "")


@dataclass(frozen=True)
class ScheduleSpec:
    """Local times (in the scenario's time zone). Quiet hours may cross midnight."""

    digest: time
    nag: time
    quiet_start: time | None = None
    quiet_end: time | None = None

    @property
    def quiet(self) -> str | None:
        """The quiet window as written in a file (``"22:00-07:00"``), or None."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        return f"{self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}"

    def is_quiet(self, at: time) -> bool:
        """Whether local time ``at`` is inside the quiet window ``[start, end)``."""
        start, end = self.quiet_start, self.quiet_end
        if start is None or end is None:
            return False
        at = at.replace(tzinfo=None)
        if start < end:
            return start <= at < end
        return at >= start or at < end  # crosses midnight


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str


@dataclass(frozen=True)
class GridSpec:
    """One grid. ``level`` is its depth (root 1); ``level_label`` is ``levels[level - 1]``.

    ``geofence`` is None or the normalized import shape ``{"center": [lat, lon],
    "radius_m": r}`` / ``{"polygon": [[lat, lon], ...]}`` (see ``domain.geo``).
    """

    code: str
    name: str
    parent_code: str | None
    level: int
    level_label: str
    geofence: dict[str, Any] | None = None
    roll_call: bool = False


@dataclass(frozen=True)
class PersonSpec:
    """A person. ``place`` is set for a person the file lists without a tg_id: their seat,
    ``"<grid code>/<role key>/<i>"`` (the i-th such person of that role in that grid), which
    is what identifies them from one import to the next (see ``domain.scenario``)."""

    tg_id: int
    name: str
    place: str | None = None


def place_of(grid_code: str, role_key: str, ordinal: int) -> str:
    """The place of the ``ordinal``-th person without a tg_id of ``role_key`` in a grid."""
    return f"{grid_code}/{role_key}/{ordinal}"


@dataclass(frozen=True)
class MembershipSpec:
    tg_id: int
    grid_code: str
    role_key: str


@dataclass(frozen=True)
class ScenarioSettings:
    """The deployment-wide settings a scenario carries besides the tree."""

    name: str
    timezone: str
    levels: tuple[str, ...]
    checklist: tuple[str, ...]
    severities: tuple[SeveritySpec, ...]
    schedule: ScheduleSpec
    categories: tuple[Category, ...] = ()
    """The hazard categories offered (`categories:`, else those of the checklist)."""
    companions_count: bool = False
    """``patrol: {companions_count: true}``: a joint patrol counts for its roster companions."""
    case_rules: CaseRules = field(default_factory=CaseRules)
    """``cases:`` (`domain.case_rules`): reopen window, 督办 limits, routes."""


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file: every generated grid and person spelled out.

    ``grids`` are in depth-first (pre-)order, parents before children, listed children
    before generated ones; ``people`` are unique by ``tg_id`` in order of first appearance;
    ``memberships`` follow the file order.
    """

    name: str
    timezone: str
    tg_id_start: int
    levels: tuple[str, ...]
    roles: tuple[RoleSpec, ...]
    checklist: tuple[str, ...]
    severities: tuple[SeveritySpec, ...]
    schedule: ScheduleSpec
    departments: tuple[DepartmentSpec, ...]
    grids: tuple[GridSpec, ...]
    people: tuple[PersonSpec, ...]
    memberships: tuple[MembershipSpec, ...]
    categories: tuple[Category, ...] = ()
    companions_count: bool = False
    case_rules: CaseRules = field(default_factory=CaseRules)
    """``cases:``: the reopen window and the 督办 stage limits (`domain.case_rules`)."""

    @property
    def settings(self) -> ScenarioSettings:
        return ScenarioSettings(
            name=self.name,
            timezone=self.timezone,
            levels=self.levels,
            checklist=self.checklist,
            severities=self.severities,
            schedule=self.schedule,
            categories=self.categories,
            companions_count=self.companions_count,
            case_rules=self.case_rules,
        )

    def totals(self) -> dict[str, int]:
        """Counts to check an import against: grids, people, memberships, roles, departments."""
        return {
            "grids": len(self.grids),
            "people": len(self.people),
            "memberships": len(self.memberships),
            "roles": len(self.roles),
            "departments": len(self.departments),
        }

    def grid(self, code: str) -> GridSpec:
        """The grid with ``code``; KeyError if there is none."""
        for g in self.grids:
            if g.code == code:
                return g
        raise KeyError(code)

    def person(self, tg_id: int) -> PersonSpec:
        """The person with ``tg_id``; KeyError if there is none."""
        for p in self.people:
            if p.tg_id == tg_id:
                return p
        raise KeyError(tg_id)
