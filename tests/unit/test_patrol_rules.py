from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from domain.geo import EARTH_RADIUS_M, CircleFence, Geofence, PolygonFence, haversine_m
from domain.patrols import (
    DEFAULT_CHECKLIST,
    ChecklistItem,
    ChecklistResult,
    ItemStatus,
    LastPatrol,
    PatrolFlag,
    assess_checkin,
    checkin_counts,
    default_checklist,
)

LAT, LON = 23.1450, 113.3250
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180
FENCE = CircleFence(LAT, LON, 300)
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def north(metres: float) -> float:
    return LAT + metres / M_PER_DEG_LAT


def assess(
    *,
    lat: float = LAT,
    lon: float = LON,
    at: datetime = NOW,
    forwarded: bool = False,
    geofence: Geofence | None = FENCE,
    last: LastPatrol | None = None,
    min_interval: timedelta = HOUR,
) -> tuple[PatrolFlag, ...]:
    return assess_checkin(
        lat=lat,
        lon=lon,
        at=at,
        forwarded=forwarded,
        geofence=geofence,
        last_counted=last,
        min_interval=min_interval,
    )


def test_flag_values() -> None:
    assert [f.value for f in PatrolFlag] == [
        "outside_geofence",
        "forwarded",
        "too_soon",
        "same_coordinates",
    ]


def test_clean_checkin_counts() -> None:
    flags = assess(last=LastPatrol(NOW - 2 * HOUR, north(40), LON))
    assert flags == ()
    assert checkin_counts(flags)


def test_first_checkin_without_fence_counts() -> None:
    assert assess(geofence=None, lat=0.0, lon=0.0) == ()


# --- geofence -----------------------------------------------------------------------------


def test_outside_circle() -> None:
    assert assess(lat=north(301)) == (PatrolFlag.OUTSIDE_GEOFENCE,)
    assert not checkin_counts(assess(lat=north(301)))


def test_exactly_at_radius_is_inside() -> None:
    edge_lat = north(300)
    fence = CircleFence(LAT, LON, haversine_m(LAT, LON, edge_lat, LON))
    assert assess(lat=edge_lat, geofence=fence) == ()
    assert assess(lat=north(300.01), geofence=fence) == (PatrolFlag.OUTSIDE_GEOFENCE,)


def test_polygon_fence() -> None:
    fence = PolygonFence(
        ((LAT, LON), (LAT, LON + 0.01), (LAT + 0.01, LON + 0.01), (LAT + 0.01, LON))
    )
    assert assess(lat=LAT + 0.005, lon=LON + 0.005, geofence=fence) == ()
    assert assess(lat=LAT, lon=LON + 0.005, geofence=fence) == ()  # on the edge
    assert assess(lat=LAT - 0.001, lon=LON, geofence=fence) == (PatrolFlag.OUTSIDE_GEOFENCE,)


def test_no_fence_means_anywhere() -> None:
    assert assess(lat=40.0, lon=116.0, geofence=None) == ()


# --- forwarded ----------------------------------------------------------------------------


def test_forwarded() -> None:
    assert assess(forwarded=True) == (PatrolFlag.FORWARDED,)


# --- too soon -----------------------------------------------------------------------------


def test_too_soon() -> None:
    last = LastPatrol(NOW - timedelta(minutes=59, seconds=59), north(50), LON)
    assert assess(last=last) == (PatrolFlag.TOO_SOON,)


def test_exactly_min_interval_is_fine() -> None:
    assert assess(last=LastPatrol(NOW - HOUR, north(50), LON)) == ()


def test_too_soon_either_side() -> None:
    # Updates can arrive out of order: a check-in just *before* the last counted one.
    last = LastPatrol(NOW + timedelta(minutes=10), north(50), LON)
    assert assess(last=last) == (PatrolFlag.TOO_SOON,)
    assert assess(last=LastPatrol(NOW + HOUR, north(50), LON)) == ()


