"""Check-ins through services.patrols on a real SQLite file: what counts and what is flagged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.geo import CircleFence
from domain.patrols import PatrolFlag
from services import patrols as svc
from storage.db import Database
from storage.models import AuditEntry, Patrol, Role
from tests.storage.patrol_db import SHANGHAI, identity, ids, import_fire_safety, local

GUARD = 810000001  # guard of LH-01-1, 1 a day
STAFF = 800000021  # community_staff of LH-01, 1 a month
HERE = (23.1291, 113.2644)
T0 = local(3, 10, 8)


async def rules(db: Database) -> svc.PatrolRules:
    async with db.reading() as s:
        return await svc.patrol_rules(s, default_tz=SHANGHAI)


async def check_in(db: Database, tg_id: int, grid: str, role: str, **kw: Any) -> svc.CheckIn:
    person_id, grid_id, role_id = await ids(db, tg_id, grid, role)
    args: dict[str, Any] = {
        "kind": svc.QUICK,
        "lat": HERE[0],
        "lon": HERE[1],
        "forwarded": False,
        "live": False,
        "now": T0,
        "rules": await rules(db),
    }
    args.update(kw)
    async with db.session() as s:
        return await svc.check_in(s, person_id=person_id, grid_id=grid_id, role_id=role_id, **args)


async def test_rules_come_from_the_deployment(db: Database) -> None:
    await import_fire_safety(db)
    r = await rules(db)
    assert r.checklist[0] == "安全疏散" and len(r.checklist) == 7
    assert r.min_interval == timedelta(minutes=60)
    assert str(r.tz) == "Asia/Shanghai"


async def test_flags_too_soon_same_place_and_exact_interval(db: Database) -> None:
    await import_fire_safety(db)
    first = await check_in(db, GUARD, "LH-01-1", "guard")
    assert first.flags == () and first.patrol.counted and first.patrol.status == "done"

    soon = await check_in(
        db, GUARD, "LH-01-1", "guard", now=T0 + timedelta(minutes=59), lat=HERE[0] + 0.001
    )
    assert soon.flags == (PatrolFlag.TOO_SOON,) and not soon.patrol.counted

    same = await check_in(db, GUARD, "LH-01-1", "guard", now=T0 + timedelta(hours=3))
    assert same.flags == (PatrolFlag.SAME_COORDINATES,) and not same.patrol.counted

    on_time = await check_in(
        db, GUARD, "LH-01-1", "guard", now=T0 + timedelta(minutes=60), lon=HERE[1] + 0.001
    )
    assert on_time.flags == () and on_time.patrol.counted


async def test_outside_the_geofence_and_forwarded(db: Database) -> None:
    await import_fire_safety(db)
    async with db.session() as s:
        await svc.set_geofence(
            s, code="lh-01-1", fence=CircleFence(23.10, 113.20, 300), actor_tg_id=1
        )
    outside = await check_in(db, GUARD, "LH-01-1", "guard")
    assert outside.flags == (PatrolFlag.OUTSIDE_GEOFENCE,) and not outside.patrol.counted
    inside = await check_in(
        db, GUARD, "LH-01-1", "guard", lat=23.1005, lon=113.2005, now=T0 + timedelta(hours=2)
    )
    assert inside.flags == () and inside.patrol.counted

    forwarded = await check_in(
        db,
        GUARD,
        "LH-01-1",
        "guard",
        kind=svc.FULL,
        forwarded=True,
        lat=23.1006,
        lon=113.2006,
        now=T0 + timedelta(hours=4),
    )
    assert forwarded.flags == (PatrolFlag.FORWARDED,)
    assert forwarded.patrol.status == "refused" and not forwarded.patrol.counted
    async with db.session() as s:
        await svc.set_geofence(s, code="LH-01-1", fence=None, actor_tg_id=1)
    outside_again = await check_in(db, GUARD, "LH-01-1", "guard", now=T0 + timedelta(hours=6))
    assert outside_again.flags == ()


async def test_full_patrol_checklist_route_and_finish(db: Database) -> None:
    await import_fire_safety(db)
    me = await identity(db, STAFF)
    started = await check_in(db, STAFF, "LH-01", "community_staff", kind=svc.FULL, live=True)
    assert started.patrol.status == "open" and not started.patrol.counted
    pid = started.patrol.id
    assert pid is not None
    async with db.session() as s:
        for minutes, dlat in ((5, 0.001), (10, 0.002)):
            moved = await svc.live_update(
                s,
                person_id=me.person_id,
                lat=HERE[0] + dlat,
                lon=HERE[1],
                at=T0 + timedelta(minutes=minutes),
            )
            assert moved is not None and moved.id == pid
        patrol = await svc.own_open_patrol(s, patrol_id=pid, person_id=me.person_id)
        assert patrol is not None
        await svc.mark_item(s, patrol, index=4, ok=False, note="电线老化")
        await svc.add_note(s, patrol, "已通知物业")
        await svc.add_photo(s, patrol, "file-1")
        done = await svc.finish_patrol(
            s, patrol, identity=me, now=T0 + timedelta(minutes=15), rules=await rules(db)
        )
    assert done.counted and done.flags == ()
    assert done.quota is not None and (done.quota.done, done.quota.pace.quota) == (1, 1)
    route = done.patrol.route
    assert route is not None and route["points_count"] == 3 and route["duration_s"] == 600
    assert 215 < route["distance_m"] < 230
    items = done.patrol.checklist["items"]
    assert [i["status"] for i in items] == ["ok"] * 4 + ["problem"] + ["ok"] * 2
    assert items[4]["note"] == "电线老化" and done.patrol.photos == ["file-1"]
    async with db.session() as s:
        assert await svc.own_open_patrol(s, patrol_id=pid, person_id=me.person_id) is None
        assert await svc.live_update(s, person_id=me.person_id, lat=1, lon=1, at=T0) is None


async def test_a_new_check_in_closes_an_abandoned_patrol(db: Database) -> None:
    await import_fire_safety(db)
    old = await check_in(db, STAFF, "LH-01", "community_staff", kind=svc.FULL)
    new = await check_in(
        db,
        STAFF,
        "LH-01",
        "community_staff",
        kind=svc.FULL,
        now=T0 + timedelta(hours=2),
        lat=HERE[0] + 0.01,
    )
    async with db.reading() as s:
        closed = await s.get(Patrol, old.patrol.id)
        assert closed is not None and closed.status == "done" and closed.counted
        assert new.flags == ()


async def test_set_quota_changes_a_role_and_is_audited(db: Database) -> None:
    await import_fire_safety(db)
    async with db.session() as s:
        role = await svc.set_quota(s, role_key="police", period="month", count=4, actor_tg_id=9)
        assert (role.quota_period, role.quota_count) == ("month", 4)
    async with db.session() as s:
        role = await svc.set_quota(s, role_key="police", period="week", count=0, actor_tg_id=9)
        assert (role.quota_period, role.quota_count) == (None, None)
    for bad, key in (
        (("nobody", "day", 1), "patrol.admin_unknown_role"),
        (("police", "year", 1), "patrol.admin_bad_period"),
        (("police", "day", -1), "patrol.admin_bad_count"),
    ):
        async with db.session() as s:
            try:
                await svc.set_quota(s, role_key=bad[0], period=bad[1], count=bad[2], actor_tg_id=9)
            except svc.PatrolAdminError as exc:
                assert exc.key == key
            else:  # pragma: no cover
                raise AssertionError(f"{bad} accepted")
    async with db.reading() as s:
        from sqlmodel import select

        audits = (await s.exec(select(AuditEntry).where(AuditEntry.action == "quota"))).all()
        assert len(audits) == 2
        police = (await s.exec(select(Role).where(Role.key == "police"))).one()
        assert police.quota_count is None
