from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.geo import (
    EARTH_RADIUS_M,
    CircleFence,
    PolygonFence,
    RouteSummary,
    haversine_m,
    parse_geofence,
    summarize_route,
)

# 林和 area, Guangzhou-ish coordinates.
LAT, LON = 23.1450, 113.3250
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180  # ~111 195 m


def north(lat: float, metres: float) -> float:
    return lat + metres / M_PER_DEG_LAT


# --- haversine ----------------------------------------------------------------------------


def test_haversine_known_distances() -> None:
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195.08, abs=0.01)
    # Beijing Tiananmen to Shanghai People's Square: ~1 067 km.
    assert haversine_m(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1_067_312, rel=1e-4)
    assert haversine_m(LAT, LON, LAT, LON) == 0.0
    # Antipodes: half the circumference.
    assert haversine_m(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_M)


coords = st.tuples(
    st.floats(min_value=-89.9, max_value=89.9), st.floats(min_value=-180, max_value=180)
)


@given(a=coords, b=coords)
def test_haversine_symmetric_and_bounded(a: tuple[float, float], b: tuple[float, float]) -> None:
    d = haversine_m(*a, *b)
    assert d == pytest.approx(haversine_m(*b, *a), abs=1e-6)
    assert 0.0 <= d <= math.pi * EARTH_RADIUS_M + 1e-6


# --- circle -------------------------------------------------------------------------------


def test_circle_contains() -> None:
    fence = CircleFence(LAT, LON, 300)
    assert fence.contains(LAT, LON)
    assert fence.contains(north(LAT, 299), LON)
    assert not fence.contains(north(LAT, 301), LON)


def test_circle_boundary_is_inside() -> None:
    edge = (north(LAT, 300), LON)
    exact = haversine_m(LAT, LON, *edge)
    assert CircleFence(LAT, LON, exact).contains(*edge)
    assert not CircleFence(LAT, LON, exact - 0.001).contains(*edge)


