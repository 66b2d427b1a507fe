"""Small geometry on ``(latitude, longitude)`` pairs in degrees, good at the scale of a province.

Distances to lines use a local equirectangular projection centred on the point: at Pearl River Delta
latitudes and distances of tens of kilometres its error is well under 1 %. Not for the poles or the
antimeridian.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

__all__ = (
    "EARTH_RADIUS_KM",
    "LatLon",
    "distance_to_polyline_km",
    "haversine_km",
    "point_in_polygon",
)

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG)."""

LatLon = tuple[float, float]
"""Latitude and longitude in degrees (WGS 84 / GCJ-02 alike: only differences matter here)."""


def haversine_km(a: LatLon, b: LatLon) -> float:
    """Great-circle distance between two points, in km."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _project_km(point: LatLon, origin: LatLon) -> tuple[float, float]:
    """``(east, north)`` in km of a point, in the equirectangular projection centred on ``origin``."""
    east = math.radians(point[1] - origin[1]) * math.cos(math.radians(origin[0])) * EARTH_RADIUS_KM
    north = math.radians(point[0] - origin[0]) * EARTH_RADIUS_KM
    return east, north


def _distance_to_segment_km(point: LatLon, start: LatLon, end: LatLon) -> float:
    ax, ay = _project_km(start, point)
    bx, by = _project_km(end, point)
    dx, dy = bx - ax, by - ay
    length_squared = dx * dx + dy * dy
    # The point is the origin: project it onto the segment, clamped to the ends.
    t = 0.0 if length_squared == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length_squared))
    return math.hypot(ax + t * dx, ay + t * dy)


def distance_to_polyline_km(point: LatLon, polyline: Sequence[LatLon]) -> float:
    """Shortest distance in km from a point to a polyline (a single vertex counts as a point).

    Raises:
        ValueError: the polyline is empty.
    """
    if not polyline:
        raise ValueError("a polyline needs at least one vertex")
    if len(polyline) == 1:
        return haversine_km(point, polyline[0])
    return min(_distance_to_segment_km(point, a, b) for a, b in itertools.pairwise(polyline))


def point_in_polygon(point: LatLon, polygon: Sequence[LatLon]) -> bool:
    """Whether a point lies inside a polygon (ray casting; the ring may be open or closed).

    A point exactly on an edge may fall either way.
    """
    lat, lon = point
    inside = False
    for (lat1, lon1), (lat2, lon2) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if (lat1 > lat) != (lat2 > lat):
            crossing_lon = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < crossing_lon:
                inside = not inside
    return inside
