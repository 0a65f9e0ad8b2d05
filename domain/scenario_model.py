"""The shapes a scenario file resolves to (see ``domain.scenario`` for the rules).

Everything here is a frozen dataclass of plain values, so that a parsed file, what the
database holds (``domain.scenario_diff.Snapshot``) and the difference between the two can be
compared with ``==``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

__all__ = [
    "DEFAULT_TG_ID_START",
    "DEFAULT_TIMEZONE",
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
]

DEFAULT_TG_ID_START = 900_000_000
DEFAULT_TIMEZONE = "Asia/Shanghai"
PERIODS = ("day", "week", "month")


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded: where (1-based line, if known) and why.

    ``str(err)`` is ``"<source>:<line>: <reason>"`` (``"<source>: <reason>"`` without a line),
    the shape editors and compilers use, so an admin can jump to the spot.
    """

    def __init__(self, line: int | None, message: str, *, source: str = "<scenario>") -> None:
        self.line = line
        self.message = message
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.source}: {self.message}"
        return f"{self.source}:{self.line}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.line, self.message, self.source))


def _rebuild_error(line: int | None, message: str, source: str) -> ScenarioError:
    return ScenarioError(line, message, source=source)


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
    tg_id: int
    name: str


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

    @property
    def settings(self) -> ScenarioSettings:
        return ScenarioSettings(
            name=self.name,
            timezone=self.timezone,
            levels=self.levels,
            checklist=self.checklist,
            severities=self.severities,
            schedule=self.schedule,
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
