"""/cases: the cases a person may list, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.identity import Identity
from domain.visibility import listed_subtrees
from services.cases import cases_waiting_for, seen_cases, viewer_of
from storage import cases as q
from storage.models import Case


@dataclass(frozen=True)
class CasesPage:
    rows: list[Case]
    total: int
    more: bool  # a next page follows


async def cases_listed(
    session: AsyncSession,
    me: Identity,
    *,
    flt: q.CaseFilter,
    waiting: bool,
    page: int,
    now: datetime,
) -> CasesPage:
    """One page of the cases in the subtrees `me` holds that pass `flt` (or, `waiting`, those
    waiting for `me`), as far as the visibility rule lets them see."""
    size = q.PAGE_SIZE
    if waiting:
        found = await cases_waiting_for(session, me, now)
        rows = [w.case for w in found[page * size : (page + 1) * size]]
        total = len(found)
    else:
        subtrees = listed_subtrees(h.grid_path for h in me.holdings)
        paths = ["/" + "/".join(str(i) for i in p) + "/" for p in subtrees]
        rows, total = await q.cases_in_subtrees(
            session, paths=paths, flt=flt, now=now, offset=page * size, limit=size
        )
    seen = await seen_cases(session, viewer_of(me), rows)
    return CasesPage(rows=seen, total=total, more=(page + 1) * size < total)
