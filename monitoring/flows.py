"""The monitoring job: evaluate the stored positions of each vehicle against the rules and record the alerts.

One run looks at every vehicle that reported recently and at every dangerous-goods road leg under way
(so that "no position for more than 5 minutes" fires without new fixes). For each vehicle it finds its
active dangerous-goods waybill leg, builds the ``ShipmentContext`` from the leg, the waybill's current
document and the dangerous-goods registry, runs ``monitoring.rules.evaluate`` on the fixes of the
window the rules need, and records the alerts with the carrier's organisation id. Lookups are
set-based: a handful of queries a run whatever the number of vehicles.

The corridor is the leg's planned route (``transport_leg.planned_route``, given by the shipper or the
carrier), else its straight line from → to; a caller may pass routes it knows better
(``planned_routes``, by waybill number). A leg still
planned (not departed) is not "in transit": only speeding, restricted zones and driving time apply.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation
from accounts.schemas import OrganisationRole
from core.db import utcnow
from dangerous_goods.assessment import Assessment
from dangerous_goods.registry_models import DgVehicle
from dangerous_goods.rules import Carriage
from monitoring.alerts import Alert, ShipmentContext
from monitoring.config import AlertThresholds, prd_thresholds
from monitoring.geo import LatLon
from monitoring.rules import evaluate
from monitoring.service import record_alerts
from tracking.models import VehiclePosition
from waybill.models import TransportLeg, Waybill, WaybillVersion
from waybill.rules.dangerous_goods import assess_cargo
from waybill.schemas import LegStatus, TransportMode, WaybillDocument, WaybillStatus

__all__ = (
    "RECENT",
    "WINDOW",
    "ActiveLeg",
    "MonitorRun",
    "carriage_of",
    "monitor_positions",
    "shipment_context",
)

_log = structlog.get_logger("monitoring.flows")

WINDOW = timedelta(hours=4, minutes=30)
"""Fixes read per vehicle: the driving-time rule needs 4 h of driving plus the 20-minute break before it."""
RECENT = timedelta(minutes=15)
"""A vehicle that reported within this is evaluated even without a dangerous-goods leg (the no-waybill rule)."""
_PLATES_PER_QUERY = 500
_ACTIVE_WAYBILL_STATUSES = (WaybillStatus.ISSUED.value, WaybillStatus.IN_TRANSIT.value)
# UN/ECE Recommendation 21 codes of tanks and of bulk: they decide the carriage of ADR 8.6.4's tunnel codes.
_TANK_PACKAGE_TYPES = frozenset({"TK", "VL", "VQ"})
_BULK_PACKAGE_TYPES = frozenset({"VO", "VR", "VS", "VY"})


class MonitorRun(msgspec.Struct, kw_only=True, frozen=True):
    """What one run did."""

    vehicles: int
    """Vehicles evaluated."""
    alerts: int
    """Alerts the rules returned (an episode still going on counts again each run)."""
    opened: int
    updated: int


class ActiveLeg(msgspec.Struct, kw_only=True, frozen=True):
    """A vehicle's current dangerous-goods road leg, with what the context needs of its waybill."""

    plate: str
    waybill_number: str
    under_way: bool
    carrier_uscc: str | None
    from_place: LatLon | None
    to_place: LatLon | None
    pickup: LatLon
    delivery: LatLon
    assessment: Assessment
    carriage: Carriage
    planned_route: tuple[LatLon, ...] = ()
    """The leg's stored planned route (``transport_leg.planned_route``), empty when none was given."""


def carriage_of(document: WaybillDocument) -> Carriage:
    """How the dangerous goods travel, from their package types: a tank beats bulk beats packages."""
    types = {line.package_type for line in document.cargo if line.dangerous_goods is not None}
    if types & _TANK_PACKAGE_TYPES:
        return "tank"
    if types & _BULK_PACKAGE_TYPES:
        return "bulk"
    return "packages"


def _lat_lon(place: Mapping[str, Any]) -> LatLon | None:
    latitude, longitude = place.get("latitude"), place.get("longitude")
    if latitude is None or longitude is None:
        return None
    return (float(latitude), float(longitude))


