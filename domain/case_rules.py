"""The deployment's case rules from the scenario file's ``cases:`` block, and the 督办 rule:
which stage a case is in, how far through its time limit, and whether that is yellow or red.

```yaml
cases:
  reopen_days: 30          # a closed case may be reopened within this many days
  limits:                  # 督办: hours allowed per stage, per severity (any may be left out)
    一般: {accept: 24, acknowledge: 24, verify: 48}
    重大: {accept: 2, acknowledge: 2, verify: 8}
```

The stages (`Stage`) a case passes through, each with its clock, started by the latest
ledger entry of the stage's `ENTRY_KINDS`:

* 受理 ``accept``: reported (REPORTED), from the report or the escalation (逐级上报) that
  brought it to the grid that must accept it;
* 签收 ``acknowledge``: assigned or transferred, not yet acknowledged (ASSIGNED,
  TRANSFERRED), from the (re)assignment or the transfer;
* 整改 ``rectify``: being handled (IN_PROGRESS), from the assignment (or the reopening) to
  the case's own deadline (``deadline_at``, 限期整改: set by severity, moved by extensions
  and leaders);
* 核查 ``verify``: feedback given, awaiting verification (FEEDBACK), from the feedback.

ACCEPTED (waiting to be assigned) and the closed statuses are under no limit. The limits are
wall-clock hours (a report at 17:00 with 24 hours is due at 17:00 the next day), unlike the
rectification deadline, which counts working days.

`supervision` is the one rule: a case that has used 80 % or more of its stage's time is
yellow (黄牌), one past it red (红牌); the card, the digest and /stats all ask it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, TypeVar

from domain.cases import SEVERITY_BY_ZH, CaseStatus, EventKind, Severity
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
class Route:
    """A routing rule (``cases: routes:``): a new report of ``category`` (a label) and/or
    ``severity`` (a value) lands at once with ``department`` (a code: 移交, the case taken
    into the ledger and transferred), or ``skip_to`` (a grid code above the reporting grid:
    越级, it waits there to be accepted), and its leaders of the ``copy`` grids get a copy."""

    category: str | None = None
    severity: str | None = None
    department: str | None = None
    skip_to: str | None = None
    copy: tuple[str, ...] = ()

    def describe(self) -> str:
        """As the import's change list shows it: "燃气隐患/重大 → department PCS-LH, copy LH"."""
        match = "/".join(x for x in (self.category, self.severity) if x)
        to = f"department {self.department}" if self.department else ""
        to = to or (f"skip to {self.skip_to}" if self.skip_to else "")
        copy = f"copy {' '.join(self.copy)}" if self.copy else ""
        return f"{match} → " + ", ".join(x for x in (to, copy) if x)

    def matches(self, category: str, severity: str) -> bool:
        return (self.category is None or self.category == category) and (
            self.severity is None or self.severity == severity
        )


@dataclass(frozen=True)
class CaseRules:
    """The scenario's ``cases:`` block; every field has its documented default."""

    reopen_days: int = DEFAULT_REOPEN_DAYS
    limits: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """severity value → stage value → hours, only what the file sets."""
    routes: tuple[Route, ...] = ()
    """In file order: the first that matches a new report applies (`route_for`)."""

    def route_for(self, category: str, severity: str) -> Route | None:
        return next((r for r in self.routes if r.matches(category, severity)), None)

    def limit_hours(self, severity: str, stage: Stage) -> int | None:
        """The hours allowed for ``stage`` of a case of ``severity`` (None: no limit)."""
        if stage is Stage.RECTIFY:
            return None
        own = self.limits.get(severity, {}).get(stage.value)
        if own is not None:
            return own
        known = severity if severity in Severity.__members__.values() else None
        return DEFAULT_LIMITS[Severity(known)][stage] if known else None


