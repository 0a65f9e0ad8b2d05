"""The daily digest (日报) as a pure roll-up over the grid tree.

Storage hands over a snapshot made of a handful of grouped queries (the tree, the
memberships, patrol counts per person × grid × role, case counts per grid × severity, ...).
`roll_up` folds the per-grid figures into per-subtree figures in one pass over the grids,
deepest first, and `digest_for` cuts one leader's digest out of it. Nothing here touches the
database or the clock: `now`, the windows and the zone are passed in.

Lists that could grow with the city (laggards, unreachable people, 重大 cases) are kept as
capped samples with exact counts beside them, so a root leader's digest costs the same as a
building's.

A digest is read only while it carries news (`has_news`): a subtree with no case open or
moved today, no patrol quota and nobody behind says nothing, and its leader gets no digest
that day; a child grid with nothing to say is left out of its parent's rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from domain.cases import Severity
from domain.digest_records import (
    CaseRow,
    DoneCounts,
    GridNode,
    Holding,
    NamedCase,
    PersonInfo,
    Snapshot,
    is_critical,
    severity_key,
)
from domain.digest_stats import CASE_FIELDS, SAMPLE, Behind, GridStats, grid_has_news
from domain.pacing import Pace, pace
from domain.periods import PeriodWindow, QuotaPeriod, window_at

__all__ = [  # the snapshot's records and the grid figures are re-exported: others read them here
    "CASE_FIELDS",
    "SAMPLE",
    "CaseRow",
    "ChildLine",
    "DoneCounts",
    "GridNode",
    "GridStats",
    "Holding",
    "LeaderDigest",
    "NamedCase",
    "PersonInfo",
    "RolledUp",
    "Snapshot",
    "digest_for",
    "everyone_behind",
    "grid_has_news",
    "has_news",
    "is_critical",
    "rank_key",
    "roll_up",
    "severity_key",
    "windows_at",
]

_NONE_DONE = DoneCounts()


class _Paces:
    """`pace()` memoised on (period, quota, done): a city has few distinct combinations."""

    def __init__(self, windows: Mapping[str, PeriodWindow], now: datetime, tz: tzinfo) -> None:
        self.windows, self.now, self.tz = windows, now, tz
        self.cache: dict[tuple[str, int, int], Pace] = {}

    def of(self, period: str, quota: int, done: int) -> Pace:
        key = (period, quota, done)
        p = self.cache.get(key)
        if p is None:
            p = self.cache[key] = pace(quota, done, self.windows[period], self.now, self.tz)
        return p


@dataclass
class RolledUp:
    """`subtree[g]` is `own[g]` itself for a grid without children: treat both as read-only."""

    grids: dict[int, GridNode]
    children: dict[int, list[int]]
    own: dict[int, GridStats]
    subtree: dict[int, GridStats]
    leaders: dict[int, list[int]]  # grid -> leader person ids (own grid only)
    led: dict[int, list[int]]  # person -> grids they lead


def roll_up(
    snapshot: Snapshot,
    windows: Mapping[str, PeriodWindow],
    now: datetime,
    tz: tzinfo,
) -> RolledUp:
    """Per-grid figures, then per-subtree figures, in one pass over the tree."""
    grids = {g.id: g for g in snapshot.grids}
    children: dict[int, list[int]] = defaultdict(list)
    for g in snapshot.grids:
        if g.parent_id is not None and g.parent_id in grids:
            children[g.parent_id].append(g.id)
    own: dict[int, GridStats] = {gid: GridStats() for gid in grids}

    paces = _Paces(windows, now, tz)
    leaders: dict[int, list[int]] = defaultdict(list)
    led: dict[int, list[int]] = defaultdict(list)
    seen_unreachable: set[tuple[int, int]] = set()
    people, done_by = snapshot.people, snapshot.done
    for h in snapshot.holdings:
        stats = own.get(h.grid_id)
        if stats is None:
            continue
        period = h.quota_period
        if period and h.quota_count:
            done = done_by.get((h.person_id, h.grid_id, h.role_id), _NONE_DONE)
            p = paces.of(period, h.quota_count, done.of(period))
            stats.required += p.quota
            counted = min(p.done, p.quota)
            stats.done += counted
            stats.due += p.due
            stats.joint += min(done.joint(period), counted)
            if p.needs_nag:
                stats.behind += 1
                lag = (h.person_id, h.grid_id, h.role_label)
                stats.behind_own.append(lag)
                if len(stats.behind_sample) < SAMPLE:
                    stats.behind_sample.append(lag)
        if h.is_leader:
            if h.person_id not in leaders[h.grid_id]:
                leaders[h.grid_id].append(h.person_id)
            if h.grid_id not in led[h.person_id]:
                led[h.person_id].append(h.grid_id)
        person = people.get(h.person_id)
        if person is not None and not person.reachable:
            if (h.person_id, h.grid_id) in seen_unreachable:
                continue
            seen_unreachable.add((h.person_id, h.grid_id))
            stats.unreachable += 1
            if len(stats.unreachable_sample) < SAMPLE:
                stats.unreachable_sample.append(h.person_id)

    severities: dict[str, Severity | str] = {}
    for row in snapshot.cases:
        stats = own.get(row.grid_id)
        if stats is not None:
            sev = severities.get(row.severity)
            if sev is None:
                sev = severities[row.severity] = severity_key(row.severity)
            stats.add_cases(sev, row[2:7])
    for gid, count in snapshot.flagged.items():
        if gid in own:
            own[gid].flagged += count
    for (gid, _status), count in snapshot.open_cases.items():
        if gid in own:
            own[gid].open += count
    for gid, (closed, on_time) in snapshot.closure.items():
        if gid in own:
            own[gid].closed_with_deadline += closed
            own[gid].closed_on_time += on_time
    for gid, (yellow, red) in snapshot.supervised.items():
        if gid in own:
            own[gid].yellow += yellow
            own[gid].red += red
    for case in snapshot.critical:
        if case.grid_id in own:
            stats = own[case.grid_id]
            stats.critical += 1
            if len(stats.critical_sample) < SAMPLE:
                stats.critical_sample.append(case)

    subtree: dict[int, GridStats] = {}
    for g in sorted(snapshot.grids, key=lambda g: -g.depth):
        below = children.get(g.id)
        if not below:
            subtree[g.id] = own[g.id]
            continue
        total = GridStats()
        total.merge(own[g.id])
        for child in below:
            total.merge(subtree[child])
        subtree[g.id] = total
    return RolledUp(grids, dict(children), own, subtree, dict(leaders), dict(led))


@dataclass
class ChildLine:
    grid: GridNode
    stats: GridStats


@dataclass
class LeaderDigest:
    """One leader's digest: the figures of every subtree they lead, merged."""

    person_id: int
    tops: list[GridNode]
    totals: GridStats
    children: list[ChildLine]
    behind_named: list[Behind]
    """Who is behind, nearest first: the people of the led grids and of their child grids,
    then a sample from further down (`totals.behind` counts them all)."""
    waiting: dict[str, int]  # status -> count in the grids this person leads
    grids: Mapping[int, GridNode] = field(default_factory=dict)
    """Every grid of the roll-up, by id (to name where a laggard is)."""


