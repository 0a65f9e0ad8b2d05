"""Reporting a hazard (信息收集): checking a draft, finding duplicates, opening the case.

The conversation (handlers/report.py) collects a `Draft` step by step in its FSM data; this
module decides what a valid draft is and turns it into a case with its first ledger entry,
its code, its deadline and its cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.cases import SEVERITY_BY_ZH, CaseStatus, EventKind, Severity
from domain.categories import Category
from domain.identity import Identity
from services.case_handoffs import Lookups
from services.case_notify import CaseTexts, announce, card_leader_grids
from services.case_routing import route_new_case, send_copies
from services.case_rules import Config
from services.case_view import deployment_categories
from services.cases import initial_deadline
from storage import cases as q
from storage.case_codes import next_case_code_in
from storage.case_duplicates import DuplicateLine
from storage.case_inserts import add_new_case
from storage.deployment_row import deployment_to_read
from storage.event_leaders import append_event_with_leaders
from storage.models import Case

MAX_DESCRIPTION = 1000
MAX_ADDRESS = 300
MAX_PHOTOS = 10
SEVERITIES: tuple[Severity, ...] = (Severity.GENERAL, Severity.MAJOR, Severity.CRITICAL)


_NEW_STATUS, _NEW_KIND = CaseStatus.REPORTED.value, EventKind.REPORTED.value
"""A new case's status and its first step's kind, spelt out once (each `.value` is a call)."""


class DraftProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    TOO_MANY_PHOTOS = "too_many_photos"
    NOT_A_GRID = "not_a_grid"
    INCOMPLETE = "incomplete"


@dataclass
class Draft:
    """What the reporter has given so far (kept in the FSM data as a plain dict)."""

    grid_id: int | None = None
    category: str | None = None
    description: str | None = None
    photos: list[str] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    address: str | None = None
    severity: str | None = None
    patrol_id: int | None = None

    def to_data(self) -> dict[str, Any]:
        # What `asdict` gives, without its deep copy of every value (each step saves it).
        return {
            "grid_id": self.grid_id,
            "category": self.category,
            "description": self.description,
            "photos": list(self.photos),
            "lat": self.lat,
            "lon": self.lon,
            "address": self.address,
            "severity": self.severity,
            "patrol_id": self.patrol_id,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        draft = cls(**known)
        draft.photos = list(draft.photos or [])
        return draft

    @property
    def complete(self) -> bool:
        return (
            self.grid_id is not None
            and bool(self.category)
            and bool(self.description)
            and (self.address is not None or self.lat is not None)
            and self.severity is not None
        )


def check_description(text: str | None) -> DraftProblem | None:
    if text is None or not text.strip():
        return DraftProblem.EMPTY
    if len(text) > MAX_DESCRIPTION:
        return DraftProblem.TOO_LONG
    return None


def check_address(text: str | None) -> DraftProblem | None:
    if text is None or not text.strip():
        return DraftProblem.EMPTY
    if len(text) > MAX_ADDRESS:
        return DraftProblem.TOO_LONG
    return None


def reportable_grids(me: Identity) -> list[tuple[int, str]]:
    """(grid id, name) of every grid the person holds a role in, in holding order."""
    seen: dict[int, str] = {}
    for h in me.holdings:
        seen.setdefault(h.grid_id, h.grid_name)
    return list(seen.items())


async def categories(session: AsyncSession) -> tuple[Category, ...]:
    """The deployment's hazard categories (those of its checklist when it names none)."""
    return await deployment_categories(session)


def severities_offered(d_severities: dict[str, Any] | None) -> list[Severity]:
    """The severities the deployment configures that the rules know, in rising order."""
    if not d_severities:
        return list(SEVERITIES)
    named = {SEVERITY_BY_ZH[n] for n in d_severities if n in SEVERITY_BY_ZH}
    return [s for s in SEVERITIES if s in named] or list(SEVERITIES)


async def offered_severities(session: AsyncSession) -> list[Severity]:
    """The severities a report or a patrol's finding may take: the deployment's, rising."""
    dep = await deployment_to_read(session)
    return severities_offered(dep.severities if dep else None)


@dataclass(frozen=True)
class Review:
    """What the summary before submitting shows besides the draft itself."""

    grid_name: str
    duplicates: Sequence[DuplicateLine]
    categories: tuple[Category, ...] = ()


async def review(session: AsyncSession, draft: Draft, now: datetime) -> Review:
    """The grid's name and the possible duplicates (`duplicates`), read together."""
    name, found = await q.grid_name_and_duplicates(session, **_near(draft), now=now)
    return Review(grid_name=name or "", duplicates=found, categories=await categories(session))


async def duplicates(session: AsyncSession, draft: Draft, now: datetime) -> list[Case]:
    return await q.possible_duplicates(session, **_near(draft), now=now)


