"""msgspec schemas of authority look-ups by equipment and of a waybill's access log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.types import OutputStruct
from waybill.schemas import CarrierRef, Equipment, LegStatus, OrganisationRef, TransportMode, WaybillStatus

__all__ = (
    "AccessLog",
    "AccessLogEntryRead",
    "EquipmentKind",
    "EquipmentLookup",
    "EquipmentMatch",
    "MatchedLeg",
)


class EquipmentKind(StrEnum):
    """What an authority looks waybills up by."""

    VEHICLE_PLATE = "vehicle_plate"
    TRAILER_PLATE = "trailer_plate"
    CONTAINER_NUMBER = "container_number"


class MatchedLeg(OutputStruct, frozen=True):
    """A leg of a found waybill that carries the equipment asked for."""

    sequence: int
    mode: TransportMode
    status: LegStatus
    carrier: CarrierRef | None
    equipment: Equipment
    planned_departure: datetime | None
    planned_arrival: datetime | None


class EquipmentMatch(OutputStruct, frozen=True):
    """An active waybill found by its equipment."""

    number: str
    status: WaybillStatus
    shipper: OrganisationRef
    pickup_division_code: str
    delivery_division_code: str
    issued_at: datetime | None
    legs: list[MatchedLeg]


class EquipmentLookup(OutputStruct, frozen=True):
    """Active (issued or in transit) waybills whose legs carry the equipment, newest first."""

    kind: EquipmentKind
    value: str
    """The identifier as searched, normalised (e.g. spaces and dots removed from a plate)."""
    items: list[EquipmentMatch]
    truncated: bool
    """More waybills matched than were returned; narrow the search."""


class AccessLogEntryRead(OutputStruct, frozen=True):
    """One access to a waybill by an authority."""

    at: datetime
    by: OrganisationRef
    role: str
    action: str
    reason: str | None
    request: str
    """What was asked: the request line, or the look-up made."""


class AccessLog(OutputStruct, frozen=True):
    """Authority accesses to a waybill, newest first; pass ``next_before`` as ``before`` for more."""

    number: str
    entries: list[AccessLogEntryRead]
    next_before: int | None