def changes(old: CaseRules | None, new: CaseRules) -> list[tuple[str, object, object]]:
    """The import's change list of the ``cases:`` block: (field, old, new) for each field
    that differs; a deployment that never had the block has the defaults."""
    was = old or CaseRules()
    out: list[tuple[str, object, object]] = []
    if was.reopen_days != new.reopen_days:
        out.append(("cases.reopen_days", was.reopen_days, new.reopen_days))

    def hours(stages: Mapping[str, int] | None) -> str | None:
        return ", ".join(f"{k} {v}h" for k, v in sorted(stages.items())) if stages else None

    for sev in sorted(set(was.limits) | set(new.limits)):
        before, after = hours(was.limits.get(sev)), hours(new.limits.get(sev))
        if before != after:
            out.append((f"cases.limits.{sev}", before, after))
    routes_was = tuple(r.describe() for r in was.routes)
    routes_now = tuple(r.describe() for r in new.routes)
    if routes_was != routes_now:
        out.append(("cases.routes", routes_was, routes_now))
    return out


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
        "routes": [
            {
                "category": r.category,
                "severity": r.severity,
                "department": r.department,
                "skip_to": r.skip_to,
                "copy": list(r.copy),
            }
            for r in rules.routes
        ],
    }


def from_stored(raw: Mapping[str, Any] | None) -> CaseRules:
    """The stored block (`Deployment.case_rules`); anything missing takes its default."""
    raw = raw or {}
    limits = {
        str(sev): {str(stage): int(h) for stage, h in stages.items()}
        for sev, stages in (raw.get("limits") or {}).items()
    }
    routes = tuple(
        Route(
            category=r.get("category"),
            severity=r.get("severity"),
            department=r.get("department"),
            skip_to=r.get("skip_to"),
            copy=tuple(r.get("copy") or ()),
        )
        for r in raw.get("routes") or ()
    )
    return CaseRules(
        reopen_days=int(raw.get("reopen_days", DEFAULT_REOPEN_DAYS)), limits=limits, routes=routes
    )


# --- 督办 ----------------------------------------------------------------------------------

_S = CaseStatus
_E = EventKind
K = TypeVar("K")

STAGE_OF: Final[Mapping[CaseStatus, Stage]] = {
    _S.REPORTED: Stage.ACCEPT,
    _S.ASSIGNED: Stage.ACKNOWLEDGE,
    _S.TRANSFERRED: Stage.ACKNOWLEDGE,
    _S.IN_PROGRESS: Stage.RECTIFY,
    _S.FEEDBACK: Stage.VERIFY,
}
"""The stage a case in each status is in; the other statuses are under no clock."""

ENTRY_KINDS: Final[Mapping[Stage, frozenset[EventKind]]] = {
    Stage.ACCEPT: frozenset({_E.REPORTED, _E.ESCALATED}),
    Stage.ACKNOWLEDGE: frozenset({_E.ASSIGNED, _E.REASSIGNED, _E.TRANSFERRED}),
    Stage.RECTIFY: frozenset({_E.ASSIGNED, _E.REASSIGNED, _E.TRANSFERRED, _E.REOPENED}),
    Stage.VERIFY: frozenset({_E.FEEDBACK_GIVEN, _E.DEPT_FEEDBACK_GIVEN}),
}
"""The ledger entries that start each stage's clock (the latest one counts)."""


def stage_of(status: str) -> Stage | None:
    try:
        return STAGE_OF.get(CaseStatus(status))
    except ValueError:
        return None


@dataclass(frozen=True)
class CaseClock:
    """What the rule reads of a case: its status, severity, the start of its current stage
    (the latest of the stage's `ENTRY_KINDS` in its ledger) and its deadline."""

    status: str
    severity: str
    started_at: datetime | None
    deadline_at: datetime | None


@dataclass(frozen=True)
class Supervision:
    """Where a case stands against its stage's limit."""

    stage: Stage
    started_at: datetime
    due_at: datetime
    used: float
    """The share of the stage's time used at the moment asked (1.0: the limit itself)."""
    level: Level


def supervision(clock: CaseClock, rules: CaseRules, now: datetime) -> Supervision | None:
    """The case's stage, how far through its limit it is at ``now``, and its colour; None
    for a case in no limited stage (accepted and waiting to be assigned, closed, rejected)
    or whose stage has no start or no limit on record."""
    stage = stage_of(clock.status)
    started = clock.started_at
    if stage is None or started is None:
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


