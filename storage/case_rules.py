"""The deployment's case rules (`Deployment.case_rules`), and the one query the 督办 rule
reads (`open_clocks`; `flags_per_grid` for the digest, `flags_per_assignee` for /stats).

The import writes the scenario's ``cases:`` block with the other settings
(`storage.importer_tree.apply_settings`); everything that needs the rules reads them with
`case_rules`; `save_case_rules` sets them alone (tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, literal, or_, select, type_coerce
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_rules import (
    ENTRY_KINDS,
    LIMITED_STAGES,
    STAGE_OF,
    CaseClock,
    CaseRules,
    Flags,
    Stage,
    flag_starts,
    flags_by,
    from_stored,
    stage_of,
    to_stored,
)
from domain.cases import Severity
from storage.deployment_row import deployment_to_read
from storage.models import Case, CaseEvent, Deployment, Grid
from storage.types import UTCDateTime


async def case_rules(session: AsyncSession) -> CaseRules:
    """The rules in force (their defaults before any import)."""
    d = await deployment_to_read(session)
    return from_stored(d.case_rules if d is not None else None)


async def save_case_rules(session: AsyncSession, rules: CaseRules) -> None:
    d = await session.get(Deployment, 1) or Deployment(id=1)
    d.case_rules = to_stored(rules)
    session.add(d)


class OpenClock(NamedTuple):
    case_id: int
    grid_id: int
    assignee_person_id: int | None
    clock: CaseClock


def _clocks(paths: Sequence[str] | None, case_id: int | None) -> Any:
    """One row per case under a clock: id, grid, assignee, status, severity, deadline and the
    start of its current stage (named ``started``)."""
    status, kind = col(Case.status), col(CaseEvent.kind)
    by_stage: dict[Any, list[str]] = {}
    for st, stage in STAGE_OF.items():
        by_stage.setdefault(stage, []).append(st.value)
    entered = case(
        *(
            (
                and_(
                    status.in_(sorted(statuses)),
                    kind.in_(sorted(k.value for k in ENTRY_KINDS[stage])),
                ),
                col(CaseEvent.at),
            )
            for stage, statuses in by_stage.items()
        ),
        else_=None,
    )
    all_kinds = sorted({k.value for kinds in ENTRY_KINDS.values() for k in kinds})
    # A case without the stage's entry in its ledger (written by hand, or before the ledger
    # kept it) counts from its assignment, its acceptance or its report, the first known.
    started = func.coalesce(
        func.max(entered), col(Case.assigned_at), col(Case.accepted_at), col(Case.created_at)
    )
    query = (
        select(
            col(Case.id),
            col(Case.grid_id),
            col(Case.assignee_person_id),
            status,
            col(Case.severity),
            col(Case.deadline_at),
            type_coerce(started, UTCDateTime()).label("started"),
        )
        .outerjoin(
            CaseEvent,
            and_(col(CaseEvent.case_id) == col(Case.id), kind.in_(all_kinds)),
        )
        .where(status.in_(sorted(s.value for s in STAGE_OF)))
        .group_by(
            col(Case.id),
            col(Case.grid_id),
            col(Case.assignee_person_id),
            status,
            col(Case.severity),
            col(Case.deadline_at),
            col(Case.assigned_at),
            col(Case.accepted_at),
            col(Case.created_at),
        )
    )
    if case_id is not None:
        query = query.where(col(Case.id) == case_id)
    if paths is not None:
        query = query.join(Grid, col(Grid.id) == col(Case.grid_id)).where(
            or_(*(col(Grid.path).startswith(p) for p in paths))
        )
    return query


def clock_of(case: Case, ledger: Iterable[CaseEvent]) -> CaseClock | None:
    """What `open_clocks` answers for ``case`` (None: under no clock), worked out from its
    whole ``ledger`` when the caller holds it (a case opened in this unit of work) instead of
    read back: the same rule as `_clocks`, row for row."""
    stage = stage_of(case.status)
    if stage is None:
        return None
    kinds = {k.value for k in ENTRY_KINDS[stage]}
    entered = [e.at for e in ledger if e.kind in kinds]
    started = max(entered) if entered else (case.assigned_at or case.accepted_at or case.created_at)
    return CaseClock(case.status, case.severity, _utc(started), _utc(case.deadline_at))


def _utc(at: datetime | None) -> datetime | None:
    """As the database gives it back (`UTCDateTime`)."""
    return at.astimezone(UTC) if at is not None and at.tzinfo is not None else at


async def open_clocks(
    session: AsyncSession,
    *,
    paths: Sequence[str] | None = None,
    case_id: int | None = None,
) -> list[OpenClock]:
    """Every case under a clock (`domain.case_rules.STAGE_OF`) in the subtrees of ``paths``
    (all when None), or the one case ``case_id``, with the start of its current stage: the
    latest ledger entry of that stage's `ENTRY_KINDS`. One grouped statement."""
    if paths is not None and not paths:
        return []
    conn = await session.connection()
    rows = (await conn.execute(_clocks(paths, case_id))).all()
    return [OpenClock(int(r[0]), int(r[1]), r[2], CaseClock(r[3], r[4], r[6], r[5])) for r in rows]


