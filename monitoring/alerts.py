"""What the rule engine reads (a shipment's context, a vehicle's fixes) and what it returns (alerts)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Protocol

import msgspec
from msgspec import Meta

from dangerous_goods.rules import Carriage, tunnel_codes
from monitoring.config import TunnelCategory
from monitoring.geo import LatLon

__all__ = (
    "Alert",
    "AlertKind",
    "Fix",
    "PositionFix",
    "Severity",
    "ShipmentContext",
    "dedupe_key",
)


class AlertKind(StrEnum):
    """What an alert is about."""

    SPEEDING = "speeding"
    NO_SIGNAL = "no_signal"
    STATIONARY = "stationary"
    OFF_CORRIDOR = "off_corridor"
    RESTRICTED_ZONE = "restricted_zone"
    DRIVING_TIME = "driving_time"
    NO_WAYBILL = "no_waybill"


class Severity(StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Fix(Protocol):
    """A GNSS fix as the rules read it; ``tracking.models.VehiclePosition`` and ``PositionFix`` qualify."""

    @property
    def recorded_at(self) -> datetime: ...
    @property
    def latitude(self) -> float: ...
    @property
    def longitude(self) -> float: ...
    @property
    def speed_kmh(self) -> float | None: ...


class PositionFix(msgspec.Struct, kw_only=True, frozen=True):
    """A plain fix, for callers and tests without a database row."""

    recorded_at: datetime
    latitude: float
    longitude: float
    speed_kmh: float | None = None


class ShipmentContext(msgspec.Struct, kw_only=True, frozen=True):
    """What the platform knows of a vehicle's current trip.

    The forbidden tunnel categories are either given (``forbidden_tunnel_categories``) or worked out
    from the load's tunnel restriction code, carriage and net explosive mass (ADR 8.6.4).
    """

    plate: str
    waybill_number: str | None = None
    """The active dangerous-goods waybill; ``None`` when the vehicle has none."""
    dangerous_goods: bool = True
    """Dangerous goods are flagged on the vehicle."""
    in_transit: bool = True
    tunnel_restriction_code: str | None = None
    """The load's code (``"D/E"``), as ``dangerous_goods.assessment.Assessment.tunnel_restriction_code``."""
    carriage: Carriage = "packages"
    net_explosive_mass_kg: Annotated[float, Meta(ge=0)] = 0.0
    """Class 1 only: decides codes B1000C and C5000D."""
    forbidden_tunnel_categories: tuple[TunnelCategory, ...] | None = None
    """Given directly, this wins over the code."""
    planned_places: tuple[LatLon, ...] = ()
    """Where the vehicle is expected to stop: loading, unloading, rest areas, yards."""
    corridor: tuple[LatLon, ...] = ()
    """The planned route as a polyline; empty when none is planned."""

    def __post_init__(self) -> None:
        code = self.tunnel_restriction_code
        if code is not None and code not in tunnel_codes().codes:
            raise ValueError(f"unknown tunnel restriction code {code!r}")

    def forbidden_categories(self) -> frozenset[str]:
        """The tunnel categories this load may not enter (none when it carries no dangerous goods)."""
        if not self.dangerous_goods:
            return frozenset()
        if self.forbidden_tunnel_categories is not None:
            return frozenset(self.forbidden_tunnel_categories)
        if self.tunnel_restriction_code is None:
            return frozenset()
        rule = tunnel_codes().codes[self.tunnel_restriction_code]
        return frozenset(
            rule.forbidden_categories(carriage=self.carriage, net_explosive_mass_kg=self.net_explosive_mass_kg)
        )


class Alert(msgspec.Struct, kw_only=True, frozen=True):
    """One episode of a rule broken by a vehicle."""

    kind: AlertKind
    severity: Severity
    plate: str
    waybill_number: str | None
    started_at: datetime
    """When the episode began (each rule says which fix that is)."""
    ended_at: datetime | None
    """When it was last seen, if a later fix shows it over; ``None`` while it lasts to the end of the track."""
    observed: float | str | None
    threshold: float | str | None
    unit: str | None
    """Of ``observed`` and ``threshold``: ``km/h``, ``min``, ``km``, ``h``; ``None`` for categories."""
    position: LatLon
    """Where the vehicle was at ``started_at``."""
    zone: str | None = None
    """The restricted zone, for ``restricted_zone``."""
    message: str
    """In English."""
    message_key: str
    """Translation key, ``alert.<kind>``; ``message_params`` fill it."""
    message_params: dict[str, str | float]
    dedupe_key: str
    """Stable for the same episode: the same track evaluated again gives the same key."""


def dedupe_key(kind: AlertKind, plate: str, waybill_number: str | None, started_at: datetime, zone: str | None) -> str:
    """``kind|plate|waybill|start (UTC)``, plus ``|zone`` for restricted zones."""
    parts = [kind.value, plate, waybill_number or "-", started_at.astimezone(UTC).isoformat()]
    if zone is not None:
        parts.append(zone)
    return "|".join(parts)
