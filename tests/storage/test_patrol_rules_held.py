"""The patrol rules take the deployment's row from the unit of work when it has it at hand
(storage/deployment_row `deployment_to_read`), as `session.get` would give it; not at hand,
or expired, the get reads it: the same rules either way. fire-safety-5-level.yaml on a real
database."""

from __future__ import annotations

from datetime import timedelta

from services import patrols as svc
from storage.db import Database
from storage.deployment_row import deployment_at_hand
from storage.models import Deployment
from tests.storage.patrol_db import SHANGHAI, identity, ids, import_fire_safety
from tests.storage.test_patrol_checkin_scene import GUARD, T0


async def test_held_row_is_the_gets_and_the_rules_alike(db: Database) -> None:
    await import_fire_safety(db)
    async with db.session() as s:
        assert not deployment_at_hand(s)  # nothing loaded yet: the get reads it
        first = await svc.patrol_rules(s, default_tz=SHANGHAI)
        dep = await s.get(Deployment, 1)
        assert dep is not None and deployment_at_hand(s)
        assert await svc.patrol_rules(s, default_tz=SHANGHAI) == first
        dep.min_patrol_interval_minutes = 15  # a change the unit of work holds is seen
        changed = await svc.patrol_rules(s, default_tz=SHANGHAI)
        assert changed.min_interval.total_seconds() == 15 * 60
        await s.flush()
        s.expire(dep)
        assert not deployment_at_hand(s)  # expired: the get reloads it
        assert await svc.patrol_rules(s, default_tz=SHANGHAI) == changed
        assert deployment_at_hand(s) and s.identity_map.get((Deployment, (1,), None)) is dep
    async with db.session() as s:
        assert await svc.patrol_rules(s, default_tz=SHANGHAI) == changed


async def test_a_zone_with_the_same_day_keeps_the_scenes_count(db: Database) -> None:
    """The scene's count is kept when the deployment's zone is the default one, or another
    whose day has the same bounds (asked again only then); `outcome` agrees."""
    await import_fire_safety(db)
    me = await ids(db, GUARD, "LH-01-1", "guard")
    who = await identity(db, GUARD)
    for n, zone in enumerate(("Asia/Shanghai", "Asia/Hong_Kong")):
        async with db.session() as s:
            dep = await s.get(Deployment, 1)
            assert dep is not None
            dep.timezone = zone
        at = T0 + timedelta(hours=n)
        where = svc.CheckInAt(me[0], me[1], me[2], svc.QUICK, 23.1 + n, 113.26, False, False, at)
        async with db.session() as s:
            checked, rules = await svc.check_in_with_rules(
                s, where, identity=who, default_tz=SHANGHAI
            )
            assert str(rules.tz) == zone and checked.credited is not None
            told = await svc.outcome(
                s, checked.patrol, identity=who, now=at, rules=rules, known=checked.credited
            )
            asked = await svc.outcome(s, checked.patrol, identity=who, now=at, rules=rules)
            assert told == asked and told.quota is not None and told.quota.done == n + 1
