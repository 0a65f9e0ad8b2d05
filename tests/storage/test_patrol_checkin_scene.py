"""A check-in's reads in one statement (storage/patrol_checkin.py): the same open patrol,
last counted patrol and credits as `open_patrol_of`, `last_counted` and
`counted_per_membership` read one by one; the quota a quick check-in answers with is the
one `outcome` counts afterwards. fire-safety-5-level.yaml on a real database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services import patrols as svc
from storage.db import Database
from storage.models import Deployment
from storage.patrol_checkin import checkin_scene
from storage.patrols import counted_per_membership, last_counted, open_patrol_of
from storage.sql_tally import Cost, SqlTally
from tests.storage.patrol_db import (
    SHANGHAI,
    identity,
    ids,
    import_fire_safety,
    insert,
    local,
    patrol_row,
)
from tests.storage.test_joint_patrols import _second_guard, set_companions_count, walked_with

GUARD = 810000001  # guard of LH-01-1, 1 a day
T0 = local(3, 10, 8)


async def test_the_scene_reads_what_the_single_queries_read(db: Database) -> None:
    await import_fire_safety(db)
    me = await ids(db, GUARD, "LH-01-1", "guard")
    person_id, grid_id, _role_id = me
    tie = patrol_row(me, local(3, 9, 9))
    later_id = patrol_row(me, local(3, 9, 9))
    later_id.lat = 23.5
    await insert(
        db,
        [
            patrol_row(me, local(3, 9, 8)),
            tie,
            later_id,
            patrol_row(me, local(3, 9, 10), counted=False),
            patrol_row(me, local(3, 8, 10), status="open", counted=False),
            patrol_row(me, local(3, 8, 11), status="open", counted=False),
        ],
    )
    async with db.reading() as s:
        scene = await checkin_scene(s, person_id=person_id, grid_id=grid_id)
        last = await last_counted(s, person_id=person_id, grid_id=grid_id)
        stale = await open_patrol_of(s, person_id=person_id)
        assert scene is not None and last is not None and stale is not None
        assert (scene.last_at, scene.last_lat, scene.last_lon) == (last.started_at, 23.5, last.lon)
        assert scene.open_id == stale.id and scene.credited is None
        assert await checkin_scene(s, person_id=person_id, grid_id=999_999) is None
        other = await checkin_scene(s, person_id=999_999, grid_id=grid_id)
        assert other is not None and other.open_id is None and other.last_at is None


async def test_a_quick_check_in_counts_its_quota_as_outcome_would(db: Database) -> None:
    """Companions credited (another guard's patrol today), one walked yesterday (another
    window), a counted check-in, a flagged one, an open full patrol closed by the next."""
    await import_fire_safety(db)
    await set_companions_count(db, True)
    me = await ids(db, GUARD, "LH-01-1", "guard")
    async with db.reading() as s:
        mate = await _second_guard(s, "LH-01-1")
    joint = patrol_row(mate, local(3, 10, 7))
    joint.checklist = walked_with(("甲", me[0]))
    await insert(db, [joint, patrol_row(me, local(3, 9, 7))])
    who = await identity(db, GUARD)
    async with db.reading() as s:
        rules = await svc.patrol_rules(s, default_tz=SHANGHAI)

    async def check_in(at: Any, lat: float, kind: str = svc.QUICK) -> svc.CheckIn:
        window = svc.quota_window(who, grid_id=me[1], role_id=me[2], now=at, tz=SHANGHAI)
        assert window is not None
        async with db.session() as s:
            return await svc.check_in(
                s,
                person_id=me[0],
                grid_id=me[1],
                role_id=me[2],
                kind=kind,
                lat=lat,
                lon=113.26,
                forwarded=False,
                live=False,
                now=at,
                rules=rules,
                count_window=window,
            )

    steps = [
        (T0, 23.10, svc.QUICK, 2),
        (T0 + timedelta(minutes=10), 23.11, svc.QUICK, 2),  # too soon: flagged
        (T0 + timedelta(hours=2), 23.12, svc.FULL, 2),  # open, not counted yet
        (T0 + timedelta(hours=4), 23.13, svc.QUICK, 4),  # closes the full one, counted
    ]
    for at, lat, kind, expected in steps:
        checked = await check_in(at, lat, kind)
        assert checked.credited is not None
        window, credited = checked.credited
        async with db.reading() as s:
            counted = await counted_per_membership(
                s, start=window.start, end=window.end, person_ids=[me[0]]
            )
            assert credited == counted.get(me, 0) == expected
            told = await svc.outcome(
                s, checked.patrol, identity=who, now=at, rules=rules, known=checked.credited
            )
            asked = await svc.outcome(s, checked.patrol, identity=who, now=at, rules=rules)
            assert told == asked and told.quota is not None and told.quota.done == expected


async def test_the_bots_check_in_reads_the_rules_with_its_scene(db: Database) -> None:
    """`check_in_with_rules`: the same rules as `patrol_rules`, read in the scene's statement
    or taken from the unit of work; in another zone than the default, whose day is another
    window, the quota is left to `outcome` and comes out the same."""
    await import_fire_safety(db)
    me = await ids(db, GUARD, "LH-01-1", "guard")
    who = await identity(db, GUARD)
    cost = Cost()

    async def check_in(at: Any, lat: float, *, kept: bool) -> tuple[svc.CheckIn, svc.PatrolRules]:
        where = svc.CheckInAt(me[0], me[1], me[2], svc.QUICK, lat, 113.26, False, False, at)
        async with db.session() as s:
            rules = await svc.patrol_rules(s, default_tz=SHANGHAI) if kept else None
            before = cost.statements
            with SqlTally.counting(cost):
                checked, used = await svc.check_in_with_rules(
                    s, where, identity=who, default_tz=SHANGHAI
                )
            assert cost.statements - before == 2  # the scene (rules and count), the row
            assert used == (rules or await svc.patrol_rules(s, default_tz=SHANGHAI))
            told = await svc.outcome(
                s, checked.patrol, identity=who, now=at, rules=used, known=checked.credited
            )
            asked = await svc.outcome(s, checked.patrol, identity=who, now=at, rules=used)
            assert told == asked and told.quota is not None
            return checked, used

    tally = SqlTally.install(db.engine)
    try:
        first, rules = await check_in(T0, 23.10, kept=False)
        assert first.credited is not None and first.credited[1] == 1
        assert str(rules.tz) == "Asia/Shanghai" and rules.checklist[0] == "安全疏散"
        kept, _ = await check_in(T0 + timedelta(hours=2), 23.11, kept=True)
        assert kept.credited is not None and kept.credited[1] == 2
        async with db.session() as s:
            dep = await s.get(Deployment, 1)
            assert dep is not None
            dep.timezone = "America/New_York"  # its day has other bounds than Shanghai's
        elsewhere, rules = await check_in(T0 + timedelta(hours=4), 23.12, kept=False)
        assert str(rules.tz) == "America/New_York" and elsewhere.credited is None
    finally:
        tally.remove()
