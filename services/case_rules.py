"""What the case steps (`services.cases`) and their pushes (`services.case_notify`) both read:
the deployment's case rules (`Config`) and the rules' view of a stored case (`facts_of`).

Kept below both, so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.calendar import ChinaWorkCalendar, WorkCalendar
from domain.case_rules import CaseRules, from_stored
from domain.cases import SEVERITY_BY_ZH, CaseFacts, CaseStatus, Severity
from domain.deadlines import DEFAULT_DEADLINE_HOURS
from domain.reopen import DEFAULT_REOPEN_DAYS
from services.by_content import ByContent
from storage.deployment_row import deployment_to_read
from storage.models import Case, Deployment, Grid


@dataclass(frozen=True)
class Config:
    """The deployment rules a step needs."""

    tz: ZoneInfo
    severity_hours: dict[str, int]
    notify_to_root: frozenset[str]
    default_language: str = "zh"
    calendar: WorkCalendar = field(default_factory=ChinaWorkCalendar)
    """The working days deadlines are counted in."""
    reopen_days: int = DEFAULT_REOPEN_DAYS
    """How many days after its closing a case may be reopened (`domain.reopen`)."""
    rules: CaseRules = field(default_factory=CaseRules)
    """The scenario's ``cases:`` block: the 督办 stage limits (`domain.case_rules`)."""

    def hours_for(self, severity: str) -> int:
        return self.severity_hours.get(severity, DEFAULT_DEADLINE_HOURS[Severity(severity)])


async def load_config(
    session: AsyncSession,
    *,
    default_language: str = "zh",
    calendar: WorkCalendar | None = None,
) -> Config:
    """Severities are configured by their Chinese names; cases store `Severity` values.

    `calendar`: the application's (`AppContext.calendar`); China's official one if none."""
    d = await deployment_to_read(session) or Deployment(id=1)
    # Worked out once per content of the row: every case step loads them.
    parsed = _parsed(d.severities, d.case_rules, d.timezone)
    return Config(
        reopen_days=parsed.rules.reopen_days,
        rules=parsed.rules,
        tz=parsed.tz,
        severity_hours=parsed.hours,
        notify_to_root=parsed.root,
        default_language=default_language,
        calendar=calendar or ChinaWorkCalendar(),
    )


@dataclass(frozen=True)
class _Parsed:
    """What `load_config` reads out of the deployment row."""

    hours: dict[str, int]
    root: frozenset[str]
    rules: CaseRules
    tz: ZoneInfo


def _parse(severities: Any, case_rules: Any, timezone: str | None) -> _Parsed:
    hours: dict[str, int] = {s.value: h for s, h in DEFAULT_DEADLINE_HOURS.items()}
    root: set[str] = {Severity.CRITICAL.value} if not severities else set()
    for name, spec in (severities or {}).items():
        sev = SEVERITY_BY_ZH.get(name) or (name if name in Severity.__members__.values() else None)
        if sev is None:
            continue
        hours[str(sev)] = int(spec.get("deadline_hours", hours[str(sev)]))
        if spec.get("notify_to_root"):
            root.add(str(sev))
    return _Parsed(
        hours=hours,
        root=frozenset(root),
        rules=from_stored(case_rules),
        tz=ZoneInfo(timezone or "Asia/Shanghai"),
    )


def facts_of(case: Case, grid: Grid) -> CaseFacts:
    """The rules' view of a stored case (`grid` is the case's current grid)."""
    return CaseFacts(
        status=CaseStatus(case.status),
        grid_path=tuple(grid.ancestor_ids()),
        reporter_id=case.reporter_id,
        assignee_person_id=case.assignee_person_id,
        assignee_department_id=case.assignee_department_id,
        handler_id=case.handler_id,
        verifier_id=case.verifier_id,
        extension_pending=case.extension_pending,
        rework_count=case.rework_count,
        escalation_count=case.escalation_count,
    )


_parsed: ByContent[_Parsed] = ByContent(_parse)
