"""Routing a new report by the scenario's rules (``cases: routes:``, `domain.case_rules.Route`).

Called by `services.reporting.submit` right after the REPORTED entry. When a rule matches
the report's category and severity:

* ``department``: the case is taken into the ledger and transferred (移交) to that
  department at once: TRANSFERRED, the department holds it, and the ledger's entry is a
  TRANSFERRED step marked ``routed`` (no person took it: the deployment's rule did). A
  department without a bound chat holds it like any transfer (`services.transfers`).
* ``skip_to``: 越级 — the case goes straight up to that grid, if it is above the reporting
  grid, to be accepted there: an ESCALATED step marked ``routed`` from the reporting grid.
  A grid that is not above it is ignored (the case stays where it was reported).
* ``copy``: the leaders of the named grids get a notice of the routing step, but only those
  who may see the case (`domain.visibility`: the grids on its path, the grid it landed at
  and those above); the others are skipped.

The routing step is what `announce` hands on (the department's card and 移交单, or the upper
grid's card to accept); the reporter hears of it as of any step.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import CaseStatus, EventKind
from services.case_rules import Config
from services.case_view import CaseTexts, build_view, tell
from storage import cases as q
from storage.admin import department_by_code
from storage.grids import grid_by_code
from storage.models import Case, CaseEvent, Grid


async def route_new_case(
    session: AsyncSession, *, case: Case, grid: Grid, now: datetime, cfg: Config
) -> CaseEvent | None:
    """Apply the first matching route to the just-reported ``case`` (in ``grid``); the
    ledger entry it wrote, or None when no rule applies."""
    route = cfg.rules.route_for(case.category, case.severity)
    if route is None:
        return None
    if route.department is not None:
        dept = await department_by_code(session, route.department)
        if dept is None or dept.id is None:
            return None
        case.status = CaseStatus.TRANSFERRED.value
        case.assignee_department_id = dept.id
        case.accepted_at = case.assigned_at = case.updated_at = now
        data: dict[str, object] = {
            "from": CaseStatus.REPORTED.value,
            "routed": True,
            "department_id": dept.id,
            "deadline": case.deadline_at.isoformat() if case.deadline_at else None,
        }
        if dept.chat_id is None:
            data["held"] = True  # the 移交单 waits for the department to bind a chat
        return await q.append_event(
            session, case=case, kind=EventKind.TRANSFERRED.value, at=now, actor_id=None, data=data
        )
    if route.skip_to is not None:
        target = await grid_by_code(session, route.skip_to)
        if target is None or target.id is None or target.id == grid.id:
            return None
        if target.id not in grid.ancestor_ids():
            return None
        case.grid_id = target.id
        case.updated_at = now
        return await q.append_event(
            session,
            case=case,
            kind=EventKind.ESCALATED.value,
            at=now,
            actor_id=None,
            data={
                "from": CaseStatus.REPORTED.value,
                "routed": True,
                "from_grid": grid.id,
                "to_grid": target.id,
            },
        )
    return None


async def send_copies(
    session: AsyncSession,
    *,
    case: Case,
    event: CaseEvent,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
) -> int:
    """The route's copies (抄送) of ``event`` to the leaders of its named grids that may see
    the case; how many were queued."""
    route = cfg.rules.route_for(case.category, case.severity)
    if route is None or not route.copy:
        return 0
    landed = await session.get(Grid, case.grid_id)
    assert landed is not None and case.id is not None
    path = set(landed.ancestor_ids())
    grid_ids = []
    for code in route.copy:
        g = await grid_by_code(session, code)
        if g is not None and g.id in path:
            grid_ids.append(g.id)
    view = await build_view(session, case, now=now, rules=cfg.rules)
    sent = 0
    seen: set[int] = set()
    for _grid_id, person in await q.leaders_of(session, grid_ids):
        if person.id is None or person.id in seen:
            continue
        seen.add(person.id)
        await tell(
            session,
            person,
            key=f"route-copy:{case.id}:{event.id}:{person.id}",
            text=partial(texts.notice, view, event, None),
            texts=texts,
            now=now,
        )
        sent += 1
    return sent
