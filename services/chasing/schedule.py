"""`/schedule`: changing the digest time, the nag time, the quiet hours or the monthly
push's time (or switching it off)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.schedule_times import QuietHours, parse_hhmm
from services.chasing.rules import Rules, load_rules
from storage.models import Deployment


class ScheduleError(ValueError):
    """A `/schedule` value that is not a time (the message is the value)."""


SCHEDULE_FIELDS = ("digest", "nag", "quiet", "monthly")


async def update_schedule(session: AsyncSession, *, what: str, value: str) -> Rules:
    """Change the digest time, the nag time or the quiet hours; returns the new rules."""
    d = await session.get(Deployment, 1)
    if d is None:
        d = Deployment(id=1)
        session.add(d)
    value = value.strip()
    try:
        if what == "digest":
            d.digest_time = parse_hhmm(value).strftime("%H:%M")
        elif what == "nag":
            d.nag_time = parse_hhmm(value).strftime("%H:%M")
        elif what == "monthly":  # the 1st of each month; off: no push
            off = value.lower() in ("off", "none", "关闭", "-")
            d.monthly_time = "" if off else parse_hhmm(value).strftime("%H:%M")
        elif what == "quiet":
            if value.lower() in ("off", "none", "关闭", "-"):
                d.quiet_hours = ""
            else:
                quiet = QuietHours.parse(value)
                d.quiet_hours = (
                    f"{quiet.start.strftime('%H:%M')}-{quiet.end.strftime('%H:%M')}"
                    if quiet
                    else ""
                )
        else:
            raise ScheduleError(what)
    except ValueError as exc:
        raise ScheduleError(value) from exc
    session.add(d)
    await session.flush()
    return await load_rules(session)
