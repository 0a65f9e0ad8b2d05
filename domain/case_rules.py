"""The deployment's case rules from the scenario file's ``cases:`` block, and the 督办 rule:
which stage a case is in, how far through its time limit, and whether that is yellow or red.

```yaml
cases:
  reopen_days: 30          # a closed case may be reopened within this many days
  limits:                  # 督办: hours allowed per stage, per severity (any may be left out)
    一般: {accept: 24, acknowledge: 24, verify: 48}
    重大: {accept: 2, acknowledge: 2, verify: 8}
```

The stages (`Stage`) a case passes through, each with its clock:

* 受理 ``accept``: reported (REPORTED), from the report (``created_at``);
* 签收 ``acknowledge``: assigned or transferred, not yet acknowledged (ASSIGNED,
  TRANSFERRED), from the assignment (``assigned_at``);
* 整改 ``rectify``: being handled (IN_PROGRESS), from the assignment to the case's own
  deadline (``deadline_at``, 限期整改: set by severity, moved by extensions and leaders);
* 核查 ``verify``: feedback given, awaiting verification (FEEDBACK), from the feedback.

ACCEPTED (waiting to be assigned) and the closed statuses are under no limit. The limits are
wall-clock hours (a report at 17:00 with 24 hours is due at 17:00 the next day), unlike the
rectification deadline, which counts working days.

`supervision` is the one rule: a case that has used 80 % or more of its stage's time is
yellow (黄牌), one past it red (红牌); the card, the digest and /stats all ask it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from domain.cases import SEVERITY_BY_ZH, CaseStatus, Severity
from domain.reopen import DEFAULT_REOPEN_DAYS


class Stage(StrEnum):
    """A stage a case's clock runs in. Stored in the scenario's limits: never rename."""

    ACCEPT = "accept"  # 受理
    ACKNOWLEDGE = "acknowledge"  # 签收
    RECTIFY = "rectify"  # 整改 (the case's own deadline)
    VERIFY = "verify"  # 核查


LIMITED_STAGES: Final = (Stage.ACCEPT, Stage.ACKNOWLEDGE, Stage.VERIFY)
"""The stages the scenario file sets limits for (整改 has the case's deadline)."""


class Level(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"  # 黄牌: 80 % of the time used
    RED = "red"  # 红牌: past the limit


YELLOW_AT: Final = 0.8

DEFAULT_LIMITS: Final[Mapping[Severity, Mapping[Stage, int]]] = {
    Severity.GENERAL: {Stage.ACCEPT: 24, Stage.ACKNOWLEDGE: 24, Stage.VERIFY: 48},
    Severity.MAJOR: {Stage.ACCEPT: 8, Stage.ACKNOWLEDGE: 8, Stage.VERIFY: 24},
    Severity.CRITICAL: {Stage.ACCEPT: 2, Stage.ACKNOWLEDGE: 2, Stage.VERIFY: 8},
}
"""Hours per stage when the scenario file says nothing (documented in
docs/scenario-format.md): a 重大 hazard is taken up within the morning."""

MAX_LIMIT_HOURS: Final = 24 * 366


@dataclass(frozen=True)
class CaseRules:
    """The scenario's ``cases:`` block; every field has its documented default."""

    reopen_days: int = DEFAULT_REOPEN_DAYS
    limits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """severity value → stage value → hours, only what the file sets."""

    def limit_hours(self, severity: str, stage: Stage) -> int | None:
        """The hours allowed for ``stage`` of a case of ``severity`` (None: no limit)."""
        if stage is Stage.RECTIFY:
            return None
        own = self.limits.get(severity, {}).get(stage.value)
        if own is not None:
            return own
        known = severity if severity in Severity.__members__.values() else None
        return DEFAULT_LIMITS[Severity(known)][stage] if known else None


def severity_value(name: str) -> str | None:
    """A severity as the file writes it (一般, 较大, 重大, or the stored value)."""
    found = SEVERITY_BY_ZH.get(name)
    if found is not None:
        return found.value
    return name if name in Severity.__members__.values() else None


def to_stored(rules: CaseRules) -> dict[str, Any]:
    return {
        "reopen_days": rules.reopen_days,
        "limits": {sev: dict(stages) for sev, stages in rules.limits.items()},
    }


def from_stored(raw: Mapping[str, Any] | None) -> CaseRules:
    """The stored block (`Deployment.case_rules`); anything missing takes its default."""
    raw = raw or {}
    limits = {
        str(sev): {str(stage): int(h) for stage, h in stages.items()}
        for sev, stages in (raw.get("limits") or {}).items()
    }
    return CaseRules(reopen_days=int(raw.get("reopen_days", DEFAULT_REOPEN_DAYS)), limits=limits)


# --- 督办 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseClock:
    """What the rule reads of a case: its status, severity and the times its stages began."""

    status: str
    severity: str
    created_at: datetime
    assigned_at: datetime | None
    deadline_at: datetime | None
    feedback_at: datetime | None
    """The latest feedback (处理反馈), from the ledger."""


@dataclass(frozen=True)
class Supervision:
    """Where a case stands against its stage's limit."""

    stage: Stage
    started_at: datetime
    due_at: datetime
    used: float
    """The share of the stage's time used at the moment asked (1.0: the limit itself)."""
    level: Level


def _stage_of(clock: CaseClock) -> tuple[Stage, datetime | None] | None:
    match CaseStatus(clock.status):
        case CaseStatus.REPORTED:
            return Stage.ACCEPT, clock.created_at
        case CaseStatus.ASSIGNED | CaseStatus.TRANSFERRED:
            return Stage.ACKNOWLEDGE, clock.assigned_at
        case CaseStatus.IN_PROGRESS:
            return Stage.RECTIFY, clock.assigned_at
        case CaseStatus.FEEDBACK:
            return Stage.VERIFY, clock.feedback_at
        case _:
            return None


def supervision(clock: CaseClock, rules: CaseRules, now: datetime) -> Supervision | None:
    """The case's stage, how far through its limit it is at ``now``, and its colour; None
    for a case in no limited stage (accepted and waiting to be assigned, closed, rejected)
    or whose stage has no start or no limit on record."""
    found = _stage_of(clock)
    if found is None:
        return None
    stage, started = found
    if started is None:
        return None
    if stage is Stage.RECTIFY:
        if clock.deadline_at is None:
            return None
        due = clock.deadline_at
    else:
        hours = rules.limit_hours(clock.severity, stage)
        if hours is None:
            return None
        due = started + timedelta(hours=hours)
    span = (due - started).total_seconds()
    elapsed = (now - started).total_seconds()
    used = elapsed / span if span > 0 else (1.0 if now >= due else 0.0)
    if now > due:
        level = Level.RED
    elif used >= YELLOW_AT:
        level = Level.YELLOW
    else:
        level = Level.GREEN
    return Supervision(stage, started, due, used, level)
