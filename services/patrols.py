"""Patrols and quotas: check in, walk the checklist, finish; where each person stands.

A check-in is assessed once when its location arrives (outside the geofence, forwarded,
too soon after the last counted patrol of the same person in the same grid, the same
coordinates as that patrol) and again when the patrol finishes, against whatever was counted
in between. A flagged patrol is kept in the ledger but does not count.

Checking in (services/patrol_checkin.py), the quotas (services/patrol_quotas.py) and the
leaders' subtree (services/patrol_subtree.py) live beside it and are read from here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.categories import for_checklist_item
from domain.geo import CircleFence
from domain.identity import Identity
from domain.patrols import (
    ChecklistResult,
    PatrolFlag,
)
from domain.periods import PeriodWindow, QuotaPeriod
from services import reporting
from services.case_notify import CaseTexts
from services.case_rules import Config
from services.patrol_checkin import DEFAULT_MIN_INTERVAL_MINUTES as DEFAULT_MIN_INTERVAL_MINUTES
from services.patrol_checkin import FULL as FULL
from services.patrol_checkin import QUICK as QUICK
from services.patrol_checkin import CheckIn as CheckIn
from services.patrol_checkin import CheckInAt as CheckInAt
from services.patrol_checkin import PatrolRules as PatrolRules
from services.patrol_checkin import check_in as check_in
from services.patrol_checkin import check_in_with_rules as check_in_with_rules
from services.patrol_checkin import close_patrol, route_point, with_summary
from services.patrol_checkin import geofence_of as geofence_of
from services.patrol_checkin import patrol_rules as patrol_rules
from services.patrol_quotas import QuotaStatus as QuotaStatus
from services.patrol_quotas import my_quotas as my_quotas
from services.patrol_quotas import quota_for as quota_for
from services.patrol_quotas import quota_window as quota_window
from services.patrol_subtree import GridStat as GridStat
from services.patrol_subtree import PersonStat as PersonStat
from services.patrol_subtree import SubtreeStats as SubtreeStats
from services.patrol_subtree import subtree_stats as subtree_stats
from services.patrol_subtree import target_in_window as target_in_window
from storage.audit import record_audit
from storage.grids import grid_by_code
from storage.models import Grid, Patrol, Person, Role
from storage.outbox import enqueue
from storage.patrol_ledger import case_codes_by_patrol, grid_mates, patrols_under
from storage.patrols import OPEN, open_patrol_of


async def own_open_patrol(
    session: AsyncSession, *, patrol_id: int, person_id: int
) -> Patrol | None:
    """The patrol if it is this person's and still open (re-authorising a button press)."""
    patrol = await session.get(Patrol, patrol_id)
    if patrol is None or patrol.person_id != person_id or patrol.status != OPEN:
        return None
    return patrol


def checklist_of(patrol: Patrol) -> ChecklistResult:
    return ChecklistResult.from_dict(patrol.checklist or {})


def _save_checklist(patrol: Patrol, checklist: ChecklistResult) -> None:
    """Write the answers back, keeping what else the JSON holds (the companions)."""
    patrol.checklist = {**(patrol.checklist or {}), **checklist.to_dict()}


async def mark_item(
    session: AsyncSession, patrol: Patrol, *, index: int, ok: bool, note: str = ""
) -> ChecklistResult:
    checklist = checklist_of(patrol)
    checklist.mark(index, ok, note)
    _save_checklist(patrol, checklist)
    session.add(patrol)
    await session.flush()
    return checklist


async def mark_rest_ok(session: AsyncSession, patrol: Patrol) -> ChecklistResult:
    checklist = checklist_of(patrol)
    checklist.mark_rest_ok()
    _save_checklist(patrol, checklist)
    session.add(patrol)
    await session.flush()
    return checklist


async def add_note(session: AsyncSession, patrol: Patrol, text: str) -> None:
    notes = f"{patrol.notes}\n{text}" if patrol.notes else text
    patrol.notes = notes[:2000]
    session.add(patrol)
    await session.flush()


async def add_photo(session: AsyncSession, patrol: Patrol, file_id: str) -> int:
    patrol.photos = [*patrol.photos, file_id][:10]
    session.add(patrol)
    await session.flush()
    return len(patrol.photos)


# --- a problem found on the checklist opens a hazard case ----------------------------------


