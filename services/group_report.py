"""A hazard reported in one group message (issue 16 pt 4): the draft it makes, who may
confirm it, and its submission through the same path as /report (`services.reporting`).

The caption is read by `domain.group_report`; what a valid draft is stays
`services.reporting`'s to say. The case is filed in the grid the group is bound to, and
`reporting.submit` posts its card back to that group with every other push.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.categories import Category
from domain.group_report import Caption
from domain.identity import Identity
from services import reporting
from services.case_notify import CaseTexts
from services.case_rules import Config
from services.reporting import Draft, DraftProblem
from storage.grids import grid_by_chat
from storage.models import Case, Grid


async def bound_grid(session: AsyncSession, chat_id: int) -> Grid | None:
    """The grid this group is bound to (a report made here is filed there)."""
    return await grid_by_chat(session, chat_id)


def may_report(me: Identity | None, grid_id: int | None) -> bool:
    """Whether the person holds a role in that grid now (asked again at every press)."""
    if me is None or grid_id is None:
        return False
    return grid_id in {g for g, _ in reporting.reportable_grids(me)}


async def draft_from(
    session: AsyncSession, *, grid_id: int, caption: Caption, photos: Sequence[str]
) -> Draft:
    """The draft a caption makes; the severity, when the caption names none (or one the
    deployment does not offer), is the lowest offered."""
    offered = await reporting.offered_severities(session)
    severity = caption.severity if caption.severity in offered else offered[0]
    return Draft(
        grid_id=grid_id,
        category=caption.category,
        description=caption.description[: reporting.MAX_DESCRIPTION] or None,
        photos=list(photos)[: reporting.MAX_PHOTOS],
        address=(caption.address or "")[: reporting.MAX_ADDRESS] or None,
        severity=severity.value,
    )


def with_category(draft: Draft, categories: Sequence[Category], index: int) -> Draft | None:
    """The draft with the category picked by index; None for an index not offered."""
    if not 0 <= index < len(categories):
        return None
    draft.category = categories[index].label
    return draft


async def submit(
    session: AsyncSession,
    *,
    reporter: Identity,
    draft: Draft,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
) -> Case | DraftProblem:
    """Open the case as /report does. A caption that was only a category and a place is
    described by its category (the photo shows the rest)."""
    if not draft.description and draft.category:
        draft.description = draft.category
    return await reporting.submit(
        session, reporter=reporter, draft=draft, now=now, texts=texts, cfg=cfg
    )
