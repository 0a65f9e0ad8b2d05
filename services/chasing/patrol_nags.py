"""Patrols: a daily nag to everyone behind the pace of their quota, and the leader told who
ended a finished window (yesterday, last week, last month) short of it: the person's own
grid's leaders, or for someone who leads that grid, the level above
(`domain.pacing.shortfall_recipients`), so no shortfall goes untold."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta, tzinfo

from aiogram import html
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.digest import Holding, windows_at
from domain.pacing import Pace, fell_short, pace, shortfall_recipients
from domain.periods import PeriodWindow, previous_window
from services.chasing.job import Pusher, Tree, give_way
from storage import digest as q

quote = html.quote
MAX_SHORTFALLS = 60
"""Lines of one leader's shortfall message (the rest as "+N more")."""

Laggards = dict[int, list[tuple[int, str]]]
"""Per grid, who is behind: (person id, role label)."""


def _last_day(window: PeriodWindow, tz: tzinfo) -> str:
    return (window.end.astimezone(tz) - timedelta(days=1)).date().isoformat()


async def patrol_nags(
    session: AsyncSession, push: Pusher, tree: Tree, holdings: list[Holding]
) -> Laggards:
    """Nag every laggard once a day; name last window's shortfalls to the leader.

    Returns the laggards per grid (person, role label) for the roll call."""
    now, tz, t = push.now, push.rules.tz, push.t
    today = now.astimezone(tz).date().isoformat()
    windows = windows_at(now, tz)
    done = await q.patrol_done(session, windows, now)
    lines: dict[int, list[str]] = defaultdict(list)
    laggards: Laggards = defaultdict(list)
    # A city has a few quotas and small counts: one pace per (quota, period, done), not
    # one per holding (the calendar arithmetic was most of the loop).
    paces: dict[tuple[int, str, int], Pace] = {}
    for i, h in enumerate(holdings, start=1):
        await give_way(i)
        if not h.quota_period or not h.quota_count or h.grid_id not in tree.grids:
            continue
        window = windows[h.quota_period]
        counts = done.get((h.person_id, h.grid_id, h.role_id))
        n = counts.of(h.quota_period) if counts else 0
        seen = (h.quota_count, h.quota_period, n)
        p = paces.get(seen)
        if p is None:
            p = paces[seen] = pace(h.quota_count, n, window, now, tz)
        if not p.needs_nag:
            continue
        laggards[h.grid_id].append((h.person_id, h.role_label))
        lang = push.lang(h.person_id)
        lines[h.person_id].append(
            t(
                "chasing.patrol_line",
                lang,
                grid=quote(tree.grids[h.grid_id].name),
                role=quote(h.role_label),
                period=t(f"chasing.period.{h.quota_period}", lang),
                quota=p.quota,
                done=p.done,
                left=p.left,
                until=_last_day(window, tz),
            )
        )
    for person_id, body in lines.items():
        lang = push.lang(person_id)
        text = "\n".join([t("chasing.patrol_nag", lang), *body])
        await push.to_person(person_id, f"nag:patrol:{person_id}:{today}", "nag", text)
    await _shortfalls(session, push, tree, holdings, windows)
    return laggards


async def _shortfalls(
    session: AsyncSession,
    push: Pusher,
    tree: Tree,
    holdings: list[Holding],
    windows: dict[str, PeriodWindow],
) -> None:
    """Windows that ended at today's local midnight: yesterday always, last week on Mondays,
    last month on the 1st. Whoever ended one short is named to the leaders they answer to."""
    now, tz, t = push.now, push.rules.tz, push.t
    today = now.astimezone(tz).date().isoformat()
    ended: dict[str, PeriodWindow] = {}
    for period, window in windows.items():
        prev = previous_window(window, tz)
        if prev.end == windows["day"].start:
            ended[period] = prev
    if not ended:
        return
    prev_done = await q.patrol_done(
        session,
        {p: ended.get(p, windows[p]) for p in windows},
        windows["day"].start - timedelta(microseconds=1),
    )
    fell: list[tuple[Holding, int]] = []
    short_people: dict[str, set[int]] = defaultdict(set)  # per period
    for i, h in enumerate(holdings, start=1):
        await give_way(i)
        quota_period = h.quota_period
        if not quota_period or quota_period not in ended or not h.quota_count:
            continue
        if h.grid_id not in tree.grids:
            continue
        counts = prev_done.get((h.person_id, h.grid_id, h.role_id))
        n = counts.of(quota_period) if counts else 0
        if fell_short(h.quota_count, n, ended[quota_period], now):
            fell.append((h, n))
            short_people[quota_period].add(h.person_id)
    short: dict[int, list[str]] = defaultdict(list)
    for i, (h, n) in enumerate(fell, start=1):
        await give_way(i)
        quota_period = h.quota_period
        assert quota_period is not None
        chain = [tree.leaders.get(g, []) for g in tree.ancestors(h.grid_id)]
        for leader in shortfall_recipients(h.person_id, chain, short_people[quota_period]):
            lang = push.lang(leader)
            person = tree.people.get(h.person_id)
            short[leader].append(
                t(
                    "chasing.shortfall_line",
                    lang,
                    name=quote(person.name if person else str(h.person_id)),
                    grid=quote(tree.grids[h.grid_id].name),
                    role=quote(h.role_label),
                    period=t(f"chasing.period.{quota_period}", lang),
                    done=n,
                    quota=h.quota_count,
                )
            )
    for leader, body in short.items():
        lang = push.lang(leader)
        text = "\n".join([t("chasing.shortfall_head", lang), *body[:MAX_SHORTFALLS]])
        if len(body) > MAX_SHORTFALLS:
            text += "\n" + t("digest.more", lang, n=len(body) - MAX_SHORTFALLS)
        await push.to_person(leader, f"nag:shortfall:{leader}:{today}", "nag", text)
