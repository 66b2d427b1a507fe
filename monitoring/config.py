"""Alert thresholds, expressways and restricted zones: what the rules compare a track against.

Defaults follow the issue: 80 km/h on expressways and 60 km/h elsewhere for dangerous-goods vehicles,
no fix for 5 minutes, 30 minutes stationary away from planned places, 5 km off the corridor, 4 hours of
driving without a 20-minute stop. ``monitoring/data/prd_zones.json`` is a sample for the Pearl River Delta.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from monitoring.geo import LatLon, distance_to_polyline_km

__all__ = (
    "DATA_DIR",
    "AlertThresholds",
    "Expressway",
    "RestrictedZone",
    "TunnelCategory",
    "load_thresholds",
    "prd_thresholds",
)

DATA_DIR = Path(__file__).parent / "data"

TunnelCategory = Literal["A", "B", "C", "D", "E"]
"""ADR 1.9.5.2.2 tunnel category."""

Positive = Annotated[float, Meta(gt=0)]


class Expressway(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """An expressway, as its centre line; a fix within ``half_width_km`` of it is on the expressway."""

    name: str
    polyline: Annotated[tuple[LatLon, ...], Meta(min_length=2)]
    half_width_km: Positive = 0.3

    def contains(self, point: LatLon) -> bool:
        """Whether a point is within the half-width of the centre line (boundary included)."""
        return distance_to_polyline_km(point, self.polyline) <= self.half_width_km


class RestrictedZone(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A tunnel (with its ADR category) or a zone closed to every dangerous-goods vehicle (``ban``)."""

    name: str
    polygon: Annotated[tuple[LatLon, ...], Meta(min_length=3)]
    name_zh: str | None = None
    """The zone's Chinese name, shown on the pages (``name`` is used when absent)."""
    tunnel_category: TunnelCategory | None = None
    ban: bool = False

    def __post_init__(self) -> None:
        if (self.tunnel_category is not None) == self.ban:
            raise ValueError(f"zone {self.name!r}: give either a tunnel_category or ban=true")


class AlertThresholds(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Every threshold of the alert rules, with the zones and expressways they use."""

    expressway_speed_limit_kmh: Positive = 80.0
    """Speed limit on an expressway (a fix within the half-width of one of ``expressways``)."""
    other_road_speed_limit_kmh: Positive = 60.0
    """Speed limit everywhere else."""
    speeding_min_duration_s: Annotated[float, Meta(ge=0)] = 60.0
    """Time from the first to the last fix over the limit for an episode to count."""
    speeding_min_fixes: Annotated[int, Meta(ge=1)] = 2
    """Consecutive fixes over the limit for an episode to count (one fix alone never suffices by default)."""
    speeding_critical_excess_kmh: Positive = 20.0
    """An episode whose top speed exceeds the limit by this much (or more) is critical."""
    no_signal_after_s: Positive = 300.0
    """A vehicle in transit without a fix for longer than this is out of signal."""
    stationary_after_s: Positive = 1800.0
    """Stationary for longer than this away from planned places raises an alert."""
    stationary_radius_m: Positive = 200.0
    """A vehicle whose fixes stay less than this from the first one is stationary (also used for stops)."""
    planned_place_radius_km: Positive = 1.0
    """A fix within this distance of a planned place is at that place."""
    off_corridor_km: Positive = 5.0
    """A fix farther than this from the planned corridor is off it."""
    max_continuous_driving_s: Positive = 4 * 3600.0
    """Driving longer than this without a qualifying stop raises an alert."""
    min_break_s: Positive = 1200.0
    """A stop (speed below ``stop_speed_kmh``, or moving less than ``stationary_radius_m``) this long resets driving."""
    stop_speed_kmh: Positive = 5.0
    """Below this speed a vehicle counts as stopped for the driving-time rule."""
    moving_speed_kmh: Positive = 5.0
    """Above this speed a vehicle is moving (the no-waybill rule)."""
    expressways: tuple[Expressway, ...] = ()
    restricted_zones: tuple[RestrictedZone, ...] = ()

    def on_expressway(self, point: LatLon) -> bool:
        """Whether a point is within the half-width of one of the expressways."""
        return any(expressway.contains(point) for expressway in self.expressways)

    def speed_limit_kmh(self, point: LatLon) -> float:
        """The limit at a point: the expressway limit on any expressway, else the other-roads limit."""
        return self.expressway_speed_limit_kmh if self.on_expressway(point) else self.other_road_speed_limit_kmh


def load_thresholds(path: Path) -> AlertThresholds:
    """Read thresholds from a JSON file (any field left out keeps its default).

    Raises:
        msgspec.ValidationError: an unknown field, a wrong type or an inconsistent zone.
    """
    return msgspec.json.decode(path.read_bytes(), type=AlertThresholds)


@lru_cache(maxsize=1)
def prd_thresholds() -> AlertThresholds:
    """The Pearl River Delta sample, ``monitoring/data/prd_zones.json`` (read once)."""
    return load_thresholds(DATA_DIR / "prd_zones.json")