async def finding_severities(session: AsyncSession) -> list[str]:
    """The severities a finding may be reported with (the deployment's, in rising order)."""
    return [str(s.value) for s in await reporting.offered_severities(session)]


async def finding_category(session: AsyncSession, item: str) -> str:
    """The category a problem on checklist `item` is reported as: the deployment's category
    for that item (`domain.categories.for_checklist_item`), the item's name only when the
    deployment has neither a linked category nor 其他."""
    found = for_checklist_item(await reporting.categories(session), item)
    return found.label if found else item


async def report_finding(
    session: AsyncSession,
    *,
    reporter: Identity,
    patrol: Patrol,
    category: str,
    description: str,
    severity: str,
    now: datetime,
    texts: CaseTexts,
    cfg: Config,
    photos: Sequence[str] = (),
) -> str | None:
    """Open the hazard case for a checklist problem, prefilled with the patrol's grid, place
    and the item's category; linked to the patrol (its finding). The case code, or None."""
    draft = reporting.Draft(
        grid_id=patrol.grid_id,
        category=category,
        description=description or category,
        photos=list(photos),
        lat=patrol.lat,
        lon=patrol.lon,
        severity=severity,
        patrol_id=patrol.id,
    )
    result = await reporting.submit(
        session, reporter=reporter, draft=draft, now=now, texts=texts, cfg=cfg
    )
    code = getattr(result, "code", None)
    return str(code) if code else None


# --- measures taken and companions (the ledger's 措施 and 人员) ----------------------------

MAX_MEASURES = 1000
MAX_COMPANIONS = 10
MAX_COMPANION_NAME = 40
COMPANIONS_KEY = "companions"
"""Where a patrol's companions live: beside the answers in ``Patrol.checklist``."""


@dataclass(frozen=True)
class Companion:
    """Someone who walked the patrol too: a member of the grid, or a typed name."""

    name: str
    person_id: int | None = None


def companions_of(patrol: Patrol) -> tuple[Companion, ...]:
    raw = (patrol.checklist or {}).get(COMPANIONS_KEY) or []
    return tuple(
        Companion(name=str(c.get("name", "")), person_id=c.get("person_id"))
        for c in raw
        if isinstance(c, dict) and c.get("name")
    )


def _save_companions(patrol: Patrol, companions: list[Companion]) -> None:
    patrol.checklist = {
        **(patrol.checklist or {}),
        COMPANIONS_KEY: [{"name": c.name, "person_id": c.person_id} for c in companions],
    }


def check_measures(text: str | None) -> str | None:
    """None if ``text`` is fine as the measures taken; else the message key saying why not."""
    if text is None or not text.strip():
        return "patrol.measures_empty"
    if len(text.strip()) > MAX_MEASURES:
        return "patrol.measures_too_long"
    return None


async def set_measures(session: AsyncSession, patrol: Patrol, text: str) -> str | None:
    """Record the measures taken on the patrol (replacing earlier ones); a refusal key or None."""
    problem = check_measures(text)
    if problem is not None:
        return problem
    patrol.measures = text.strip()
    session.add(patrol)
    await session.flush()
    return None


async def companion_candidates(session: AsyncSession, patrol: Patrol) -> list[tuple[int, str]]:
    """The grid's other members, who may be picked as companions."""
    return await grid_mates(session, grid_id=patrol.grid_id, exclude_person_id=patrol.person_id)


async def toggle_companion(session: AsyncSession, patrol: Patrol, person_id: int) -> bool:
    """Add or remove a member of the patrol's grid as a companion. False when the person is
    not a member there (a stale or forged button)."""
    mates = dict(await companion_candidates(session, patrol))
    if person_id not in mates:
        return False
    current = list(companions_of(patrol))
    kept = [c for c in current if c.person_id != person_id]
    if len(kept) == len(current):
        if len(current) >= MAX_COMPANIONS:
            return True
        kept.append(Companion(name=mates[person_id], person_id=person_id))
    _save_companions(patrol, kept)
    session.add(patrol)
    await session.flush()
    return True


def parse_companion_names(text: str) -> list[str] | None:
    """Typed names, separated by commas, 、 or new lines; None when unusable."""
    names = [n.strip() for n in re.split(r"[,，、;；\n]+", text) if n.strip()]
    if not names or any(len(n) > MAX_COMPANION_NAME for n in names):
        return None
    return names


