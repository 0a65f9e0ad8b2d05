"""The scoreboard of a subtree (/stats, the export's summary sheet), and whose subtree a
leader may ask for.

Scope: a scoreboard or an export covers one grid's subtree and names every case in it, so it
follows the grid clause of `domain.visibility.may_see` as the leaders hold it: admins any
grid; a leader the grids they lead and everything below (`listed_subtrees` of the grids they
lead). Members see their own cases on their cards, not their grid's ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.identity import Identity
from domain.stats import CaseTally, Scoreboard, Span, scoreboard, trend_buckets
from domain.visibility import listed_subtrees
from storage import stats as queries
from storage.case_rules import case_rules, flags_per_assignee
from storage.grids import grid_by_code
from storage.models import Grid


class ScopeError(Exception):
    """Not a subtree this person may ask for; `key` names the polite answer."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def led_subtrees(me: Identity | None) -> list[tuple[int, ...]]:
    if me is None:
        return []
    return listed_subtrees(h.grid_path for h in me.holdings if h.is_leader)


def may_report_on(grid: Grid, me: Identity | None, is_admin: bool) -> bool:
    path = tuple(grid.ancestor_ids())
    return is_admin or any(path[: len(p)] == p for p in led_subtrees(me))


async def resolve_scope(
    session: AsyncSession, *, code: str | None, me: Identity | None, is_admin: bool
) -> Grid:
    """The grid named by ``code`` (or the one subtree the person leads) if they may see it."""
    if code is None:
        subtrees = led_subtrees(me)
        if len(subtrees) != 1:
            raise ScopeError("stats.need_code")
        grid = await session.get(Grid, subtrees[0][-1])
        if grid is None:  # pragma: no cover - a membership's grid always exists
            raise ScopeError("stats.need_code")
        return grid
    grid = await grid_by_code(session, code)
    if grid is None:
        raise ScopeError("stats.unknown_grid", code=code)
    if not may_report_on(grid, me, is_admin):
        raise ScopeError("stats.refused", code=code)
    return grid


async def scoreboard_of(
    session: AsyncSession, grid: Grid, span: Span, *, now: datetime, tz: tzinfo
) -> Scoreboard:
    """The subtree's scoreboard over ``span``: five grouped statements and a roll-up (the
    督办 flags counted per grid × assignee in the database: `flags_per_assignee`)."""
    assert grid.id is not None
    grids = await queries.subtree_grids(session, grid.path)
    ref = next(g for g in grids if g.id == grid.id)
    cases = await queries.case_tallies(session, grid.path, span, now)
    rules = await case_rules(session)
    flags = await flags_per_assignee(session, rules, now, paths=[grid.path])
    for key, f in flags.items():
        cases[key] = cases.get(key, CaseTally()) + CaseTally(yellow=f.yellow, red=f.red)
    return scoreboard(
        ref,
        span,
        tz,
        grids=grids,
        posts=await queries.posts_under(session, grid.path),
        done=await queries.done_under(session, grid.path, span),
        cases=cases,
    )


@dataclass(frozen=True)
class Trend:
    labels: list[str]
    patrols: list[int]
    closed: list[int]


@dataclass(frozen=True)
class StatsReport:
    board: Scoreboard
    trend: Trend


async def stats_of(
    session: AsyncSession, grid: Grid, span: Span, *, now: datetime, tz: tzinfo
) -> StatsReport:
    board = await scoreboard_of(session, grid, span, now=now, tz=tz)
    # The line stops at today: days still to come are not zeros.
    buckets = [b for b in trend_buckets(span, tz) if b.start <= now]
    patrols, closed = await queries.trend(session, grid.path, buckets)
    labels = [b.first.strftime("%d") if span.days <= 31 else b.key[5:] for b in buckets]
    return StatsReport(board, Trend(labels, patrols, closed))
