"""Distances, geofences and live-location route summaries.

Coordinates are WGS 84 degrees as Telegram sends them: latitude first, then longitude.

- Distances are great-circle (haversine) on a sphere of the mean Earth radius
  (6 371 008.8 m); over a grid's few hundred metres the error against the ellipsoid is
  well under 0.5 %, far below a phone's GPS error.
- A circle fence contains a point whose haversine distance to its centre is at most the
  radius (the boundary is inside).
- A polygon fence treats latitude/longitude as plane coordinates and uses ray casting
  (even-odd rule); points on an edge or a vertex count as inside. That is exact enough for
  polygons the size of a grid (a street, a block, a building) away from the poles, but it is
  not meant for polygons spanning hundreds of kilometres or crossing the antimeridian.

Import-file shape (YAML or JSON), latitude first::

    {center: [lat, lon], radius_m: 300}
    {polygon: [[lat, lon], [lat, lon], [lat, lon], ...]}   # closing point optional
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

__all__ = [
    "EARTH_RADIUS_M",
    "CircleFence",
    "Geofence",
    "PolygonFence",
    "RouteSummary",
    "haversine_m",
    "parse_geofence",
    "summarize_route",
]

EARTH_RADIUS_M = 6_371_008.8

# Tolerance (degrees) for "on the edge" in polygon tests: ~1 mm on the ground.
_EDGE_EPS_DEG = 1e-8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS 84 points (degrees)."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = math.radians(lat2 - lat1)
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    a = min(max(a, 0.0), 1.0)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _check_point(lat: float, lon: float, what: str) -> None:
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError(f"{what}: coordinates must be finite numbers, got ({lat}, {lon})")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"{what}: latitude {lat} is outside [-90, 90]")
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"{what}: longitude {lon} is outside [-180, 180]")


@dataclass(frozen=True)
class CircleFence:
    """A circle of ``radius_m`` metres around (``lat``, ``lon``)."""

    lat: float
    lon: float
    radius_m: float

    def __post_init__(self) -> None:
        _check_point(self.lat, self.lon, "geofence center")
        if not (math.isfinite(self.radius_m) and self.radius_m > 0):
            raise ValueError(f"geofence radius_m must be a positive number, got {self.radius_m}")

    def contains(self, lat: float, lon: float) -> bool:
        return haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m

    def to_dict(self) -> dict[str, Any]:
        return {"center": [self.lat, self.lon], "radius_m": self.radius_m}


@dataclass(frozen=True)
class PolygonFence:
    """A simple polygon of (lat, lon) vertices, without a repeated closing vertex."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        pts = tuple((float(lat), float(lon)) for lat, lon in self.points)
        if len(pts) >= 2 and pts[0] == pts[-1]:
            pts = pts[:-1]
        object.__setattr__(self, "points", pts)
        for i, (lat, lon) in enumerate(pts):
            _check_point(lat, lon, f"geofence polygon point {i + 1}")
        if len(set(pts)) < 3:
            raise ValueError(
                f"geofence polygon needs at least 3 distinct points, got {len(set(pts))}"
            )
        if _shoelace_area(pts) == 0.0:
            raise ValueError("geofence polygon has no area (all points on one line)")

    def contains(self, lat: float, lon: float) -> bool:
        # Planar: y = latitude, x = longitude. Even-odd ray cast towards +x.
        pts = self.points
        inside = False
        n = len(pts)
        for i in range(n):
            y1, x1 = pts[i]
            y2, x2 = pts[(i + 1) % n]
            if _on_segment(lat, lon, y1, x1, y2, x2):
                return True
            if (y1 > lat) != (y2 > lat):
                x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
                if lon < x_cross:
                    inside = not inside
        return inside

    def to_dict(self) -> dict[str, Any]:
        return {"polygon": [[lat, lon] for lat, lon in self.points]}


Geofence = CircleFence | PolygonFence


def _shoelace_area(pts: Sequence[tuple[float, float]]) -> float:
    n = len(pts)
    twice = sum(pts[i][1] * pts[(i + 1) % n][0] - pts[(i + 1) % n][1] * pts[i][0] for i in range(n))
    return abs(twice) / 2