async def add_typed_companions(session: AsyncSession, patrol: Patrol, text: str) -> bool:
    """Add typed names as companions (outsiders: 物业, 民警 ...). False if unusable."""
    names = parse_companion_names(text)
    if names is None:
        return False
    current = list(companions_of(patrol))
    known = {c.name for c in current}
    for name in names:
        if name not in known and len(current) < MAX_COMPANIONS:
            current.append(Companion(name=name))
            known.add(name)
    _save_companions(patrol, current)
    session.add(patrol)
    await session.flush()
    return True


# --- the ledger ------------------------------------------------------------------------------

LEDGER_PAGE_SIZE = 8
LEDGER_DOCUMENT_MAX = 5000


@dataclass(frozen=True)
class LedgerEntry:
    """One patrol as the ledger (巡查台账) shows it."""

    patrol: Patrol
    person_name: str
    grid_code: str
    grid_name: str
    problems: tuple[str, ...]
    case_codes: tuple[str, ...]
    companions: tuple[Companion, ...]


@dataclass(frozen=True)
class LedgerPage:
    grid: Grid
    month: str  # YYYY-MM
    page: int
    total: int
    entries: list[LedgerEntry]

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * LEDGER_PAGE_SIZE < self.total


def parse_month(
    text: str | None, now: datetime, tz: tzinfo
) -> tuple[str, datetime, datetime] | None:
    """ "2026-03" (or "202603", or None for this month) → (key, start, end) in UTC bounds of
    the local month; None when unreadable."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    if text:
        digits = text.replace("-", "").replace("/", "").replace(".", "")
        if len(digits) != 6 or not digits.isdigit():
            return None
        year, month = int(digits[:4]), int(digits[4:])
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            return None
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return f"{year:04d}-{month:02d}", start, end


def _entries(
    rows: list[tuple[Patrol, Grid, Any]], codes: dict[int, list[str]]
) -> list[LedgerEntry]:
    return [
        LedgerEntry(
            patrol=p,
            person_name=person.name,
            grid_code=g.code,
            grid_name=g.name,
            problems=tuple(i.name for i in checklist_of(p).problems()),
            case_codes=tuple(codes.get(p.id or 0, [])),
            companions=companions_of(p),
        )
        for p, g, person in rows
    ]


async def ledger_page(
    session: AsyncSession, grid: Grid, *, month: tuple[str, datetime, datetime], page: int
) -> LedgerPage:
    """One page of the subtree's patrols in a month, oldest first."""
    key, start, end = month
    rows, total = await patrols_under(
        session,
        path_prefix=grid.path,
        start=start,
        end=end,
        offset=max(page, 0) * LEDGER_PAGE_SIZE,
        limit=LEDGER_PAGE_SIZE,
    )
    codes = await case_codes_by_patrol(session, [p.id or 0 for p, _g, _n in rows])
    return LedgerPage(
        grid=grid, month=key, page=max(page, 0), total=total, entries=_entries(rows, codes)
    )


async def ledger_all(
    session: AsyncSession, grid: Grid, *, month: tuple[str, datetime, datetime]
) -> list[LedgerEntry]:
    """The whole month (up to LEDGER_DOCUMENT_MAX patrols), for the exported document."""
    _key, start, end = month
    rows, _total = await patrols_under(
        session, path_prefix=grid.path, start=start, end=end, limit=LEDGER_DOCUMENT_MAX
    )
    codes = await case_codes_by_patrol(session, [p.id or 0 for p, _g, _n in rows])
    return _entries(rows, codes)


async def ledger_entry_of(session: AsyncSession, patrol: Patrol) -> LedgerEntry:
    grid = await session.get(Grid, patrol.grid_id)
    person = await session.get(Person, patrol.person_id)
    assert grid is not None and person is not None
    codes = await case_codes_by_patrol(session, [patrol.id or 0])
    return _entries([(patrol, grid, person)], codes)[0]


async def _post_to_group(
    session: AsyncSession, patrol: Patrol, *, summary: Callable[[LedgerEntry], str], now: datetime
) -> bool:
    """Queue the finished patrol's summary for the grid's bound group, if there is one."""
    grid = await session.get(Grid, patrol.grid_id)
    if grid is None or grid.group_chat_id is None:
        return False
    entry = await ledger_entry_of(session, patrol)
    return await enqueue(
        session,
        key=f"patrol:{patrol.id}:group",
        kind="patrol_summary",
        chat_id=grid.group_chat_id,
        text=summary(entry),
        now=now,
    )


