"""Checking in: the deployment's patrol rules, a check-in at a location and its assessment,
closing a patrol (assessed again against what was counted in between).

A check-in is assessed once when its location arrives (outside the geofence, forwarded,
too soon after the last counted patrol of the same person in the same grid, the same
coordinates as that patrol) and again when the patrol finishes. Read from services.patrols.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.geo import Geofence, parse_geofence, summarize_route
from domain.identity import Identity
from domain.patrols import (
    ChecklistResult,
    LastPatrol,
    PatrolFlag,
    assess_checkin,
    default_checklist,
)
from domain.periods import PeriodWindow
from services.patrol_quotas import quota_window
from storage.deployment_row import deployment_at_hand, deployment_to_read
from storage.models import Grid, Patrol
from storage.new_rows import add_new_row
from storage.patrol_checkin import CheckinScene, DeploymentRules, checkin_scene
from storage.patrols import DONE, OPEN, REFUSED, last_counted

FULL = "full"
QUICK = "quick"
DEFAULT_MIN_INTERVAL_MINUTES = 60


# --- rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PatrolRules:
    checklist: tuple[str, ...]
    min_interval: timedelta
    tz: tzinfo


async def patrol_rules(session: AsyncSession, *, default_tz: tzinfo) -> PatrolRules:
    """The deployment's checklist, minimum interval and time zone (defaults if unset)."""
    dep = await deployment_to_read(session)
    if dep is None:
        return _rules(None, default_tz)
    return _rules(
        DeploymentRules(True, dep.timezone, dep.checklist, dep.min_patrol_interval_minutes),
        default_tz,
    )


def _rules(dep: DeploymentRules | None, default_tz: tzinfo) -> PatrolRules:
    if dep is None or not dep.found:
        return PatrolRules(
            default_checklist(), timedelta(minutes=DEFAULT_MIN_INTERVAL_MINUTES), default_tz
        )
    try:
        tz: tzinfo = ZoneInfo(dep.timezone) if dep.timezone else default_tz
    except (ZoneInfoNotFoundError, ValueError):
        tz = default_tz
    return PatrolRules(
        checklist=tuple(dep.checklist or ()) or default_checklist(),
        min_interval=timedelta(minutes=max(dep.min_interval_minutes or 0, 0)),
        tz=tz,
    )


def geofence_of(grid: Grid) -> Geofence | None:
    """The grid's geofence, or None when unset or unreadable (an unreadable one is ignored
    rather than flagging every honest check-in)."""
    return _fence(grid.geofence)


def _fence(raw: dict[str, Any] | None) -> Geofence | None:
    if not raw:
        return None
    try:
        return parse_geofence(raw)
    except ValueError:
        return None


# --- check-in and the patrol -----------------------------------------------------------


@dataclass(frozen=True)
class CheckIn:
    patrol: Patrol
    flags: tuple[PatrolFlag, ...]
    credited: tuple[PeriodWindow, int] | None = None
    """With a ``count_window``: the patrols credited to the membership in it, this one
    included (for `outcome`)."""


async def _assess(
    session: AsyncSession,
    *,
    patrol: Patrol,
    grid: Grid,
    rules: PatrolRules,
) -> tuple[PatrolFlag, ...]:
    assert patrol.lat is not None and patrol.lon is not None
    last = await last_counted(
        session, person_id=patrol.person_id, grid_id=patrol.grid_id, exclude_id=patrol.id
    )
    return assess_checkin(
        lat=patrol.lat,
        lon=patrol.lon,
        at=patrol.started_at,
        forwarded=patrol.forwarded,
        geofence=geofence_of(grid),
        last_counted=None
        if last is None or last.lat is None or last.lon is None
        else LastPatrol(at=last.started_at, lat=last.lat, lon=last.lon),
        min_interval=rules.min_interval,
    )


def route_point(at: datetime, lat: float, lon: float) -> list[Any]:
    return [at.isoformat(), lat, lon]


def with_summary(points: list[list[Any]]) -> dict[str, Any]:
    summary = summarize_route([(datetime.fromisoformat(p[0]), p[1], p[2]) for p in points])
    return {
        "points": points,
        "start": summary.start.isoformat(),
        "end": summary.end.isoformat(),
        "duration_s": summary.duration_s,
        "distance_m": round(summary.distance_m, 1),
        "points_count": summary.points_count,
    }


async def check_in(
    session: AsyncSession,
    *,
    person_id: int,
    grid_id: int,
    role_id: int,
    kind: str,
    lat: float,
    lon: float,
    forwarded: bool,
    live: bool,
    now: datetime,
    rules: PatrolRules,
    count_window: PeriodWindow | None = None,
) -> CheckIn:
    """Record a check-in at a location.

    A quick check-in is closed at once (counted unless flagged); a full patrol stays open for
    the checklist. A forwarded location is recorded as a refused, flagged attempt. With a
    ``count_window`` (the quota's, for the outcome a quick check-in answers with), the
    membership's credits in it are counted in the same statement as the scene.
    """
    at = CheckInAt(person_id, grid_id, role_id, kind, lat, lon, forwarded, live, now)
    scene = await checkin_scene(session, **at.scene_args(count_window))
    if scene is None:
        raise LookupError(f"no grid {grid_id}")
    return await _check_in(session, at, scene, rules=rules, count_window=count_window)


