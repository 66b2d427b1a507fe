"""Realistic Pearl River Delta tracks: a fix every 30 s along waypoints at a given speed."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

from monitoring import PositionFix
from monitoring.geo import LatLon, haversine_km

INTERVAL = timedelta(seconds=30)
DEPARTURE = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
"""08:30 in Guangzhou."""

# Along the Guangshen (G4) expressway, vertices of its polyline in monitoring/data/prd_zones.json
HUANGPU = (23.10, 113.50)
XINTANG = (23.11, 113.60)
MACHONG = (23.06, 113.68)
DONGGUAN = (23.02, 113.75)
GUANGSHEN = (HUANGPU, XINTANG, MACHONG, DONGGUAN)
# Kaichuang Avenue, Huangpu: a city road north of the expressway
KAICHUANG_SOUTH = (23.15, 113.47)
KAICHUANG_NORTH = (23.20, 113.46)
# Luohu to Yantian port through the Wutong Mountain tunnel (category D in the sample)
LIANTANG = (22.560, 114.160)
WUTONG_WEST = (22.572, 114.185)
WUTONG_EAST = (22.590, 114.215)
YANTIAN_PORT = (22.585, 114.265)
# Eastwards along G15 towards Shantou: long enough for the driving-time rule
HUIZHOU = (23.11, 114.42)
SHANWEI = (22.79, 115.37)
SHANTOU = (23.35, 116.68)
# Into Guangzhou's centre (banned in the sample) along Huangpu Avenue
HUANGPU_AVENUE_EAST = (23.125, 113.40)
TIANHE_WEST = (23.125, 113.30)


def along(path: list[LatLon], distance_km: float) -> LatLon:
    """The point ``distance_km`` along a polyline (its end if the line is shorter)."""
    for start, end in itertools.pairwise(path):
        length = haversine_km(start, end)
        if distance_km <= length and length > 0:
            t = distance_km / length
            return (start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1]))
        distance_km -= length
    return path[-1]


def path_length_km(path: list[LatLon]) -> float:
    return sum(haversine_km(a, b) for a, b in itertools.pairwise(path))


class Track:
    """A vehicle's fixes, built step by step from a first fix."""

    def __init__(self, at: LatLon, *, start: datetime = DEPARTURE, speed_kmh: float = 0.0) -> None:
        self.fixes = [PositionFix(recorded_at=start, latitude=at[0], longitude=at[1], speed_kmh=speed_kmh)]
        self._next_at = start + INTERVAL

    @property
    def position(self) -> LatLon:
        return (self.fixes[-1].latitude, self.fixes[-1].longitude)

    @property
    def last_at(self) -> datetime:
        return self.fixes[-1].recorded_at

    def drive(self, *through: LatLon, speed_kmh: float, fixes: int | None = None) -> Track:
        """Drive from here through the points at a steady speed, a fix every 30 s.

        Without ``fixes``, until the last point (the last fix lands on it); with ``fixes``, exactly that
        many fixes (stopping at the last point if it comes first).
        """
        path = [self.position, *through]
        step_km = speed_kmh * INTERVAL.total_seconds() / 3600
        count = fixes if fixes is not None else max(1, math.ceil(path_length_km(path) / step_km - 1e-9))
        for k in range(1, count + 1):
            self._add(along(path, k * step_km), speed_kmh)
        return self

    def stay(self, seconds: float, *, speed_kmh: float = 0.0) -> Track:
        """Stand here for ``seconds`` (a fix every 30 s, with a few metres of GNSS noise)."""
        lat, lon = self.position
        for k in range(1, round(seconds / INTERVAL.total_seconds()) + 1):
            jitter = 0.00005 if k % 2 else -0.00005  # about 5 m
            self._add((lat + jitter, lon), speed_kmh)
        return self

    def silence(self, seconds: float) -> Track:
        """The next fix comes ``seconds`` after the last one."""
        self._next_at = self.last_at + timedelta(seconds=seconds)
        return self

    def _add(self, at: LatLon, speed_kmh: float) -> None:
        self.fixes.append(PositionFix(recorded_at=self._next_at, latitude=at[0], longitude=at[1], speed_kmh=speed_kmh))
        self._next_at += INTERVAL
