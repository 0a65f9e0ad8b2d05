"""March 2026 simulated on fire-safety-5-level.yaml: done / expected / behind by hand.

Shanghai time (+08:00). March has 31 days; "now" is Friday 2026-03-20 10:00, so 19 local
days of the month have ended (expected = count × 19 // 31) and 12 are left, today included.
The ISO week is Mon 03-16 .. Sun 03-22: 4 days ended, 3 left.

Who (fire-safety-5-level.yaml), and the patrols inserted:

- 林和东专管员 (800000021), community_staff in LH-01, quota raised to 5 a month, and also a
  guard of LH-01-1 (一岗双责: two quotas).
  As staff: 02-28 23:30 (February), 03-01 00:10 (March by local time although still
  February in UTC), 03-09, a flagged one 03-15 (not counted), an open one 03-20 09:00 (not
  counted yet) → done 2, expected 5×19//31 = 3 → behind; 3 left, 12 days.
  As guard: 03-19 08:00 and 03-20 07:00 → today done 1 of 1, expected 0.
- 林和东民警 (800000022), police, 1 a week: 03-15 (Sunday, the week before) → this week
  done 0, expected 1×4//7 = 0, not behind; 3 days left, not urgent. On Sunday 03-22:
  expected 1×6//7 = 0, 1 day left → urgent.
- Guard 810000001 (LH-01-1): every day 03-01..03-19 except 03-05 and 03-06 → 17.
- Guard 810000002 (LH-01-1): 03-10 07:00 counted, 03-10 07:30 flagged.
- Guard 810000007 (LH-01-2): 03-02.
"""

from __future__ import annotations

from datetime import timedelta

from domain.periods import QuotaPeriod
from services import patrols as svc
from storage.db import Database
from storage.grids import grid_by_code
from storage.models import Patrol
from storage.patrols import counted_per_membership
from tests.storage.patrol_db import (
    SHANGHAI,
    add_membership,
    identity,
    ids,
    import_fire_safety,
    insert,
    local,
    patrol_row,
)

NOW = local(3, 20, 10)
STAFF, POLICE, GUARD1, GUARD2, GUARD3 = 800000021, 800000022, 810000001, 810000002, 810000007


async def simulate(db: Database) -> None:
    await import_fire_safety(db)
    async with db.session() as s:
        await svc.set_quota(s, role_key="community_staff", period="month", count=5, actor_tg_id=1)
    await add_membership(db, STAFF, "LH-01-1", "guard")

    rows: list[Patrol] = []
    staff = await ids(db, STAFF, "LH-01", "community_staff")
    rows.append(patrol_row(staff, local(2, 28, 23, 30)))
    rows.append(patrol_row(staff, local(3, 1, 0, 10)))
    rows.append(patrol_row(staff, local(3, 9, 15)))
    rows.append(patrol_row(staff, local(3, 15), counted=False))
    rows.append(patrol_row(staff, local(3, 20, 9), counted=False, status="open", flags=[]))
    staff_guard = await ids(db, STAFF, "LH-01-1", "guard")
    rows.append(patrol_row(staff_guard, local(3, 19, 8)))
    rows.append(patrol_row(staff_guard, local(3, 20, 7)))

    rows.append(patrol_row(await ids(db, POLICE, "LH-01", "police"), local(3, 15)))

    guard1 = await ids(db, GUARD1, "LH-01-1", "guard")
    for day in range(1, 20):
        if day not in (5, 6):
            rows.append(patrol_row(guard1, local(3, day, 7)))
    guard2 = await ids(db, GUARD2, "LH-01-1", "guard")
    rows.append(patrol_row(guard2, local(3, 10, 7)))
    rows.append(patrol_row(guard2, local(3, 10, 7, 30), counted=False))
    rows.append(patrol_row(await ids(db, GUARD3, "LH-01-2", "guard"), local(3, 2, 7)))
    await insert(db, rows)