def has_news(d: LeaderDigest) -> bool:
    """Whether a leader's digest is worth a message today (else none is sent)."""
    return grid_has_news(d.totals) or any(d.waiting.values())


def _tops(grid_ids: Iterable[int], grids: Mapping[int, GridNode]) -> list[int]:
    """The led grids that no other led grid contains."""
    led = set(grid_ids)
    if len(led) == 1:
        return list(led)
    tops = []
    for gid in led:
        parent = grids[gid].parent_id
        covered = False
        while parent is not None:
            if parent in led:
                covered = True
                break
            parent = grids[parent].parent_id if parent in grids else None
        if not covered:
            tops.append(gid)
    return sorted(tops, key=lambda g: (grids[g].depth, grids[g].code))


def rank_key(line: ChildLine) -> tuple[float, float, str]:
    """Best first: on-time closure rate, then patrol completion (unknown ranks last)."""
    rate = line.stats.on_time_rate
    completion = line.stats.completion
    return (
        -(rate if rate is not None else -1.0),
        -(completion if completion is not None else -1.0),
        line.grid.code,
    )


WAITING_STATUSES = ("reported", "accepted", "feedback")


def digest_for(rolled: RolledUp, snapshot: Snapshot, person_id: int) -> LeaderDigest | None:
    led = [g for g in rolled.led.get(person_id, []) if g in rolled.grids]
    if not led:
        return None
    tops = _tops(led, rolled.grids)
    if len(tops) == 1:
        totals = rolled.subtree[tops[0]]  # read-only, like every subtree figure
    else:
        totals = GridStats()
        for top in tops:
            totals.merge(rolled.subtree[top])
    lines: list[ChildLine] = []
    named: list[Behind] = []
    deeper: list[Behind] = []
    for top in tops:
        named.extend(rolled.own[top].behind_own)
        for child in rolled.children.get(top, ()):
            sub = rolled.subtree[child]
            if grid_has_news(sub):
                lines.append(ChildLine(rolled.grids[child], sub))
            named.extend(rolled.own[child].behind_own)
            if len(deeper) < SAMPLE:
                deeper.extend(lag for lag in sub.behind_sample if lag[1] != child)
    lines.sort(key=rank_key)
    waiting = dict.fromkeys(WAITING_STATUSES, 0)
    for gid in led:
        for status in WAITING_STATUSES:
            waiting[status] += snapshot.open_cases.get((gid, status), 0)
    return LeaderDigest(
        person_id=person_id,
        tops=[rolled.grids[t] for t in tops],
        totals=totals,
        children=lines,
        behind_named=named + deeper[:SAMPLE],
        waiting=waiting,
        grids=rolled.grids,
    )


def everyone_behind(rolled: RolledUp, d: LeaderDigest) -> list[Behind]:
    """Every laggard `d.totals.behind` counts, nearest first (the digest's full list).

    Walks the whole of the leader's subtrees: meant for a snapshot narrowed to them (one
    leader's full list), not for the city's."""
    out: list[Behind] = []
    level = [g.id for g in d.tops]
    while level:
        for gid in level:
            out.extend(rolled.own[gid].behind_own)
        level = [c for gid in level for c in rolled.children.get(gid, ())]
    return out


def windows_at(now: datetime, tz: tzinfo) -> dict[str, PeriodWindow]:
    return {p.value: window_at(p, now, tz) for p in QuotaPeriod}