def test_zero_interval_never_too_soon() -> None:
    assert assess(last=LastPatrol(NOW, north(50), LON), min_interval=timedelta(0)) == ()


# --- same coordinates ---------------------------------------------------------------------


def test_same_coordinates() -> None:
    assert assess(last=LastPatrol(NOW - 24 * HOUR, LAT, LON)) == (PatrolFlag.SAME_COORDINATES,)


def test_same_coordinates_within_a_metre() -> None:
    assert assess(last=LastPatrol(NOW - 24 * HOUR, north(0.9), LON)) == (
        PatrolFlag.SAME_COORDINATES,
    )


def test_one_metre_apart_is_different() -> None:
    other = north(1.0)
    assert haversine_m(LAT, LON, other, LON) == pytest.approx(1.0, abs=1e-6)
    moved = north(1.001)
    assert assess(last=LastPatrol(NOW - 24 * HOUR, moved, LON)) == ()


# --- combinations -------------------------------------------------------------------------


def test_all_flags_in_enum_order() -> None:
    far = north(500)
    flags = assess(lat=far, forwarded=True, last=LastPatrol(NOW - timedelta(minutes=5), far, LON))
    assert flags == (
        PatrolFlag.OUTSIDE_GEOFENCE,
        PatrolFlag.FORWARDED,
        PatrolFlag.TOO_SOON,
        PatrolFlag.SAME_COORDINATES,
    )
    assert not checkin_counts(flags)


def test_replayed_location_right_after() -> None:
    flags = assess(last=LastPatrol(NOW - timedelta(minutes=1), LAT, LON))
    assert flags == (PatrolFlag.TOO_SOON, PatrolFlag.SAME_COORDINATES)


def test_forwarded_from_outside() -> None:
    assert assess(lat=north(1000), forwarded=True) == (
        PatrolFlag.OUTSIDE_GEOFENCE,
        PatrolFlag.FORWARDED,
    )


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        assess(at=datetime(2026, 3, 1, 2, 0))
    with pytest.raises(ValueError, match="negative"):
        assess(min_interval=timedelta(seconds=-1))


# --- checklist ----------------------------------------------------------------------------


def test_default_checklist() -> None:
    assert default_checklist() == (
        "安全疏散",
        "消防设施",
        "灭火器具",
        "用火",
        "用电",
        "用气",
        "用油",
    )
    assert default_checklist() is DEFAULT_CHECKLIST


def test_checklist_flow() -> None:
    result = ChecklistResult.start()
    assert [it.name for it in result.items] == list(DEFAULT_CHECKLIST)
    assert not result.complete and len(result.pending()) == 7
    result.mark("安全疏散", ok=True)
    item = result.mark(4, ok=False, note="电线私拉乱接")
    assert item == ChecklistItem("用电", ItemStatus.PROBLEM, "电线私拉乱接")
    assert item.problem and not item.ok
    assert result.problems() == (item,)
    result.mark_rest_ok()
    assert result.complete and not result.all_ok
    assert [it.name for it in result.problems()] == ["用电"]
    # Answering again replaces the answer.
    result.mark("用电", ok=True)
    assert result.all_ok and result.problems() == ()


def test_custom_checklist_and_round_trip() -> None:
    result = ChecklistResult.start(["安全疏散", "环境卫生", "矛盾纠纷"])
    result.mark("矛盾纠纷", ok=False, note="邻里噪音")
    restored = ChecklistResult.from_dict(result.to_dict())
    assert restored == result
    assert restored.pending()[0].name == "安全疏散"


def test_checklist_errors() -> None:
    result = ChecklistResult.start()
    with pytest.raises(KeyError):
        result.mark("消防通道", ok=True)
    with pytest.raises(KeyError):
        result.mark(7, ok=True)
    with pytest.raises(ValueError, match="unique"):
        ChecklistResult.start(["用电", "用电"])
    with pytest.raises(ValueError, match="blank"):
        ChecklistResult.start(["用电", " "])
