"""msgspec schemas of transport events, in the spirit of DCSA Track & Trace and UN/CEFACT.

An event has a classifier (planned, estimated, actual), a type, a time and a place, the equipment it
concerns, the leg it happened on and where it came from (API, EDI message, GNSS). Events are never
edited: a mistaken one is withdrawn by a ``retracted`` event that names it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

from core.types import AwareDatetime, InputStruct, Latitude, Longitude, Name, Note, OutputStruct, UnLocode
from waybill.schemas import CarrierRef, Equipment, LegStatus, OrganisationRef, TransportMode, WaybillStatus

__all__ = (
    "CATEGORY_OF",
    "CustomsDetails",
    "EventCategory",
    "EventClassifier",
    "EventPlace",
    "EventSource",
    "EventType",
    "Handover",
    "LegProgress",
    "NextStep",
    "ProofOfDelivery",
    "Timeline",
    "TransportEventBatch",
    "TransportEventCreate",
    "TransportEventList",
    "TransportEventRead",
)


class EventClassifier(StrEnum):
    """Whether an event is planned, estimated, or has actually happened."""

    PLANNED = "planned"
    ESTIMATED = "estimated"
    ACTUAL = "actual"


class EventCategory(StrEnum):
    """Family of an event type."""

    EQUIPMENT = "equipment"
    TRANSPORT = "transport"
    CUSTOMS = "customs"
    HANDOVER = "handover"
    EXCEPTION = "exception"
    DELIVERY = "delivery"
    RETRACTION = "retraction"


class EventType(StrEnum):
    """What happened."""

    GATE_IN = "gate_in"
    GATE_OUT = "gate_out"
    LOADED = "loaded"
    DISCHARGED = "discharged"
    PICKED_UP = "picked_up"
    DROPPED = "dropped"
    STUFFED = "stuffed"
    STRIPPED = "stripped"
    INSPECTED = "inspected"
    DEPARTED = "departed"
    ARRIVED = "arrived"
    CUSTOMS_LODGED = "customs_lodged"
    CUSTOMS_HELD = "customs_held"
    CUSTOMS_RELEASED = "customs_released"
    HANDOVER = "handover"
    DELAY = "delay"
    DAMAGE = "damage"
    REFUSED = "refused"
    LOST = "lost"
    DELIVERED = "delivered"
    RETRACTED = "retracted"


CATEGORY_OF: dict[EventType, EventCategory] = {
    **{
        t: EventCategory.EQUIPMENT
        for t in (
            EventType.GATE_IN,
            EventType.GATE_OUT,
            EventType.LOADED,
            EventType.DISCHARGED,
            EventType.PICKED_UP,
            EventType.DROPPED,
            EventType.STUFFED,
            EventType.STRIPPED,
            EventType.INSPECTED,
        )
    },
    EventType.DEPARTED: EventCategory.TRANSPORT,
    EventType.ARRIVED: EventCategory.TRANSPORT,
    EventType.CUSTOMS_LODGED: EventCategory.CUSTOMS,
    EventType.CUSTOMS_HELD: EventCategory.CUSTOMS,
    EventType.CUSTOMS_RELEASED: EventCategory.CUSTOMS,
    EventType.HANDOVER: EventCategory.HANDOVER,
    EventType.DELAY: EventCategory.EXCEPTION,
    EventType.DAMAGE: EventCategory.EXCEPTION,
    EventType.REFUSED: EventCategory.EXCEPTION,
    EventType.LOST: EventCategory.EXCEPTION,
    EventType.DELIVERED: EventCategory.DELIVERY,
    EventType.RETRACTED: EventCategory.RETRACTION,
}


class EventSource(StrEnum):
    """Where an event came from."""

    API = "api"
    EDI = "edi"
    GNSS = "gnss"


class EventPlace(InputStruct, frozen=True):
    """Where an event happened: a UN/LOCODE, coordinates, or both."""

    locode: UnLocode | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    name: Name | None = None

    def __post_init__(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude: give latitude and longitude together")
        if self.locode is None and self.latitude is None:
            raise ValueError("locode: give a UN/LOCODE or coordinates")


class ProofOfDelivery(InputStruct, frozen=True):
    """Who received the goods, when, and the evidence."""

    receiver_name: Name
    received_at: AwareDatetime
    signature_ref: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    photo_refs: Annotated[list[Annotated[str, Meta(min_length=1, max_length=200)]], Meta(max_length=10)] = (
        msgspec.field(default_factory=list)
    )

    def __post_init__(self) -> None:
        if self.signature_ref is None and not self.photo_refs:
            raise ValueError("signature_ref: a proof of delivery needs a signature or a photo reference")


class Handover(InputStruct, frozen=True):
    """Who takes the cargo over at the end of a leg."""

    to_carrier: CarrierRef | None = None
    to_party: Name | None = None
    """A terminal or yard taking custody, when not a carrier."""


class CustomsDetails(InputStruct, frozen=True):
    """Customs particulars of a customs event."""

    declaration_number: Annotated[str, Meta(pattern=r"^[0-9]{18}$")] | None = None
    reason: Note | None = None


class TransportEventCreate(InputStruct, frozen=True):
    """An event reported on a leg of a waybill."""

    event_type: EventType
    event_time: AwareDatetime
    leg: Annotated[int, Meta(ge=1, le=20)]
    classifier: EventClassifier = EventClassifier.ACTUAL
    place: EventPlace | None = None
    equipment: Equipment | None = None
    source: EventSource = EventSource.API
    external_ref: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[\x21-\x7e]+$")] | None = None
    """Your own id of the event: sending it again does not apply it twice."""
    retracts: uuid.UUID | None = None
    """For ``retracted``: the event withdrawn."""
    delay_minutes: Annotated[int, Meta(ge=1, le=30 * 24 * 60)] | None = None
    """For ``delay``: how late the leg will be."""
    proof_of_delivery: ProofOfDelivery | None = None
    handover: Handover | None = None
    customs: CustomsDetails | None = None
    remarks: Note | None = None

    def __post_init__(self) -> None:
        if (self.event_type is EventType.RETRACTED) != (self.retracts is not None):
            raise ValueError("retracts: a retracted event names the event it withdraws, and only it does")
        if self.event_type is EventType.DELAY and self.delay_minutes is None:
            raise ValueError("delay_minutes: a delay says how many minutes")
        actual_delivery = self.event_type is EventType.DELIVERED and self.classifier is EventClassifier.ACTUAL
        if actual_delivery and self.proof_of_delivery is None:
            raise ValueError("proof_of_delivery: an actual delivery needs a proof of delivery")
        if self.event_type is EventType.RETRACTED and self.classifier is not EventClassifier.ACTUAL:
            raise ValueError("classifier: a retraction is always actual")


class TransportEventBatch(InputStruct, frozen=True):
    """Several events of one waybill, applied together or not at all."""

    events: Annotated[list[TransportEventCreate], Meta(min_length=1, max_length=500)]


class TransportEventRead(OutputStruct, frozen=True):
    """A recorded event."""

    event_id: uuid.UUID
    leg: int | None
    category: EventCategory
    event_type: EventType
    classifier: EventClassifier
    event_time: datetime
    recorded_at: datetime
    place: EventPlace | None
    equipment: Equipment | None
    source: EventSource
    reported_by: OrganisationRef
    external_ref: str | None
    retracts: uuid.UUID | None
    retracted: bool
    delay_minutes: int | None = None
    proof_of_delivery: ProofOfDelivery | None = None
    handover: Handover | None = None
    customs: CustomsDetails | None = None
    remarks: str | None = None


class TransportEventList(OutputStruct, frozen=True):
    """Events recorded by one request."""

    number: str
    events: list[TransportEventRead]


class LegProgress(OutputStruct, frozen=True):
    """Where one leg stands."""

    sequence: int
    mode: TransportMode
    carrier: CarrierRef | None
    status: LegStatus
    from_place: str
    to_place: str
    planned_departure: datetime | None
    planned_arrival: datetime | None
    actual_departure: datetime | None
    actual_arrival: datetime | None
    handed_over_at: datetime | None
    expected_arrival: datetime | None
    delay_minutes: int
    equipment: Equipment


class NextStep(OutputStruct, frozen=True):
    """The next planned step of the journey."""

    leg: int
    event_type: EventType
    expected_at: datetime | None


class Timeline(OutputStruct, frozen=True):
    """One merged view of a waybill's journey, across every leg."""

    number: str
    status: WaybillStatus
    customs_hold: bool
    current_leg: int | None
    current_place: EventPlace | None
    current_equipment: Equipment | None
    estimated_arrival: datetime | None
    next_step: NextStep | None
    legs: list[LegProgress]
    events: list[TransportEventRead]
