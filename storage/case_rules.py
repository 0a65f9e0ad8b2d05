"""The deployment's case rules (`Deployment.case_rules`), and the one query the 督办 rule
reads (`open_clocks`).

The import writes the scenario's ``cases:`` block with the other settings
(`storage.importer_tree.apply_settings`); everything that needs the rules reads them with
`case_rules`; `save_case_rules` sets them alone (tests).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.case_rules import ENTRY_KINDS, STAGE_OF, CaseClock, CaseRules, from_stored, to_stored
from storage.models import Case, CaseEvent, Deployment, Grid


async def case_rules(session: AsyncSession) -> CaseRules:
    """The rules in force (their defaults before any import)."""
    d = await session.get(Deployment, 1)
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
    query = (
        select(
            col(Case.id),
            col(Case.grid_id),
            col(Case.assignee_person_id),
            status,
            col(Case.severity),
            col(Case.deadline_at),
            func.max(entered),
            func.coalesce(col(Case.assigned_at), col(Case.accepted_at), col(Case.created_at)),
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
    conn = await session.connection()
    rows = (await conn.execute(query)).all()
    # A case without the stage's entry in its ledger (written by hand, or before the ledger
    # kept it) counts from its assignment, its acceptance or its report, the first known.
    return [
        OpenClock(int(r[0]), int(r[1]), r[2], CaseClock(r[3], r[4], r[6] or r[7], r[5]))
        for r in rows
    ]