def _on_segment(py: float, px: float, y1: float, x1: float, y2: float, x2: float) -> bool:
    if not (
        min(y1, y2) - _EDGE_EPS_DEG <= py <= max(y1, y2) + _EDGE_EPS_DEG
        and min(x1, x2) - _EDGE_EPS_DEG <= px <= max(x1, x2) + _EDGE_EPS_DEG
    ):
        return False
    length = math.hypot(y2 - y1, x2 - x1)
    if length == 0.0:
        return math.hypot(py - y1, px - x1) <= _EDGE_EPS_DEG
    cross = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
    return abs(cross) / length <= _EDGE_EPS_DEG


def _number(value: object, what: str) -> float:
    # bool is an int subclass; "true" as a coordinate is a mistake, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _pair(value: object, what: str) -> tuple[float, float]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValueError(f"{what} must be a [lat, lon] pair, got {value!r}")
    return _number(value[0], f"{what} latitude"), _number(value[1], f"{what} longitude")


def parse_geofence(data: Mapping[str, Any]) -> Geofence:
    """Build a geofence from its import-file shape; ``ValueError`` says what is wrong."""
    if not isinstance(data, Mapping):
        raise ValueError(
            "geofence must be a mapping like {center: [lat, lon], radius_m: 300} "
            f"or {{polygon: [[lat, lon], ...]}}, got {data!r}"
        )
    keys = set(data)
    if "center" in keys and "polygon" in keys:
        raise ValueError("geofence must have either 'center' or 'polygon', not both")
    if "center" in keys:
        unknown = keys - {"center", "radius_m"}
        if unknown:
            raise ValueError(f"geofence circle has unknown keys: {', '.join(sorted(unknown))}")
        if "radius_m" not in data:
            raise ValueError("geofence with 'center' needs 'radius_m' (metres)")
        lat, lon = _pair(data["center"], "geofence center")
        radius = _number(data["radius_m"], "geofence radius_m")
        return CircleFence(lat=lat, lon=lon, radius_m=radius)
    if "polygon" in keys:
        unknown = keys - {"polygon"}
        if unknown:
            raise ValueError(f"geofence polygon has unknown keys: {', '.join(sorted(unknown))}")
        raw = data["polygon"]
        if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
            raise ValueError(f"geofence polygon must be a list of [lat, lon] pairs, got {raw!r}")
        points = tuple(_pair(p, f"geofence polygon point {i + 1}") for i, p in enumerate(raw))
        return PolygonFence(points=points)
    raise ValueError(
        "geofence needs 'center' and 'radius_m' or 'polygon'; "
        f"got keys: {', '.join(sorted(map(str, keys))) or 'none'}"
    )


@dataclass(frozen=True)
class RouteSummary:
    """What a live-location patrol covered."""

    start: datetime
    end: datetime
    duration_s: float
    distance_m: float
    points_count: int


def summarize_route(points: Sequence[tuple[datetime, float, float]]) -> RouteSummary:
    """Summarize a live-location track of ``(at, lat, lon)`` fixes.

    Fixes are taken in time order (updates can arrive out of order); a fix identical to the
    previous one (same time and place, e.g. a redelivered update) is ignored. Distance is
    the sum of haversine legs between consecutive fixes. Raises ``ValueError`` on an empty
    track or a naive timestamp.
    """
    if not points:
        raise ValueError("route has no points")
    for at, _, _ in points:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"route timestamps must be timezone-aware, got naive {at!r}")
    ordered = sorted(points, key=lambda p: p[0])
    kept: list[tuple[datetime, float, float]] = []
    for point in ordered:
        if kept and kept[-1] == point:
            continue
        kept.append(point)
    distance = sum(haversine_m(a[1], a[2], b[1], b[2]) for a, b in pairwise(kept))
    start, end = kept[0][0], kept[-1][0]
    return RouteSummary(
        start=start,
        end=end,
        duration_s=(end - start).total_seconds(),
        distance_m=distance,
        points_count=len(kept),
    )
