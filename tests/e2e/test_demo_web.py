"""What the demo's web chat reads from gridbot (bot/demo_web.py), on a real database: the roster
by grid and role with leaders and admins marked, the geofences for the location picker, and the
clock a visitor jumps to 18:00, which runs the evening's jobs at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.app import create_app
from bot.context import AppContext
from bot.demo_web import DemoClock, ShiftedClock, fences, roster
from bot.settings import load_settings
from domain.clock import ManualClock
from domain.scenario import parse_scenario
from storage.importer import apply_import
from storage.models import Delivery
from tests.conftest import scenario_path

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_MORNING = datetime(2026, 3, 10, 9, 30, tzinfo=SHANGHAI)
ADMIN = 800000001


def _with_fences(text: str) -> str:
    """The demo's scenario with two geofences: a polygon and a circle."""
    polygon = "[[23.140, 113.320], [23.140, 113.330], [23.132, 113.331], [23.131, 113.321]]"
    for code, fence in (
        ("LH-01", f"{{polygon: {polygon}}}"),
        ("LH-02", "{center: [23.136, 113.312], radius_m: 400}"),
    ):
        anchor = f"          - code: {code}\n"
        assert anchor in text
        name_line = text.split(anchor, 1)[1].split("\n", 1)[0]
        text = text.replace(
            anchor + name_line + "\n",
            anchor + name_line + f"\n            geofence: {fence}\n",
        )
    return text


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[AppContext]:
    path = scenario_path("fire-safety-5-level.yaml")
    scenario = parse_scenario(_with_fences(path.read_text(encoding="utf-8")), source=str(path))
    settings = load_settings(database_url=db_url, admin_ids=frozenset({ADMIN}))
    context = create_app(settings)
    context.clock = ShiftedClock(ManualClock(TUESDAY_MORNING))
    async with context.db.session() as session:
        await apply_import(session, scenario, now=context.clock.now())
    yield context
    await context.db.dispose()


async def test_roster_by_grid_and_role_with_leaders_and_admins(app: AppContext) -> None:
    people = await roster(app)
    first = people[0]
    assert (first["tg_id"], first["grid_code"], first["role_label"]) == (ADMIN, "Q", "网格长")
    assert first["leader"] and first["admin"]
    guard = next(p for p in people if p["tg_id"] == 810000001)
    assert (guard["grid_code"], guard["role"], guard["leader"], guard["admin"]) == (
        "LH-01-1",
        "guard",
        False,
        False,
    )
    # Tree order: a grid's rows come together, parents before children.
    codes = list(dict.fromkeys(p["grid_code"] for p in people))
    assert codes.index("LH") < codes.index("LH-01") < codes.index("LH-01-1")
    assert len(codes) == 29


async def test_fences_come_from_the_grids(app: AppContext) -> None:
    shapes = {f["code"]: f["shape"] for f in await fences(app)}
    assert set(shapes) == {"LH-01", "LH-02"}
    assert len(shapes["LH-01"]["polygon"]) == 4
    assert shapes["LH-02"]["radius_m"] == 400


async def test_the_clock_jumps_to_18_00_and_the_digest_goes_out(app: AppContext) -> None:
    clock = app.clock
    assert isinstance(clock, ShiftedClock)
    control = DemoClock(app, clock)
    state = await control.jump("18:00")
    local = clock.now().astimezone(SHANGHAI)
    assert local == TUESDAY_MORNING.replace(hour=18, minute=0)  # today's: still ahead
    assert state["now"] == "2026-03-10 18:00 (Asia/Shanghai)"
    assert state["ran"] == ["digest", "sweep"]
    async with app.db.reading() as session:
        digests = (
            await session.exec(select(Delivery.key).where(col(Delivery.kind) == "digest"))
        ).all()
    assert digests  # every leader's evening digest, queued for the notifier
    # The clock only goes forward: an earlier time is tomorrow's.
    again = await control.jump("17:59")
    assert clock.now().astimezone(SHANGHAI) - local == timedelta(days=1, minutes=-1)
    assert "digest" not in again["ran"]
    with pytest.raises(ValueError):
        clock.shift(timedelta(seconds=-1))
