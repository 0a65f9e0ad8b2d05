"""One person's credits in several windows at once (storage.patrols.counted_in_windows, for
/my of someone holding daily, weekly and monthly quotas) are each window's
`counted_per_membership`: patrols on the bounds, before and after, companions credited.
fire-safety-5-level.yaml on a real database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select as sa_select

from domain.periods import QuotaPeriod, window_at
from storage.db import Database
from storage.patrol_checkin import checkin_scene
from storage.patrols import counted_in_windows, counted_per_membership, credits
from tests.storage.patrol_db import SHANGHAI, ids, import_fire_safety, insert, local, patrol_row
from tests.storage.test_joint_patrols import (
    Who,
    _second_guard,
    set_companions_count,
    walked_with,
)

GUARD = 810000001  # guard of LH-01-1
STAFF = 800000021  # community_staff of LH-01
NOW = local(3, 12, 18)  # a Thursday


async def _walkers(db: Database) -> tuple[Who, Who, Who]:
    """The fire-safety district with companions counted: the guard's and the staff's
    (person, grid, role), and the guard's mate's in LH-01-1."""
    await import_fire_safety(db)
    await set_companions_count(db, True)
    me = await ids(db, GUARD, "LH-01-1", "guard")
    staff = await ids(db, STAFF, "LH-01", "community_staff")
    async with db.reading() as s:
        mate = await _second_guard(s, "LH-01-1")
    return me, staff, mate


async def test_each_window_counts_what_it_would_alone(db: Database) -> None:
    me, staff, mate = await _walkers(db)
    day = window_at(QuotaPeriod.DAY, NOW, SHANGHAI)
    week = window_at(QuotaPeriod.WEEK, NOW, SHANGHAI)
    month = window_at(QuotaPeriod.MONTH, NOW, SHANGHAI)
    joint = patrol_row(mate, local(3, 12, 9))
    joint.checklist = walked_with(("甲", me[0]))
    tick = timedelta(microseconds=1)
    await insert(
        db,
        [
            joint,
            patrol_row(me, day.start),
            patrol_row(me, day.end - tick),
            patrol_row(me, day.end),  # tomorrow, this week
            patrol_row(me, day.start - tick),  # yesterday, this week
            patrol_row(me, week.start),
            patrol_row(me, week.start - tick),  # last week, this month
            patrol_row(me, month.start - tick),  # last month
            patrol_row(me, local(3, 12, 10), counted=False),
            patrol_row(staff, local(3, 12, 11)),
        ],
    )
    windows = [(w.start, w.end) for w in (day, week, month)]
    async with db.reading() as s:
        together = await counted_in_windows(s, person_id=me[0], windows=windows)
        alone = [
            await counted_per_membership(s, start=a, end=b, person_ids=[me[0]]) for a, b in windows
        ]
        assert together == alone
        assert [n.get(me, 0) for n in together] == [3, 6, 7]
        assert await counted_in_windows(s, person_id=me[0], windows=windows[1:]) == alone[1:]
        assert await counted_in_windows(s, person_id=me[0], windows=[]) == []
        empty = await counted_in_windows(s, person_id=999_999, windows=windows)
        assert empty == [{}, {}, {}]


async def test_one_persons_count_is_the_listed_ones(db: Database) -> None:
    """One person is asked by an equality, not a one-item expanding list: the same counts as
    the credits narrowed by the list spelt out (companions too), and a list of several."""
    me, staff, mate = await _walkers(db)
    month = window_at(QuotaPeriod.MONTH, NOW, SHANGHAI)
    joint = patrol_row(mate, local(3, 12, 9))
    joint.checklist = walked_with(("甲", me[0]), ("乙", staff[0]))
    await insert(
        db,
        [
            joint,
            patrol_row(me, local(3, 11, 9)),
            patrol_row(me, local(3, 11, 10), counted=False),
            patrol_row(staff, local(3, 12, 11)),
            patrol_row(mate, local(3, 10, 11)),
        ],
    )
    async with db.reading() as s:
        dialect = (await s.connection()).dialect.name

        async def listed(people: list[int]) -> dict[tuple[int, int, int], int]:
            credit = credits(start=month.start, end=month.end, dialect=dialect, person_ids=people)
            cols = (credit.c.person_id, credit.c.grid_id, credit.c.role_id)
            rows = await s.execute(sa_select(*cols, func.count()).group_by(*cols))
            return {(p, g, r): int(n) for p, g, r, n in rows}

        for people in ([me[0]], [staff[0]], [mate[0]], [999_999], [me[0], staff[0]], []):
            counted = await counted_per_membership(
                s, start=month.start, end=month.end, person_ids=iter(people)
            )
            assert counted == await listed(people)
        assert (await listed([me[0]]))[me] == 2
        for person in (me[0], staff[0], mate[0]):
            both = await counted_in_windows(
                s, person_id=person, windows=[(month.start, NOW), (NOW, month.end)]
            )
            whole = await listed([person])
            assert {k: both[0].get(k, 0) + both[1].get(k, 0) for k in whole} == whole


async def test_a_pending_patrol_is_counted_as_the_sessions_execute_counted_it(
    db: Database,
) -> None:
    """The counts run on the unit of work's connection: what the session holds unwritten is
    written first, as its execute's autoflush wrote it."""
    await import_fire_safety(db)
    me = await ids(db, GUARD, "LH-01-1", "guard")
    month = window_at(QuotaPeriod.MONTH, NOW, SHANGHAI)
    async with db.session() as s:
        s.add(patrol_row(me, local(3, 11, 9)))
        counted = await counted_per_membership(
            s, start=month.start, end=month.end, person_ids=[me[0]]
        )
        assert counted == {me: 1}
        s.add(patrol_row(me, local(3, 11, 10)))
        both = await counted_in_windows(s, person_id=me[0], windows=[(month.start, NOW)] * 2)
        assert both == [{me: 2}, {me: 2}]
        s.add(patrol_row(me, local(3, 11, 11), status="open", counted=False))
        scene = await checkin_scene(s, person_id=me[0], grid_id=me[1])
        assert scene is not None and scene.open_id is not None