async def test_a_month_of_patrols_gives_the_figures_worked_by_hand(db: Database) -> None:
    await simulate(db)

    async with db.reading() as s:
        staff_quotas = await svc.my_quotas(s, await identity(db, STAFF), NOW, SHANGHAI)
    by_role = {q.role_label: q for q in staff_quotas}
    assert len(staff_quotas) == 2  # two roles in two grids, two quotas
    monthly = by_role["社区消防专管员"]
    assert monthly.window.key == "2026-03" and monthly.grid_code == "LH-01"
    assert (monthly.done, monthly.expected, monthly.left) == (2, 3, 3)
    assert monthly.pace.behind and not monthly.pace.urgent and monthly.pace.days_left == 12
    daily = by_role["保安巡查员"]
    assert daily.window.key == "2026-03-20" and daily.grid_code == "LH-01-1"
    assert (daily.done, daily.expected, daily.left, daily.pace.met) == (1, 0, 0, True)

    async with db.reading() as s:
        [police] = await svc.my_quotas(s, await identity(db, POLICE), NOW, SHANGHAI)
        [police_sunday] = await svc.my_quotas(
            s, await identity(db, POLICE), NOW + timedelta(days=2), SHANGHAI
        )
        [guard1] = await svc.my_quotas(s, await identity(db, GUARD1), NOW, SHANGHAI)
        [guard1_yesterday] = await svc.my_quotas(
            s, await identity(db, GUARD1), NOW - timedelta(days=1), SHANGHAI
        )
    assert police.window.key == "2026-W12"
    assert (police.done, police.expected, police.pace.days_left) == (0, 0, 3)
    assert not police.pace.behind and not police.pace.urgent
    assert (police_sunday.expected, police_sunday.pace.days_left) == (0, 1)
    assert police_sunday.pace.urgent and police_sunday.pace.needs_nag
    assert (guard1.done, guard1.expected, guard1.pace.urgent) == (0, 0, True)
    assert (guard1_yesterday.done, guard1_yesterday.pace.met) == (1, True)


async def test_counted_patrols_grouped_per_membership_over_a_subtree(db: Database) -> None:
    await simulate(db)
    async with db.reading() as s:
        lh01 = await grid_by_code(s, "LH-01")
        assert lh01 is not None
        march = local(3, 1, 0), local(4, 1, 0)
        counts = await counted_per_membership(
            s, start=march[0], end=march[1], path_prefix=lh01.path
        )
    assert counts[await ids(db, GUARD1, "LH-01-1", "guard")] == 17
    assert counts[await ids(db, STAFF, "LH-01", "community_staff")] == 2
    assert counts[await ids(db, STAFF, "LH-01-1", "guard")] == 2
    assert counts[await ids(db, GUARD2, "LH-01-1", "guard")] == 1
    assert sum(counts.values()) == 17 + 2 + 2 + 1 + 1 + 1  # + police, + guard3


async def test_subtree_stats_per_child_grid_and_per_person(db: Database) -> None:
    await simulate(db)
    async with db.reading() as s:
        lh01 = await grid_by_code(s, "LH-01")
        assert lh01 is not None
        stats = await svc.subtree_stats(s, lh01, period=QuotaPeriod.MONTH, now=NOW, tz=SHANGHAI)
    # LH-01 itself: staff 2/5 (1 flagged) + police 1/(1×31//7 = 4).
    assert (stats.own.done, stats.own.target, stats.own.flagged, stats.own.people) == (3, 9, 1, 2)
    kids = {c.grid_code: c for c in stats.children}
    assert set(kids) == {"LH-01-1", "LH-01-2"}
    # LH-01-1: guard1 17, guard2 1 (+1 flagged), staff-as-guard 2; three daily quotas × 31.
    assert (kids["LH-01-1"].done, kids["LH-01-1"].target, kids["LH-01-1"].flagged) == (20, 93, 1)
    assert (kids["LH-01-2"].done, kids["LH-01-2"].target, kids["LH-01-2"].flagged) == (1, 62, 0)
    assert stats.flagged == 2
    people = {(p.person_name, p.grid_code): p for p in stats.people}
    assert len(people) == 7
    staff = people[("林和东专管员", "LH-01")]
    assert (staff.done, staff.target, staff.flagged, staff.short) == (2, 5, 1, True)

    async with db.reading() as s:
        today = await svc.subtree_stats(s, lh01, period=QuotaPeriod.DAY, now=NOW, tz=SHANGHAI)
    # Today only the staff's 07:00 guard patrol counts; monthly and weekly quotas have no
    # daily target, so their holders are left out unless they patrolled today.
    assert (today.own.done, today.own.target) == (0, 0)
    assert (kids_today := {c.grid_code: c for c in today.children})["LH-01-1"].done == 1
    assert kids_today["LH-01-1"].target == 3 and kids_today["LH-01-2"].target == 2
