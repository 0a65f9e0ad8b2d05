"""Helpers the simulated weeks and months share: local times and who holds which role."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from storage.models import Grid, Membership, Person, Role
from tests.e2e.harness import World

TZ = ZoneInfo("Asia/Shanghai")


def at(day: date, hh: int, mm: int = 0) -> datetime:
    """A local Asia/Shanghai time on `day`."""
    return datetime.combine(day, time(hh, mm), tzinfo=TZ)


async def people_of(world: World) -> dict[tuple[str, str], list[Person]]:
    """(grid code, role key) -> people, in membership order."""
    out: dict[tuple[str, str], list[Person]] = {}
    async with world.db.session() as s:  # a write session sees what the bot just committed
        rows = (
            await s.exec(
                select(Grid.code, Role.key, Person)
                .join(Membership, col(Membership.grid_id) == col(Grid.id))
                .join(Role, col(Role.id) == col(Membership.role_id))
                .join(Person, col(Person.id) == col(Membership.person_id))
                .order_by(col(Membership.id))
            )
        ).all()
    for code, key, person in rows:
        out.setdefault((code, key), []).append(person)
    return out