@dataclass(frozen=True)
class CheckInAt:
    """Who checks in where, how and when (`check_in`'s arguments)."""

    person_id: int
    grid_id: int
    role_id: int
    kind: str
    lat: float
    lon: float
    forwarded: bool
    live: bool
    now: datetime

    def scene_args(self, count_window: PeriodWindow | None) -> dict[str, Any]:
        bounds = None if count_window is None else (count_window.start, count_window.end)
        return {
            "person_id": self.person_id,
            "grid_id": self.grid_id,
            "role_id": self.role_id,
            "window": bounds,
        }


async def check_in_with_rules(
    session: AsyncSession, at: CheckInAt, *, identity: Identity, default_tz: tzinfo
) -> tuple[CheckIn, PatrolRules]:
    """`check_in` as the bot does it, with the deployment's rules (`patrol_rules`) read in
    the scene's statement unless the unit of work has the row at hand (an update's has); a
    quick check-in's quota counted there too (`CheckIn.credited`). The count's window is the
    default zone's guess until the rules are read; a deployment in another zone with another
    window leaves the count to `outcome`."""
    at_hand = deployment_at_hand(session)
    known = await patrol_rules(session, default_tz=default_tz) if at_hand else None

    def window_in(tz: tzinfo) -> PeriodWindow | None:
        if at.kind != QUICK or at.forwarded:
            return None
        return quota_window(identity, grid_id=at.grid_id, role_id=at.role_id, now=at.now, tz=tz)

    window = window_in(known.tz if known is not None else default_tz)
    scene = await checkin_scene(session, **at.scene_args(window), with_rules=known is None)
    if scene is None:
        raise LookupError(f"no grid {at.grid_id}")
    rules = known if known is not None else _rules(scene.deployment, default_tz)
    # The same zone gives the same window: asked again only for another one.
    moved = window is not None and known is None and rules.tz != default_tz
    if moved and window_in(rules.tz) != window:
        window = None
    return await _check_in(session, at, scene, rules=rules, count_window=window), rules


async def _check_in(
    session: AsyncSession,
    at: CheckInAt,
    scene: CheckinScene,
    *,
    rules: PatrolRules,
    count_window: PeriodWindow | None,
) -> CheckIn:
    person_id, grid_id, role_id, kind = at.person_id, at.grid_id, at.role_id, at.kind
    lat, lon, forwarded, live, now = at.lat, at.lon, at.forwarded, at.live, at.now
    if not forwarded and scene.open_id is not None:
        # A person has one open patrol at a time: a new check-in abandons an older one.
        stale = await session.get(Patrol, scene.open_id)
        assert stale is not None
        await close_patrol(session, stale, now=now, rules=rules)
        # Closed, it may have become the last counted patrol here, and counted.
        again = await checkin_scene(session, **at.scene_args(count_window))
        assert again is not None
        scene = again
    # Assessed before the row is written (the new patrol is not counted yet, so it is not its
    # own last counted one): the row goes in once, as it ends up.
    flags = assess_checkin(
        lat=lat,
        lon=lon,
        at=now,
        forwarded=forwarded,
        geofence=_fence(scene.geofence),
        last_counted=None
        if scene.last_at is None or scene.last_lat is None or scene.last_lon is None
        else LastPatrol(at=scene.last_at, lat=scene.last_lat, lon=scene.last_lon),
        min_interval=rules.min_interval,
    )
    status, finished_at, counted = OPEN, None, False
    if forwarded:
        status, finished_at = REFUSED, now
    elif kind == QUICK:
        status, finished_at, counted = DONE, now, not flags
    # Written by a plain insert, not the ORM's flush (~450 Python calls of a check-in).
    patrol = await add_new_row(
        session,
        Patrol,
        {
            "person_id": person_id,
            "grid_id": grid_id,
            "role_id": role_id,
            "kind": kind,
            "status": status,
            "started_at": now,
            "finished_at": finished_at,
            "lat": lat,
            "lon": lon,
            "forwarded": forwarded,
            "route": with_summary([route_point(now, lat, lon)]) if live and not forwarded else None,
            "checklist": ChecklistResult.start(rules.checklist).to_dict() if kind == FULL else {},
            "flags": [str(f) for f in flags],
            "counted": counted,
            "photos": [],
            "notes": None,
            "measures": None,
        },
    )
    credited = None
    if count_window is not None and scene.credited is not None and now in count_window:
        # Its only credit is its walker's, this membership's (no companions at check-in).
        credited = (count_window, scene.credited + int(patrol.counted))
    return CheckIn(patrol=patrol, flags=flags, credited=credited)


async def close_patrol(
    session: AsyncSession, patrol: Patrol, *, now: datetime, rules: PatrolRules
) -> None:
    """Close the patrol (done), assessed again against what was counted since."""
    grid = await session.get(Grid, patrol.grid_id)
    assert grid is not None
    flags = await _assess(session, patrol=patrol, grid=grid, rules=rules)
    patrol.flags = [str(f) for f in flags]
    patrol.status = DONE
    patrol.finished_at = now
    patrol.counted = not flags
    session.add(patrol)
    await session.flush()