def shipment_context(
    plate: str,
    leg: ActiveLeg | None,
    *,
    registered: bool,
    planned_route: Sequence[LatLon] | None = None,
) -> ShipmentContext:
    """The rules' view of a vehicle's trip: its active dangerous-goods leg, or none.

    Args:
        plate: the vehicle.
        leg: its active dangerous-goods road leg; ``None`` when it has none.
        registered: the plate is in a carrier's dangerous-goods registry.
        planned_route: a planned route the caller knows better; else the leg's stored route, else the
            leg's from → to.
    """
    if leg is None:
        return ShipmentContext(plate=plate, waybill_number=None, dangerous_goods=registered, in_transit=False)
    ends = tuple(p for p in (leg.from_place, leg.to_place) if p is not None)
    places = tuple(dict.fromkeys((*ends, leg.pickup, leg.delivery)))
    route = tuple(planned_route) if planned_route else leg.planned_route
    corridor = route if route else ends if len(ends) == 2 else ()
    return ShipmentContext(
        plate=plate,
        waybill_number=leg.waybill_number,
        dangerous_goods=True,
        in_transit=leg.under_way,
        tunnel_restriction_code=leg.assessment.tunnel_restriction_code,
        carriage=leg.carriage,
        net_explosive_mass_kg=leg.assessment.net_explosive_mass_kg,
        planned_places=places,
        corridor=corridor,
    )


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _PLATES_PER_QUERY):
        yield list(values[start : start + _PLATES_PER_QUERY])


def _recent_plates(*, since: datetime, until: datetime) -> sa.Select[str]:
    """The plates with a fix in ``(since, until]``, as a query."""
    return (
        sa.select(col(VehiclePosition.plate))
        .where(col(VehiclePosition.recorded_at) > since, col(VehiclePosition.recorded_at) <= until)
        .distinct()
    )


async def _active_legs(session: AsyncSession, recent: sa.Select[str]) -> dict[str, ActiveLeg]:
    """The active dangerous-goods road leg of each vehicle that reported recently or has a leg under way.

    Active: the waybill is issued or in transit and the leg is not completed. A vehicle with several
    such legs gets the one under way, else the one planned first.
    """
    condition = sa.or_(
        col(TransportLeg.status) == LegStatus.UNDER_WAY.value, col(TransportLeg.vehicle_plate).in_(recent)
    )
    query = (
        sa.select(TransportLeg, col(Waybill.number), col(WaybillVersion.document))
        .join(Waybill, col(Waybill.id) == col(TransportLeg.waybill_id))
        .join(
            WaybillVersion,
            sa.and_(
                col(WaybillVersion.waybill_id) == col(Waybill.id), col(WaybillVersion.version) == col(Waybill.version)
            ),
        )
        .where(
            col(TransportLeg.mode) == TransportMode.ROAD.value,
            col(TransportLeg.vehicle_plate).is_not(None),
            col(TransportLeg.status) != LegStatus.COMPLETED.value,
            col(Waybill.status).in_(_ACTIVE_WAYBILL_STATUSES),
            condition,
        )
        .order_by(col(TransportLeg.planned_departure), col(TransportLeg.id))
    )
    found: dict[str, ActiveLeg] = {}
    assessed: dict[str, tuple[WaybillDocument, Assessment] | None] = {}
    for leg, number, raw in await session.execute(query):
        if number not in assessed:
            assessed[number] = _dangerous_document(number, raw)
        dangerous = assessed[number]
        if dangerous is None or leg.vehicle_plate is None:
            continue
        under_way = leg.status == LegStatus.UNDER_WAY.value
        known = found.get(leg.vehicle_plate)
        if known is not None and (known.under_way or not under_way):
            continue
        document, assessment = dangerous
        found[leg.vehicle_plate] = ActiveLeg(
            plate=leg.vehicle_plate,
            waybill_number=number,
            under_way=under_way,
            carrier_uscc=leg.carrier_uscc,
            from_place=_lat_lon(leg.from_place),
            to_place=_lat_lon(leg.to_place),
            pickup=(document.pickup.latitude, document.pickup.longitude),
            delivery=(document.delivery.latitude, document.delivery.longitude),
            assessment=assessment,
            carriage=carriage_of(document),
            planned_route=tuple((lat, lon) for lat, lon in leg.planned_route or ()),
        )
    return found


def _dangerous_document(number: str, raw: dict[str, Any]) -> tuple[WaybillDocument, Assessment] | None:
    """The document and the assessment of its load, if it carries dangerous goods that pass ADR."""
    if not any(line.get("dangerous_goods") for line in raw.get("cargo", ())):
        return None
    try:
        document = msgspec.convert(raw, WaybillDocument)
    except msgspec.ValidationError as exc:  # a document stored under older rules: skip it, say so
        _log.warning("waybill_document_unreadable", waybill_number=number, error=str(exc))
        return None
    verdict = assess_cargo(document.cargo)
    # Issued waybills passed the assessment; one that no longer does (a changed table) is skipped, not guessed.
    return (document, verdict) if isinstance(verdict, Assessment) else None