def reminder_thresholds(
    rules: CaseRules, severity: str, status: str
) -> tuple[timedelta, timedelta] | None:
    """For the reminders (the chasing's sweep): after how long in its current stage a case
    is reminded (yellow: 80 % of the stage's limit) and after how long it climbs a level
    (red: the limit); None for a stage with no limit of its own (整改 runs against the
    case's deadline, which the daily reminders read)."""
    stage = stage_of(status)
    if stage is None:
        return None
    hours = rules.limit_hours(severity, stage)
    if hours is None:
        return None
    limit = timedelta(hours=hours)
    return limit * YELLOW_AT, limit


def sweep_thresholds(
    rules: CaseRules, severity: str, status: str, default: tuple[timedelta, timedelta]
) -> tuple[timedelta, timedelta]:
    """The chasing's sweep (reports nobody accepted, assignments nobody acknowledged): remind
    at the yellow point and climb a level at the limit where the scenario file sets a limit
    for that severity and stage; else the deployment's own ``default`` (remind, climb)
    times, as before the file had limits."""
    stage = stage_of(status)
    if stage is None or stage.value not in rules.limits.get(severity, {}):
        return default
    found = reminder_thresholds(rules, severity, status)
    return found if found is not None else default


def earliest_remind(rules: CaseRules, default: timedelta) -> timedelta:
    """The shortest wait after which the sweep may remind about any case (it reads no case
    that waited less)."""
    own = [
        timedelta(hours=h) * YELLOW_AT for stages in rules.limits.values() for h in stages.values()
    ]
    return min([default, *own])


@dataclass(frozen=True)
class Flags:
    """督办 counts: cases past 80 % of their stage's time (yellow) and past it (red)."""

    yellow: int = 0
    red: int = 0

    def __add__(self, other: Flags) -> Flags:
        return Flags(self.yellow + other.yellow, self.red + other.red)


def flag_of(clock: CaseClock, rules: CaseRules, now: datetime) -> Flags:
    found = supervision(clock, rules, now)
    if found is None or found.level is Level.GREEN:
        return Flags()
    return Flags(yellow=1) if found.level is Level.YELLOW else Flags(red=1)


def flags_by(
    clocks: Iterable[tuple[K, CaseClock]], rules: CaseRules, now: datetime
) -> dict[K, Flags]:
    """The 督办 counts of many cases grouped by a key (a grid, a grid and a person)."""
    out: dict[K, Flags] = {}
    for key, clock in clocks:
        f = flag_of(clock, rules, now)
        if f.yellow or f.red:
            out[key] = out.get(key, Flags()) + f
    return out


def flag_starts(
    rules: CaseRules, severity: str, stage: Stage, now: datetime
) -> tuple[datetime, datetime] | None:
    """For counting 督办 flags in the database (a comparison per case, no arithmetic): a case
    of ``severity`` in the limited ``stage`` is flagged (yellow or red) at ``now`` when its
    stage started at or before the first moment, red when it started before the second.
    Exactly `supervision`'s answer, to the microsecond (the yellow point is searched with
    `supervision` itself); None where the stage has no limit (整改 has the case's deadline)."""
    hours = rules.limit_hours(severity, stage)
    status = next((s for s, st in STAGE_OF.items() if st is stage), None)
    if hours is None or status is None:
        return None
    limit = timedelta(hours=hours)

    def flagged(us: int) -> bool:
        started = now - timedelta(microseconds=us)
        found = supervision(CaseClock(status.value, severity, started, None), rules, now)
        return found is not None and found.level is not Level.GREEN

    tick = timedelta(microseconds=1)
    lo, hi = min(limit, timedelta(0)) // tick - 1, max(limit, timedelta(0)) // tick
    while hi - lo > 1:  # flagged(hi), not flagged(lo): the used share only grows
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if flagged(mid) else (mid, hi)
    return now - timedelta(microseconds=hi), now - limit
