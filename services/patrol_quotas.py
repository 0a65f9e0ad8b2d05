"""Patrol quotas: where a person stands against each quota they hold, in its current window
(/my, and the outcome a finished patrol or a quick check-in answers with)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.identity import Holding, Identity
from domain.pacing import Pace, pace
from domain.periods import PeriodWindow, QuotaPeriod, window_at
from storage.patrols import counted_in_windows, counted_per_membership


@dataclass(frozen=True)
class QuotaStatus:
    """One membership's quota in its current window."""

    membership_id: int
    grid_id: int
    grid_code: str
    grid_name: str
    role_id: int
    role_label: str
    window: PeriodWindow
    pace: Pace

    @property
    def period(self) -> QuotaPeriod:
        return self.window.period

    @property
    def done(self) -> int:
        return self.pace.done

    @property
    def expected(self) -> int:
        return self.pace.expected

    @property
    def left(self) -> int:
        return self.pace.left


_PERIODS = frozenset(QuotaPeriod)


def _quota_holdings(identity: Identity) -> list[Holding]:
    return [
        h
        for h in identity.holdings
        if h.quota_period in _PERIODS and h.quota_count is not None and h.quota_count > 0
    ]


def _status(
    holding: Holding, window: PeriodWindow, done: int, now: datetime, tz: tzinfo
) -> QuotaStatus:
    assert holding.quota_count is not None
    return QuotaStatus(
        membership_id=holding.membership_id,
        grid_id=holding.grid_id,
        grid_code=holding.grid_code,
        grid_name=holding.grid_name,
        role_id=holding.role_id,
        role_label=holding.role_label,
        window=window,
        pace=pace(holding.quota_count, done, window, now, tz),
    )


async def my_quotas(
    session: AsyncSession, identity: Identity, now: datetime, tz: tzinfo
) -> list[QuotaStatus]:
    """Every quota the person holds (one per membership with a quota), with its pace now.

    One grouped statement for all their periods (at most three)."""
    holdings = _quota_holdings(identity)
    windows = {
        p: window_at(p, now, tz) for p in {QuotaPeriod(str(h.quota_period)) for h in holdings}
    }
    periods = list(windows)
    counted = await counted_in_windows(
        session,
        person_id=identity.person_id,
        windows=[(windows[p].start, windows[p].end) for p in periods],
    )
    done = dict(zip(periods, counted, strict=True))
    result = []
    for h in holdings:
        period = QuotaPeriod(str(h.quota_period))
        n = done[period].get((identity.person_id, h.grid_id, h.role_id), 0)
        result.append(_status(h, windows[period], n, now, tz))
    return result


def _quota_holding(identity: Identity, *, grid_id: int, role_id: int) -> Holding | None:
    """The holding whose quota a patrol in this grid and role counts for (`my_quotas`'s
    first one of them)."""
    for h in _quota_holdings(identity):
        if h.grid_id == grid_id and h.role_id == role_id:
            return h
    return None


def quota_window(
    identity: Identity, *, grid_id: int, role_id: int, now: datetime, tz: tzinfo
) -> PeriodWindow | None:
    """The window of the quota a patrol in this grid and role counts for now, if any."""
    h = _quota_holding(identity, grid_id=grid_id, role_id=role_id)
    return None if h is None else window_at(str(h.quota_period), now, tz)


async def quota_for(
    session: AsyncSession,
    identity: Identity,
    *,
    grid_id: int,
    role_id: int,
    now: datetime,
    tz: tzinfo,
    known: tuple[PeriodWindow, int] | None = None,
) -> QuotaStatus | None:
    """The quota a patrol in this grid and role counts for, as `my_quotas` has it. ``known``
    is a count already read for a window (a quick check-in's), used when it is this one."""
    h = _quota_holding(identity, grid_id=grid_id, role_id=role_id)
    if h is None:
        return None
    window = window_at(str(h.quota_period), now, tz)
    if known is not None and known[0] == window:
        return _status(h, window, known[1], now, tz)
    done = await counted_per_membership(
        session, start=window.start, end=window.end, person_ids=[identity.person_id]
    )
    return _status(h, window, done.get((identity.person_id, grid_id, role_id), 0), now, tz)
