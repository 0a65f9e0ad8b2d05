"""The deployment's chasing rules: its zone, the digest and nag times, quiet hours, and the
thresholds after which reminders turn into escalations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.calendar import ChinaWorkCalendar, WorkCalendar
from domain.schedule_times import QuietHours
from storage.models import Deployment


@dataclass(frozen=True)
class Rules:
    tz: ZoneInfo
    digest_time: str = "18:00"
    nag_time: str = "09:30"
    quiet: QuietHours | None = None
    escalate_working_days: int = 2
    accept_remind_hours: int = 2
    accept_escalate_hours: int = 24
    monthly_time: str = "09:00"
    """The monthly scoreboards' time on the 1st (`services.stats_push`); "": off."""
    calendar: WorkCalendar = field(default_factory=ChinaWorkCalendar, compare=False)
    """The working days overdue cases are counted in (not a time: a reschedule ignores it)."""


async def load_rules(session: AsyncSession, *, calendar: WorkCalendar | None = None) -> Rules:
    """`calendar`: the application's (`AppContext.calendar`); China's official one if none."""
    d = await session.get(Deployment, 1) or Deployment(id=1)
    return Rules(
        tz=ZoneInfo(d.timezone or "Asia/Shanghai"),
        digest_time=d.digest_time,
        nag_time=d.nag_time,
        quiet=QuietHours.parse(d.quiet_hours),
        escalate_working_days=d.overdue_escalate_working_days,
        accept_remind_hours=d.accept_remind_hours,
        accept_escalate_hours=d.accept_escalate_hours,
        monthly_time=d.monthly_time,
        calendar=calendar or ChinaWorkCalendar(),
    )


def hold_until(now: datetime, rules: Rules, *, urgent: bool = False) -> datetime | None:
    """When a push queued at `now` may go (its `not_before`): None, at once, outside quiet
    hours and for 重大 cases (`urgent`) at any hour; else the end of the quiet hours."""
    if urgent or rules.quiet is None:
        return None
    return rules.quiet.release_at(now, rules.tz)
