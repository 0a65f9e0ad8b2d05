"""Joint patrols (联合巡查) in the digest's grouped patrol counts (storage/digest.py), issue 12
pt 13: with `Deployment.patrol_companions_count` on, a counted patrol also credits each
companion picked from the roster of the patrol's grid; typed names, people of other grids,
the walker themselves and uncounted patrols credit nobody. Off, nothing changes.

fire-safety-5-level.yaml; `NOW` is Thursday 2026-03-12 18:00 Shanghai.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from domain.digest import DoneCounts
from services.digest import compute
from services.patrols import COMPANIONS_KEY
from storage import digest as q
from storage.db import Database
from storage.models import Deployment, Grid, Membership, Role
from tests.storage.test_digest_queries import NOW, TZ, WINDOWS, holder, local, patrol
from tests.storage.test_digest_queries import fire as fire  # the fixture

Who = tuple[int, int, int]


def walked_with(*companions: tuple[str, int | None]) -> dict[str, Any]:
    return {COMPANIONS_KEY: [{"name": name, "person_id": pid} for name, pid in companions]}


async def set_companions_count(db: Database, on: bool) -> None:
    async with db.session() as s:
        d = await s.get(Deployment, 1)
        assert d is not None
        d.patrol_companions_count = on
        s.add(d)


async def seed(db: Database) -> tuple[Who, Who, Who, Who]:
    """Guard A of LH-01-1 walks with guard B of LH-01-1 (today), with B and a typed name
    (Monday), with the LH-02-1 guard C (not of this grid, today), with B on an uncounted
    patrol (today), and names himself (today)."""
    async with db.session() as s:
        a = await holder(s, "LH-01-1", "guard")
        b = await _second_guard(s, "LH-01-1")
        c = await holder(s, "LH-02-1", "guard")
        police = await holder(s, "LH-01", "police")
        s.add_all(
            [
                patrol(a, local(3, 12, 8), checklist=walked_with(("乙", b[0]))),
                patrol(a, local(3, 9, 8), checklist=walked_with(("乙", b[0]), ("物业老王", None))),
                patrol(a, local(3, 12, 9), checklist=walked_with(("丙", c[0]))),
                patrol(a, local(3, 12, 10), counted=False, checklist=walked_with(("乙", b[0]))),
                patrol(a, local(3, 12, 11), checklist=walked_with(("甲", a[0]))),
            ]
        )
    return a, b, c, police


async def _second_guard(s: AsyncSession, code: str) -> Who:
    row = (
        await s.exec(
            select(Membership.person_id, Membership.grid_id, Membership.role_id)
            .join(Grid, col(Grid.id) == col(Membership.grid_id))
            .join(Role, col(Role.id) == col(Membership.role_id))
            .where(Grid.code == code, Role.key == "guard")
            .order_by(col(Membership.id))
            .offset(1)
        )
    ).first()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def test_companions_count_only_when_the_deployment_says_so(fire: Database) -> None:
    a, b, c, _ = await seed(fire)
    async with fire.reading() as s:
        off = await q.patrol_done(s, WINDOWS, NOW)
    # the walker: 4 counted patrols this month, 3 of them today; companions nothing
    assert off[a] == DoneCounts(day=3, week=4, month=4)
    assert b not in off and c not in off

    await set_companions_count(fire, True)
    async with fire.reading() as s:
        on = await q.patrol_done(s, WINDOWS, NOW)
        _, _, combined = await q.members(s, WINDOWS, NOW)
    assert on[a] == off[a]  # naming himself credits nothing more
    # B walked along today and on Monday: credited, and said to be joint
    assert on[b] == DoneCounts(1, 2, 2, joint_day=1, joint_week=2, joint_month=2)
    assert c not in on  # not on the roster of LH-01-1
    assert combined == on  # the one-statement load says the same


async def test_the_subtree_restriction_applies_to_companions_too(fire: Database) -> None:
    a, b, _, _ = await seed(fire)
    await set_companions_count(fire, True)
    async with fire.reading() as s:
        lh01 = (await s.exec(select(Grid).where(Grid.code == "LH-01-1"))).one()
        lh02 = (await s.exec(select(Grid).where(Grid.code == "LH-02"))).one()
        inside = await q.patrol_done(s, WINDOWS, NOW, [lh01.path])
        outside = await q.patrol_done(s, WINDOWS, NOW, [lh02.path])
    assert inside[b].joint_month == 2 and a in inside
    assert outside == {}


@pytest.mark.parametrize("on", [False, True])
async def test_the_roll_up_credits_the_companion_and_counts_joint_patrols(
    fire: Database, on: bool
) -> None:
    _, b, _, _ = await seed(fire)
    await set_companions_count(fire, on)
    async with fire.reading() as s:
        computed = await compute(s, now=NOW, tz=TZ)
    grid = computed.rolled.own[b[1]]
    # two daily guards; A patrolled today; B only as a companion
    assert (grid.done, grid.joint) == ((2, 1) if on else (1, 0))
    assert grid.behind == (0 if on else 1)