@pytest.mark.parametrize(
    ("lat", "lon", "radius", "message"),
    [
        (LAT, LON, 0, "positive"),
        (LAT, LON, -5, "positive"),
        (LAT, LON, math.nan, "positive"),
        (91, LON, 100, "latitude"),
        (LAT, 181, 100, "longitude"),
    ],
)
def test_circle_validation(lat: float, lon: float, radius: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CircleFence(lat, lon, radius)


# --- polygon ------------------------------------------------------------------------------

SQUARE = PolygonFence(((0.0, 0.0), (0.0, 0.01), (0.01, 0.01), (0.01, 0.0)))
# An L shape: the square [0, 0.02]^2 minus its top-right quarter.
L_SHAPE = PolygonFence(
    ((0.0, 0.0), (0.0, 0.02), (0.01, 0.02), (0.01, 0.01), (0.02, 0.01), (0.02, 0.0))
)


def test_polygon_inside_outside() -> None:
    assert SQUARE.contains(0.005, 0.005)
    assert not SQUARE.contains(0.02, 0.005)
    assert not SQUARE.contains(-0.001, 0.005)
    assert not SQUARE.contains(0.005, 0.011)


def test_polygon_edges_and_vertices_are_inside() -> None:
    assert SQUARE.contains(0.0, 0.005)  # bottom edge
    assert SQUARE.contains(0.01, 0.005)  # top edge
    assert SQUARE.contains(0.005, 0.01)  # right edge
    assert SQUARE.contains(0.0, 0.0)
    assert SQUARE.contains(0.01, 0.01)


def test_concave_polygon() -> None:
    assert L_SHAPE.contains(0.005, 0.015)
    assert L_SHAPE.contains(0.015, 0.005)
    assert not L_SHAPE.contains(0.015, 0.015)  # the notch
    # A ray through a vertex must not double count.
    assert L_SHAPE.contains(0.005, 0.005)
    assert not L_SHAPE.contains(0.01, 0.03)


def test_closing_point_is_dropped() -> None:
    closed = PolygonFence(((0.0, 0.0), (0.0, 0.01), (0.01, 0.01), (0.01, 0.0), (0.0, 0.0)))
    assert closed == SQUARE
    assert len(closed.points) == 4


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (((0.0, 0.0), (0.0, 1.0)), "at least 3"),
        (((0.0, 0.0), (0.0, 1.0), (0.0, 0.0)), "at least 3"),
        (((0.0, 0.0), (1.0, 1.0), (2.0, 2.0)), "no area"),
        (((0.0, 0.0), (95.0, 1.0), (1.0, 1.0)), "latitude"),
    ],
)
def test_polygon_validation(points: tuple[tuple[float, float], ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PolygonFence(points)


# --- import shape -------------------------------------------------------------------------


def test_parse_circle_and_round_trip() -> None:
    fence = parse_geofence({"center": [LAT, LON], "radius_m": 300})
    assert fence == CircleFence(LAT, LON, 300.0)
    assert fence.to_dict() == {"center": [LAT, LON], "radius_m": 300.0}
    assert parse_geofence(fence.to_dict()) == fence


def test_parse_polygon_and_round_trip() -> None:
    data = {"polygon": [[0, 0], [0, 0.01], [0.01, 0.01], [0.01, 0]]}
    fence = parse_geofence(data)
    assert fence == SQUARE
    assert parse_geofence(fence.to_dict()) == fence
    assert fence.to_dict() == {"polygon": [[0.0, 0.0], [0.0, 0.01], [0.01, 0.01], [0.01, 0.0]]}


def test_parse_accepts_tuples() -> None:
    assert isinstance(parse_geofence({"center": (LAT, LON), "radius_m": 50}), CircleFence)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([LAT, LON], "mapping"),
        ({}, "needs 'center'"),
        ({"radius": 300}, "got keys: radius"),
        ({"center": [LAT, LON]}, "radius_m"),
        ({"center": [LAT, LON], "radius_m": 300, "polygon": [[0, 0]]}, "not both"),
        ({"center": [LAT], "radius_m": 300}, r"\[lat, lon\] pair"),
        ({"center": "23.1,113.3", "radius_m": 300}, r"\[lat, lon\] pair"),
        ({"center": ["23.1", LON], "radius_m": 300}, "latitude must be a number"),
        ({"center": [True, LON], "radius_m": 300}, "latitude must be a number"),
        ({"center": [LAT, LON], "radius_m": "300m"}, "radius_m must be a number"),
        ({"center": [LAT, LON], "radius_m": 0}, "positive"),
        ({"center": [LAT, LON], "radius_m": 300, "color": "red"}, "unknown keys: color"),
        ({"center": [100, LON], "radius_m": 300}, "latitude 100"),
        ({"polygon": "0,0 1,1 2,0"}, "list of"),
        ({"polygon": [[0, 0], [0, 1]]}, "at least 3"),
        ({"polygon": [[0, 0], [0, 1], [1]]}, "point 3"),
        ({"polygon": [[0, 0], [0, 1], [1, math.inf]]}, "finite"),
    ],
)
def test_parse_errors(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_geofence(data)


# --- route summary ------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def test_route_summary() -> None:
    leg = haversine_m(LAT, LON, north(LAT, 100), LON)
    points = [
        (T0, LAT, LON),
        (T0 + timedelta(minutes=1), north(LAT, 100), LON),
        (T0 + timedelta(minutes=1), north(LAT, 100), LON),  # redelivered update
        (T0 + timedelta(minutes=2), LAT, LON),
    ]
    summary = summarize_route(points)
    assert isinstance(summary, RouteSummary)
    assert (summary.start, summary.end) == (T0, T0 + timedelta(minutes=2))
    assert (summary.duration_s, summary.points_count) == (120.0, 3)
    assert summary.distance_m == pytest.approx(2 * leg)
    assert summary.distance_m == pytest.approx(200, abs=0.01)


def test_route_standing_still_counts_points_but_no_distance() -> None:
    points = [(T0 + timedelta(seconds=30 * i), LAT, LON) for i in range(4)]
    summary = summarize_route(points)
    assert summary.points_count == 4 and summary.distance_m == 0 and summary.duration_s == 90


def test_route_out_of_order_is_sorted() -> None:
    ordered = [(T0 + timedelta(minutes=i), north(LAT, 50 * i), LON) for i in range(4)]
    shuffled = [ordered[2], ordered[0], ordered[3], ordered[1]]
    assert summarize_route(shuffled) == summarize_route(ordered)


def test_route_single_point() -> None:
    summary = summarize_route([(T0, LAT, LON)])
    assert (summary.duration_s, summary.distance_m, summary.points_count) == (0.0, 0.0, 1)


def test_route_errors() -> None:
    with pytest.raises(ValueError, match="no points"):
        summarize_route([])
    with pytest.raises(ValueError, match="timezone-aware"):
        summarize_route([(datetime(2026, 3, 1), LAT, LON)])
