"""What the demo's web chat (sandbox/web) needs from gridbot: the roster to pick a person from,
the grids' geofences for the location picker, and a clock a visitor may move on.

The demo runs on `ShiftedClock`: wall time plus an offset that only grows. "Jump to 18:00"
moves the offset to the next 18:00 in the deployment's zone and runs, at once and with the
new time, the scheduler's jobs that fell due on the way (the same job functions the
scheduler calls; every push they queue is keyed, so the scheduler firing later at the real
18:00 sends nothing twice).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.context import AppContext
from domain.clock import Clock, SystemClock
from domain.schedule_times import parse_hhmm
from scheduler import jobs
from services.chasing import load_rules
from storage.models import Grid, Membership, Person, Role


class ShiftedClock:
    """The system clock (or `base`, in tests) moved on by an offset (`domain.clock.Clock`).
    `monotonic` is the base's plus the people's think time (`advance`): flood limits and
    press-answer windows keep real seconds, and see a person's pace even when a script clicks."""

    def __init__(self, base: Clock | None = None) -> None:
        self.base: Clock = base or SystemClock()
        self.offset = timedelta(0)
        self.thought = 0.0

    def now(self) -> datetime:
        return self.base.now() + self.offset

    def time(self) -> float:
        return self.base.time() + self.offset.total_seconds()

    def monotonic(self) -> float:
        return self.base.monotonic() + self.thought

    def advance(self, seconds: float) -> None:
        """A person thought before acting (the emulator's `think_time`): both clocks move."""
        self.shift(timedelta(seconds=seconds))
        self.thought += seconds

    def shift(self, by: timedelta) -> None:
        if by < timedelta(0):
            raise ValueError("the demo's clock does not go back")
        self.offset += by


async def roster(app: AppContext) -> list[dict[str, Any]]:
    """One row per person × grid × role, in tree order (an import makes parents first), leaders
    and admins marked."""
    admins = app.settings.admin_ids
    async with app.db.reading() as session:
        rows = (
            await session.exec(
                select(Person, Grid, Role)
                .join(Membership, col(Membership.person_id) == Person.id)
                .join(Grid, col(Grid.id) == Membership.grid_id)
                .join(Role, col(Role.id) == Membership.role_id)
                .where(col(Person.tg_id).is_not(None), col(Grid.archived_at).is_(None))
                .order_by(col(Grid.id), col(Role.id), col(Person.id))
            )
        ).all()
    return [
        {
            "tg_id": int(person.tg_id or 0),
            "name": person.name,
            "grid_code": grid.code,
            "grid_name": grid.name,
            "grid_level": grid.level,
            "role": role.key,
            "role_label": role.label,
            "leader": role.is_leader,
            "admin": person.is_admin or int(person.tg_id or 0) in admins,
        }
        for person, grid, role in rows
    ]


async def fences(app: AppContext) -> list[dict[str, Any]]:
    async with app.db.reading() as session:
        grids = (
            await session.exec(
                select(Grid).where(col(Grid.geofence).is_not(None), col(Grid.archived_at).is_(None))
            )
        ).all()
    return [
        {"code": g.code, "name": g.name, "level": g.level, "shape": g.geofence}
        for g in grids
        if g.geofence
    ]


class DemoClock:
    """The web chat's clock control (`sandbox.web.ClockControl`) over a `ShiftedClock`."""

    def __init__(self, app: AppContext, clock: ShiftedClock) -> None:
        self.app = app
        self.clock = clock

    async def _rules(self) -> Any:
        async with self.app.db.reading() as session:
            return await load_rules(session, calendar=self.app.calendar)

    async def state(self) -> dict[str, Any]:
        rules = await self._rules()
        local = self.clock.now().astimezone(rules.tz)
        return {
            "now": f"{local:%Y-%m-%d %H:%M} ({rules.tz.key})",
            "digest": rules.digest_time,
            "nag": rules.nag_time,
        }

    async def jump(self, hhmm: str) -> dict[str, Any]:
        """On to the next `hhmm` (today's if still ahead, else tomorrow's), then the jobs
        whose time was passed on the way, in their order; the sweep always."""
        at = parse_hhmm(hhmm)
        rules = await self._rules()
        old = self.clock.now()
        local = old.astimezone(rules.tz)
        target = datetime.combine(local.date(), at, tzinfo=rules.tz)
        if target <= local:
            target += timedelta(days=1)
        self.clock.shift(target - old)
        due: list[tuple[datetime, str]] = []
        for job_id, when in (("nag", rules.nag_time), ("digest", rules.digest_time)):
            for day in (local.date(), local.date() + timedelta(days=1)):
                instant = datetime.combine(day, parse_hhmm(when), tzinfo=rules.tz)
                if old < instant <= target:
                    due.append((instant, job_id))
        now = self.clock.now()
        ran: list[str] = []
        for _, job_id in sorted(due):
            if job_id == "nag":
                await jobs.nag_now(self.app, now)
            else:
                await jobs.digest_now(self.app, now)
            ran.append(job_id)
        await jobs.sweep_now(self.app, now)
        ran.append("sweep")
        return {**(await self.state()), "ran": ran}