async def _registered_carriers(session: AsyncSession, plates: Sequence[str]) -> dict[str, uuid.UUID]:
    """The carrier of each registered dangerous-goods vehicle among ``plates``."""
    carriers: dict[str, uuid.UUID] = {}
    for chunk in _chunks(plates):
        query = sa.select(col(DgVehicle.plate), col(DgVehicle.carrier_id)).where(col(DgVehicle.plate).in_(chunk))
        for plate, carrier_id in await session.execute(query):
            carriers.setdefault(plate, carrier_id)
    return carriers


async def _carrier_ids(session: AsyncSession, usccs: Iterable[str]) -> dict[str, uuid.UUID]:
    wanted = sorted(set(usccs))
    if not wanted:
        return {}
    query = sa.select(col(Organisation.uscc), col(Organisation.id)).where(
        col(Organisation.uscc).in_(wanted), col(Organisation.role) == OrganisationRole.CARRIER.value
    )
    return {uscc: org_id for uscc, org_id in await session.execute(query)}


async def _fixes(
    session: AsyncSession, plates: Sequence[str], *, since: datetime, until: datetime
) -> dict[str, list[VehiclePosition]]:
    by_plate: dict[str, list[VehiclePosition]] = defaultdict(list)
    for chunk in _chunks(plates):
        query = (
            sa.select(VehiclePosition)
            .where(
                col(VehiclePosition.plate).in_(chunk),
                col(VehiclePosition.recorded_at) >= since,
                col(VehiclePosition.recorded_at) <= until,
            )
            .order_by(col(VehiclePosition.plate), col(VehiclePosition.recorded_at))
        )
        for fix in await session.scalars(query):
            by_plate[fix.plate].append(fix)
    return by_plate


async def monitor_positions(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    thresholds: AlertThresholds | None = None,
    planned_routes: Mapping[str, Sequence[LatLon]] | None = None,
    recent: timedelta = RECENT,
    window: timedelta = WINDOW,
) -> MonitorRun:
    """Evaluate every vehicle that reported within ``recent`` or has a dangerous-goods leg under way.

    A vehicle with neither an active dangerous-goods leg nor a registry entry is left alone. The
    caller commits.

    Args:
        session: the database session.
        now: the evaluation time (default: the current time).
        thresholds: the rules' thresholds and zones (default: ``prd_thresholds()``).
        planned_routes: planned route polylines by waybill number, used as corridors where given.
        recent: how far back a fix makes a vehicle worth evaluating.
        window: how much of each vehicle's track the rules read.
    """
    at = now or utcnow()
    limits = thresholds or prd_thresholds()
    routes = planned_routes or {}
    recent_plates = _recent_plates(since=at - recent, until=at)
    plates = set(await session.scalars(recent_plates))
    legs = await _active_legs(session, recent_plates)
    candidates = sorted(plates | set(legs))
    registry = await _registered_carriers(session, candidates)
    watched = [plate for plate in candidates if plate in legs or plate in registry]
    if not watched:
        return MonitorRun(vehicles=0, alerts=0, opened=0, updated=0)
    carriers = await _carrier_ids(session, (leg.carrier_uscc for leg in legs.values() if leg.carrier_uscc))
    fixes = await _fixes(session, watched, since=at - window, until=at)
    by_carrier: dict[uuid.UUID | None, list[Alert]] = defaultdict(list)
    for plate in watched:
        leg = legs.get(plate)
        context = shipment_context(
            plate,
            leg,
            registered=plate in registry,
            planned_route=routes.get(leg.waybill_number) if leg is not None else None,
        )
        # The leg's carrier sees the alert; without one on the platform, the vehicle's registered carrier.
        carrier_id = carriers.get(leg.carrier_uscc) if leg is not None and leg.carrier_uscc else None
        carrier_id = carrier_id or registry.get(plate)
        by_carrier[carrier_id].extend(evaluate(context, fixes.get(plate, []), at, limits))
    opened = updated = total = 0
    for carrier_id, alerts in by_carrier.items():
        total += len(alerts)
        new, seen = await record_alerts(session, alerts, carrier_id=carrier_id)
        opened, updated = opened + new, updated + seen
    _log.info("vehicles_monitored", vehicles=len(watched), alerts=total, opened=opened, updated=updated)
    return MonitorRun(vehicles=len(watched), alerts=total, opened=opened, updated=updated)
