"""The monthly push (月查季考): on the 1st of each month every leader gets the scoreboard of
their subtree for the month just ended — its text, its chart and its 台账 workbook — and on
the 1st of a quarter the quarter's too, through the outbox.

Once: every push is keyed ``push:{period}:{person}:{grid}:{part}``, and a leader whose
workbook is already queued for a period is skipped before anything is computed, so a job run
twice, a catch-up after downtime or a second process queue nothing twice. Within the flood
limits: the outbox's notifier paces the sends. In the deployment's zone: the periods are its
local months and quarters (`domain.stats.stats_span`), and the job fires at
`Deployment.monthly_time` on its 1st (`scheduler/monthly.py`; ``/schedule monthly``).

A person who leads several grids gets one set per top grid they lead (a grid inside another
they lead is covered by it). A subtree whose ledger is over `PUSH_MAX_ROWS` rows gets the text
and the chart, with a line pointing to /export, not a workbook too large for a chat.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Final, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.stats import Span, StatsPeriod, stats_span
from services.ledger_export import count_export, write_ledger
from services.stats import StatsReport, stats_of
from storage.db import Database
from storage.models import Grid
from storage.outbox import enqueue, queued
from storage.stats import LeaderPost, reachable_leaders

PUSH_MAX_ROWS: Final = 100_000
QUARTER_MONTHS: Final = frozenset({1, 4, 7, 10})


class PushRender(Protocol):
    """What the push says (the bot layer's renderers, `scheduler/monthly.py`)."""

    def t(self, key: str, language: str, /, **params: object) -> str: ...

    def board_text(self, language: str, report: StatsReport, period: StatsPeriod) -> str: ...

    def chart(self, language: str, report: StatsReport) -> bytes: ...


@dataclass(frozen=True)
class PushRun:
    leaders: int
    queued: int
    """Leader × period sets queued by this run (0 when all were queued before)."""


def ended_periods(now: datetime, tz: tzinfo) -> list[tuple[StatsPeriod, Span]]:
    """The month that ended before ``now``'s (local) month began, and the quarter too when
    ``now``'s month begins one."""
    month = stats_span(StatsPeriod.MONTH, now, tz)
    before = month.start - timedelta(seconds=1)
    out = [(StatsPeriod.MONTH, stats_span(StatsPeriod.MONTH, before, tz))]
    if month.first.month in QUARTER_MONTHS:
        out.append((StatsPeriod.QUARTER, stats_span(StatsPeriod.QUARTER, before, tz)))
    return out


def top_posts(posts: list[LeaderPost]) -> list[LeaderPost]:
    """Per person, the grids they lead that no other grid they lead contains (once each)."""
    paths: dict[int, set[str]] = {}
    for p in posts:
        paths.setdefault(p.person_id, set()).add(p.grid_path)
    out: dict[tuple[int, int], LeaderPost] = {}
    for p in posts:
        mine = paths[p.person_id]
        inside = any(o != p.grid_path and p.grid_path.startswith(o) for o in mine)
        if not inside:
            out.setdefault((p.person_id, p.grid_id), p)
    return list(out.values())


async def _ledger(
    session: AsyncSession,
    grid: Grid,
    span: Span,
    *,
    now: datetime,
    tz: tzinfo,
    t: Callable[..., str],
    language: str,
) -> bytes | None:
    counts = await count_export(session, grid, span)
    if counts.total > PUSH_MAX_ROWS:
        return None
    with tempfile.TemporaryDirectory(prefix="gridbot-push-") as folder:
        path = Path(folder) / "ledger.xlsx"
        await write_ledger(
            session, grid, span, path=path, now=now, tz=tz, t=t, language=language, counts=counts
        )
        return path.read_bytes()


async def run_monthly_push(
    db: Database,
    *,
    now: datetime,
    tz: tzinfo,
    render: PushRender,
    default_language: str,
    not_before: datetime | None = None,
) -> PushRun:
    """Queue the ended month's (and quarter's) scoreboards for every leader; one unit of
    work per leader and period, so a long run commits as it goes."""
    async with db.reading() as session:
        posts = top_posts(await reachable_leaders(session))
    periods = ended_periods(now, tz)
    sets = 0
    for post in posts:
        lang = post.language or default_language
        for period, span in periods:
            base = f"push:{span.key}:{post.person_id}:{post.grid_id}"
            async with db.session() as session:
                if await queued(session, f"{base}:text"):
                    continue
                grid = await session.get(Grid, post.grid_id)
                if grid is None:
                    continue
                report = await stats_of(session, grid, span, now=now, tz=tz)
                png = await asyncio.to_thread(render.chart, lang, report)
                xlsx = await _ledger(
                    session,
                    grid,
                    span,
                    now=now,
                    tz=tz,
                    t=lambda key, lang=lang, **params: render.t(key, lang, **params),
                    language=lang,
                )
                head = render.t(f"push.head.{period.value}", lang, key=span.key)
                text = head + "\n\n" + render.board_text(lang, report, period)
                if xlsx is None:
                    text += "\n\n" + render.t("push.too_big", lang, code=grid.code, key=span.key)
                await enqueue(
                    session,
                    key=f"{base}:text",
                    kind="monthly_push",
                    text=text,
                    now=now,
                    not_before=not_before,
                    chat_id=post.tg_id,
                    person_id=post.person_id,
                )
                caption = render.t("push.chart_caption", lang, grid=grid.name, key=span.key)
                await enqueue(
                    session,
                    key=f"{base}:chart",
                    kind="monthly_push",
                    text=caption,
                    photo=png,
                    now=now,
                    not_before=not_before,
                    chat_id=post.tg_id,
                    person_id=post.person_id,
                )
                if xlsx is not None:
                    await enqueue(
                        session,
                        key=f"{base}:xlsx",
                        kind="monthly_push",
                        text=render.t("push.xlsx_caption", lang, grid=grid.name, key=span.key),
                        document_name=f"ledger-{grid.code}-{span.key}.xlsx",
                        document_body=xlsx,
                        now=now,
                        not_before=not_before,
                        chat_id=post.tg_id,
                        person_id=post.person_id,
                    )
                sets += 1
    return PushRun(leaders=len({p.person_id for p in posts}), queued=sets)