@dataclass(frozen=True)
class Finished:
    patrol: Patrol
    flags: tuple[PatrolFlag, ...]
    quota: QuotaStatus | None

    @property
    def counted(self) -> bool:
        return self.patrol.counted


async def finish_patrol(
    session: AsyncSession,
    patrol: Patrol,
    *,
    identity: Identity,
    now: datetime,
    rules: PatrolRules,
    summary: Callable[[LedgerEntry], str] | None = None,
) -> Finished:
    """Close the patrol; unanswered checklist items are taken as OK.

    With ``summary`` (the bot's renderer), a full patrol's ledger entry is posted to the
    grid's bound group through the outbox (once: the key is the patrol's)."""
    if patrol.kind == FULL and patrol.checklist:
        checklist = checklist_of(patrol)
        checklist.mark_rest_ok()
        _save_checklist(patrol, checklist)
    await close_patrol(session, patrol, now=now, rules=rules)
    if summary is not None and patrol.kind == FULL:
        await _post_to_group(session, patrol, summary=summary, now=now)
    return await outcome(session, patrol, identity=identity, now=now, rules=rules)


async def outcome(
    session: AsyncSession,
    patrol: Patrol,
    *,
    identity: Identity,
    now: datetime,
    rules: PatrolRules,
    known: tuple[PeriodWindow, int] | None = None,
) -> Finished:
    """The patrol's flags and the quota it counts for (``known``: `CheckIn.credited`)."""
    quota = await quota_for(
        session,
        identity,
        grid_id=patrol.grid_id,
        role_id=patrol.role_id,
        now=now,
        tz=rules.tz,
        known=known,
    )
    return Finished(patrol=patrol, flags=tuple(PatrolFlag(f) for f in patrol.flags), quota=quota)


async def live_update(
    session: AsyncSession, *, person_id: int, lat: float, lon: float, at: datetime
) -> Patrol | None:
    """Add a live-location fix to the person's open live patrol; None if there is none."""
    patrol = await open_patrol_of(session, person_id=person_id)
    if patrol is None or patrol.route is None:
        return None
    points = [*patrol.route.get("points", []), route_point(at, lat, lon)]
    patrol.route = with_summary(points)
    session.add(patrol)
    await session.flush()
    return patrol


async def start_route(
    session: AsyncSession, *, person_id: int, lat: float, lon: float, at: datetime
) -> Patrol | None:
    """A live location shared after the check-in: the open patrol's route starts here."""
    patrol = await open_patrol_of(session, person_id=person_id)
    if patrol is None:
        return None
    points = [*(patrol.route or {}).get("points", []), route_point(at, lat, lon)]
    patrol.route = with_summary(points)
    session.add(patrol)
    await session.flush()
    return patrol


# --- admin -------------------------------------------------------------------------------


class PatrolAdminError(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


async def set_quota(
    session: AsyncSession, *, role_key: str, period: str, count: int, actor_tg_id: int | None
) -> Role:
    """Change a role's quota; a count of 0 removes it."""
    role = (await session.exec(select(Role).where(Role.key == role_key))).first()
    if role is None:
        raise PatrolAdminError("patrol.admin_unknown_role", role=role_key)
    if period not in set(QuotaPeriod):
        raise PatrolAdminError("patrol.admin_bad_period", period=period)
    if count < 0 or count > 1000:
        raise PatrolAdminError("patrol.admin_bad_count")
    role.quota_period = period if count else None
    role.quota_count = count or None
    session.add(role)
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="quota",
        target=role.key,
        detail={"period": period, "count": count},
    )
    await session.flush()
    return role


async def set_geofence(
    session: AsyncSession,
    *,
    code: str,
    fence: CircleFence | None,
    actor_tg_id: int | None,
) -> Grid:
    """Set (or clear, with None) a grid's circular geofence."""
    grid = await grid_by_code(session, code)
    if grid is None:
        raise PatrolAdminError("patrol.admin_unknown_grid", code=code)
    grid.geofence = fence.to_dict() if fence is not None else None
    session.add(grid)
    await record_audit(
        session,
        actor_tg_id=actor_tg_id,
        action="geofence",
        target=grid.code,
        detail={"geofence": grid.geofence},
    )
    await session.flush()
    return grid
