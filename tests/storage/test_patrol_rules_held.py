"""The patrol rules take the deployment's row from the unit of work when it holds it loaded
(services/patrol_checkin `_held`), as `session.get` would give it; not held, or expired, the
get reads it: the same rules either way. fire-safety-5-level.yaml on a real database."""

from __future__ import annotations

from services import patrols as svc
from services.patrol_checkin import _held
from storage.db import Database
from storage.models import Deployment
from tests.storage.patrol_db import SHANGHAI, import_fire_safety


async def test_held_row_is_the_gets_and_the_rules_alike(db: Database) -> None:
    await import_fire_safety(db)
    async with db.session() as s:
        assert _held(s) is None  # nothing loaded yet: the get reads it
        first = await svc.patrol_rules(s, default_tz=SHANGHAI)
        dep = await s.get(Deployment, 1)
        assert dep is not None and _held(s) is dep
        assert await svc.patrol_rules(s, default_tz=SHANGHAI) == first
        dep.min_patrol_interval_minutes = 15  # a change the unit of work holds is seen
        changed = await svc.patrol_rules(s, default_tz=SHANGHAI)
        assert changed.min_interval.total_seconds() == 15 * 60
        await s.flush()
        s.expire(dep)
        assert _held(s) is None  # expired: the get reloads it
        assert await svc.patrol_rules(s, default_tz=SHANGHAI) == changed
        assert _held(s) is dep
    async with db.session() as s:
        assert await svc.patrol_rules(s, default_tz=SHANGHAI) == changed