async def flags_per_grid(
    session: AsyncSession,
    rules: CaseRules,
    now: datetime,
    *,
    paths: Sequence[str] | None = None,
) -> dict[int, Flags]:
    """The 督办 counts of the open cases per grid at ``now``: what
    ``flags_by((c.grid_id, c.clock) for c in open_clocks(...))`` answers, without a row per
    case (`_flag_counts`)."""
    counts = await _flag_counts(session, rules, now, paths, by_assignee=False)
    return {key[0]: f for key, f in counts.items()}


async def flags_per_assignee(
    session: AsyncSession,
    rules: CaseRules,
    now: datetime,
    *,
    paths: Sequence[str] | None = None,
) -> dict[tuple[int, int | None], Flags]:
    """The same counts per grid × assignee (None: not assigned), what the scoreboard reads:
    ``flags_by(((c.grid_id, c.assignee_person_id), c.clock) for c in open_clocks(...))``."""
    counts = await _flag_counts(session, rules, now, paths, by_assignee=True)
    return {(key[0], key[1]): f for key, f in counts.items()}


async def _flag_counts(
    session: AsyncSession,
    rules: CaseRules,
    now: datetime,
    paths: Sequence[str] | None,
    *,
    by_assignee: bool,
) -> dict[tuple[Any, ...], Flags]:
    """One grouped statement: the limited stages (`flag_starts`: a comparison per case) and
    the overdue cases in 整改 are counted per grid (and assignee) in the database; the cases
    in 整改 still within their deadline (whose yellow point depends on their own deadline)
    come back one row each, for `flags_by`."""
    if paths is not None and not paths:
        return {}
    clocks = _clocks(paths, None).subquery("clocks")
    status, severity, started = clocks.c.status, clocks.c.severity, clocks.c.started
    deadline = clocks.c.deadline_at
    rectify = sorted(s.value for s, st in STAGE_OF.items() if st is Stage.RECTIFY)
    severities = sorted({*rules.limits, *(s.value for s in Severity)})
    yellows: list[Any] = []
    reds: list[Any] = [(and_(status.in_(rectify), started.is_not(None), deadline < now), 1)]
    for stage in LIMITED_STAGES:
        statuses = sorted(s.value for s, st in STAGE_OF.items() if st is stage)
        for sev in severities:
            found = flag_starts(rules, sev, stage, now)
            if found is None or not statuses:
                continue
            flagged_by, red_before = (literal(t, UTCDateTime()) for t in found)
            this = and_(status.in_(statuses), severity == sev)
            reds.append((and_(this, started < red_before), 1))
            yellows.append((and_(this, started >= red_before, started <= flagged_by), 1))

    def count(whens: list[Any]) -> Any:
        return func.sum(case(*whens, else_=0)) if whens else literal(0)

    keys = [clocks.c.grid_id, clocks.c.assignee_person_id] if by_assignee else [clocks.c.grid_id]
    # The cases in 整改 still within their deadline each get a group of their own (keyed by
    # their id), the rest one group per key (their id NULL).
    own = case((and_(status.in_(rectify), deadline >= now), clocks.c.id), else_=None)
    grouped = select(
        *keys,
        own,
        count(yellows),
        count(reds),
        func.max(status),
        func.max(severity),
        func.max(started),
        func.max(deadline),
    ).group_by(*keys, own)
    conn = await session.connection()
    out: dict[tuple[Any, ...], Flags] = {}
    pending: list[tuple[tuple[Any, ...], CaseClock]] = []
    n = len(keys)
    for r in (await conn.execute(grouped)).all():
        key = tuple(r[:n])
        if r[n] is not None:
            pending.append((key, CaseClock(r[n + 3], r[n + 4], r[n + 5], r[n + 6])))
        elif r[n + 1] or r[n + 2]:
            out[key] = Flags(int(r[n + 1]), int(r[n + 2]))
    for key, f in flags_by(pending, rules, now).items():
        out[key] = out.get(key, Flags()) + f
    return out
