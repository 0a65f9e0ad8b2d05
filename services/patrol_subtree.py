"""The subtree of a grid, for leaders: done vs quota per child grid and per person."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.periods import PeriodWindow, QuotaPeriod, local_day_count, window_at
from storage.grids import children as child_grids
from storage.models import Grid
from storage.patrols import memberships_under, tallies_under

_PERIOD_DAYS = {QuotaPeriod.DAY: 1, QuotaPeriod.WEEK: 7}


def target_in_window(
    quota_period: str | None, quota_count: int | None, window: PeriodWindow, tz: tzinfo
) -> int | None:
    """A role's quota expressed for ``window``: as is when the periods match, scaled by days
    for a shorter role period (a daily quota over a month), None for a longer one."""
    if quota_period not in set(QuotaPeriod) or not quota_count:
        return None
    period = QuotaPeriod(quota_period)
    if period is window.period:
        return quota_count
    if period is QuotaPeriod.MONTH:
        return None
    if period is QuotaPeriod.WEEK and window.period is QuotaPeriod.DAY:
        return None
    return quota_count * local_day_count(window, tz) // _PERIOD_DAYS[period]


@dataclass(frozen=True)
class PersonStat:
    person_id: int
    person_name: str
    grid_code: str
    grid_name: str
    role_label: str
    done: int
    target: int | None
    flagged: int

    @property
    def short(self) -> bool:
        return self.target is not None and self.done < self.target


@dataclass
class GridStat:
    grid_id: int
    grid_code: str
    grid_name: str
    done: int = 0
    target: int = 0
    flagged: int = 0
    people: int = 0


@dataclass
class SubtreeStats:
    grid: Grid
    window: PeriodWindow
    own: GridStat
    children: list[GridStat] = field(default_factory=list)
    people: list[PersonStat] = field(default_factory=list)

    @property
    def flagged(self) -> int:
        return self.own.flagged + sum(c.flagged for c in self.children)


async def subtree_stats(
    session: AsyncSession, grid: Grid, *, period: QuotaPeriod, now: datetime, tz: tzinfo
) -> SubtreeStats:
    """Done vs quota per child grid and per person of a subtree, for one window.

    Two grouped queries (memberships, patrol tallies) and a roll-up in memory."""
    window = window_at(period, now, tz)
    members = await memberships_under(session, path_prefix=grid.path, with_quota_only=False)
    tallies = await tallies_under(
        session, path_prefix=grid.path, start=window.start, end=window.end
    )
    kids = await child_grids(session, grid)
    assert grid.id is not None
    own = GridStat(grid.id, grid.code, grid.name)
    by_child: dict[int, GridStat] = {
        c.id: GridStat(c.id, c.code, c.name) for c in kids if c.id is not None
    }
    depth = len(grid.ancestor_ids())

    def bucket(path: str) -> GridStat:
        ids = [int(p) for p in path.strip("/").split("/") if p]
        if len(ids) > depth and ids[depth] in by_child:
            return by_child[ids[depth]]
        return own

    stats = SubtreeStats(grid=grid, window=window, own=own, children=list(by_child.values()))
    seen: set[tuple[int, int, int]] = set()
    paths: dict[int, str] = {}
    for m in members:
        key = (m.person_id, m.grid_id, m.role_id)
        seen.add(key)
        paths[m.grid_id] = m.grid_path
        tally = tallies.get(key)
        done = tally.counted if tally else 0
        flagged = tally.flagged if tally else 0
        target = target_in_window(m.quota_period, m.quota_count, window, tz)
        b = bucket(m.grid_path)
        b.done += done
        b.flagged += flagged
        b.target += target or 0
        if target is not None or done or flagged:
            b.people += 1
            stats.people.append(
                PersonStat(
                    person_id=m.person_id,
                    person_name=m.person_name,
                    grid_code=m.grid_code,
                    grid_name=m.grid_name,
                    role_label=m.role_label,
                    done=done,
                    target=target,
                    flagged=flagged,
                )
            )
    # Patrols by someone who has since left the grid still count for the grid.
    leftovers: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for key, tally in tallies.items():
        if key not in seen:
            leftovers[key[1]][0] += tally.counted
            leftovers[key[1]][1] += tally.flagged
    if leftovers:
        rows = await session.exec(select(Grid).where(col(Grid.id).in_(list(leftovers))))
        for g in rows:
            b = bucket(g.path)
            b.done += leftovers[g.id or 0][0]
            b.flagged += leftovers[g.id or 0][1]
    return stats
