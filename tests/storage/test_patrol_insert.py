"""A check-in's patrol is written by a plain insert (storage/new_rows.add_new_row) and held
by the unit of work as the ORM's flush of a constructed Patrol left it: the same object
(dict, fields set, ORM state), the same stored row, later changes written alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from services.patrol_checkin import route_point, with_summary
from storage.db import Database
from storage.models import Patrol
from storage.new_rows import add_new_row
from tests.storage.patrol_db import ids, import_fire_safety, local
from tests.storage.row_looks import looks

GUARD = 810000001


def _variants(me: tuple[int, int, int]) -> list[dict[str, Any]]:
    """The check-in's values: quick and counted, full with a route, forwarded and refused."""
    at = local(3, 10, 8)
    base = {
        "person_id": me[0],
        "grid_id": me[1],
        "role_id": me[2],
        "lat": 23.13,
        "lon": 113.26,
        "photos": [],
        "notes": None,
        "measures": None,
    }
    return [
        base
        | {
            "kind": "quick",
            "status": "done",
            "started_at": at,
            "finished_at": at,
            "forwarded": False,
            "route": None,
            "checklist": {},
            "flags": [],
            "counted": True,
        },
        base
        | {
            "kind": "full",
            "status": "open",
            "started_at": at + timedelta(hours=1),
            "finished_at": None,
            "forwarded": False,
            "route": with_summary([route_point(at, 23.13, 113.26)]),
            "checklist": {"items": [{"name": "a", "ok": None}]},
            "flags": ["too_soon", "outside_geofence"],
            "counted": False,
        },
        base
        | {
            "kind": "full",
            "status": "refused",
            "started_at": at + timedelta(hours=2),
            "finished_at": at + timedelta(hours=2),
            "forwarded": True,
            "route": None,
            "checklist": {},
            "flags": ["forwarded"],
            "counted": False,
        },
    ]


async def test_a_patrol_inserted_plainly_is_the_flushed_constructors(db: Database) -> None:
    await import_fire_safety(db)
    me = await ids(db, GUARD, "LH-01-1", "guard")
    pairs: list[tuple[int, int]] = []
    async with db.session() as s:
        for values in _variants(me):
            constructed = Patrol(**values)
            s.add(constructed)
            await s.flush()
            plain = await add_new_row(s, Patrol, values)
            assert plain.id == (constructed.id or 0) + 1
            assert plain in s and plain not in s.new and not s.dirty
            assert await s.get(Patrol, plain.id) is plain
            assert looks(plain) == looks(constructed)
            pairs.append((constructed.id or 0, plain.id or 0))
        # A change after the insert is tracked and written as the flushed one's is.
        for one in (constructed, plain):
            one.status = "done"
            one.flags = ["again"]
            s.add(one)
        await s.flush()
        assert looks(plain) == looks(constructed)
    async with db.reading() as s:
        rows = {p.id: p.model_dump() for p in (await s.exec(select(Patrol))).all()}
    for a, b in pairs:
        left, right = dict(rows[a]), dict(rows[b])
        assert left.pop("id") + 1 == right.pop("id") and left == right