def _near(draft: Draft) -> dict[str, Any]:
    """Where and what a draft reports, as the duplicate queries ask it."""
    assert draft.grid_id is not None and draft.category is not None
    return {
        "grid_id": draft.grid_id,
        "category": draft.category,
        "lat": draft.lat,
        "lon": draft.lon,
    }


async def submit(
    session: AsyncSession,
    *,
    reporter: Identity,
    draft: Draft,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
) -> Case | DraftProblem:
    """Open the case: code, deadline, the REPORTED ledger entry, the cards."""
    if not draft.complete:
        return DraftProblem.INCOMPLETE
    if draft.grid_id not in {g for g, _ in reportable_grids(reporter)}:
        return DraftProblem.NOT_A_GRID
    if len(draft.photos) > MAX_PHOTOS:
        return DraftProblem.TOO_MANY_PHOTOS
    problem = check_description(draft.description)
    if problem is not None:
        return problem
    assert draft.grid_id is not None
    day = now.astimezone(cfg.tz).strftime("%y%m%d")
    # The grid is read with the code: none is drawn for a grid archived since the draft began.
    drawn = await next_case_code_in(session, day=day, grid_id=draft.grid_id)
    if drawn is None:
        return DraftProblem.NOT_A_GRID
    code, grid = drawn
    assert draft.severity is not None and draft.description is not None
    severity = Severity(draft.severity).value
    case = await add_new_case(
        session,
        code=code,
        grid_id=grid.id or 0,
        origin_grid_id=grid.id or 0,
        reporter_id=reporter.person_id,
        category=draft.category or "",
        description=draft.description.strip(),
        photos=list(draft.photos),
        lat=draft.lat,
        lon=draft.lon,
        address=draft.address,
        severity=severity,
        status=_NEW_STATUS,
        patrol_id=draft.patrol_id,
        deadline_at=initial_deadline(now, severity, cfg),
        created_at=now,
        updated_at=now,
    )
    step: dict[str, Any] = {
        "case": case,
        "kind": _NEW_KIND,
        "at": now,
        "actor_id": reporter.person_id,
        "note": None,
        "data": {"photos": list(draft.photos)} if draft.photos else {},
    }
    lookups = Lookups()
    if cfg.rules.route_for(case.category, case.severity) is None:
        # It stays where it was reported: the step's insert reads the leaders its card goes to.
        leader_grids = card_leader_grids(case, grid, cfg)
        reported, leaders = await append_event_with_leaders(session, grid_ids=leader_grids, **step)
        if leaders is not None:
            lookups.hold(leader_grids, *leaders)
    else:
        reported = await q.append_event(session, **step)
    # The scenario's routing rules may hand it on at once (services/case_routing.py).
    routed = await route_new_case(session, case=case, grid=grid, now=now, cfg=cfg)
    event = routed or reported
    ledger = [reported] if routed is None else [reported, routed]
    await announce(
        session,
        case=case,
        event=event,
        now=now,
        texts=texts,
        cfg=cfg,
        ledger=ledger,
        grid=grid,
        lookups=lookups,
        speaker=reporter,
    )
    await send_copies(session, case=case, event=event, now=now, texts=texts, cfg=cfg)
    return case


async def add_as_comment(
    session: AsyncSession,
    *,
    case_id: int,
    reporter: Identity,
    draft: Draft,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
) -> Case | None:
    """Add a report to an existing open case instead of opening a duplicate.

    Recorded as a comment carrying the report (any person of the deployment who saw the
    same hazard may add to it; the domain's "involved" rule is for later comments). Only a
    case the draft would be offered now may be joined: the button's data is the client's to
    forge, so the offer is worked out again rather than trusted."""
    if not draft.complete or draft.grid_id not in {g for g, _ in reportable_grids(reporter)}:
        return None
    offered = {c.id: c for c in await duplicates(session, draft, now)}
    case = offered.get(case_id)
    if case is None or case.status not in {s.value for s in _OPEN_FOR_REPORTS}:
        return None
    event = await q.append_event(
        session,
        case=case,
        kind=EventKind.COMMENTED.value,
        at=now,
        actor_id=reporter.person_id,
        note=(draft.description or "").strip() or None,
        data={
            "duplicate_report": True,
            "photos": list(draft.photos),
            "lat": draft.lat,
            "lon": draft.lon,
            "address": draft.address,
        },
    )
    await announce(session, case=case, event=event, now=now, texts=texts, cfg=cfg, speaker=reporter)
    return case


_OPEN_FOR_REPORTS = (
    CaseStatus.REPORTED,
    CaseStatus.ACCEPTED,
    CaseStatus.ASSIGNED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.TRANSFERRED,
    CaseStatus.FEEDBACK,
)
