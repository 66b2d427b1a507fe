"""Tables of the e-waybill: the waybill, its versions, its legs, and the records of who did what."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import IntPK, JSONDocument, UTCDateTime, utcnow

__all__ = (
    "AccessLogEntry",
    "ChainLink",
    "DangerousShipment",
    "EventSubscription",
    "IdempotencyRecord",
    "SubscriptionDelivery",
    "TransportEvent",
    "TransportLeg",
    "Waybill",
    "WaybillChange",
    "WaybillVersion",
)


class Waybill(SQLModel, table=True):
    """The waybill header: identity, owner, state, and the columns that lists filter on.

    The goods part lives in ``WaybillVersion`` (one row per version); the legs in ``TransportLeg``.
    """

    __tablename__ = "waybill"
    __table_args__ = (
        sa.UniqueConstraint("shipper_id", "shipper_reference"),
        sa.Index("ix_waybill_shipper_listing", "shipper_id", "created_at", "id"),
        sa.Index("ix_waybill_listing", "created_at", "id"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    number: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, unique=True))
    shipper_id: uuid.UUID = Field(foreign_key="organisation.id")
    shipper_reference: str = Field(sa_type=sa.String(64))
    status: str = Field(sa_type=sa.String(16))
    version: int = 1
    pickup_division_code: str = Field(sa_type=sa.String(6))
    delivery_division_code: str = Field(sa_type=sa.String(6))
    pickup_locode: str | None = Field(default=None, sa_type=sa.String(5))
    delivery_locode: str | None = Field(default=None, sa_type=sa.String(5))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancellation_reason: str | None = Field(default=None, sa_type=sa.String(32))
    cancellation_note: str | None = Field(default=None, sa_type=sa.String(500))
    chain_length: int = 0
    """Links in the waybill's tamper-evident record (versions and events)."""
    chain_head: str | None = Field(default=None, sa_type=sa.String(64))
    """SHA-256 of the newest link, hex."""


class WaybillVersion(SQLModel, table=True):
    """One version of the goods part of a waybill, kept forever."""

    __tablename__ = "waybill_version"

    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), primary_key=True))
    version: int = Field(primary_key=True)
    document: dict[str, Any] = Field(sa_type=JSONDocument)
    reason: str | None = Field(default=None, sa_type=sa.String(500))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: uuid.UUID = Field(foreign_key="organisation.id")


class TransportLeg(SQLModel, table=True):
    """A planned or running leg of the journey; its carrier and equipment may change while it runs."""

    __tablename__ = "transport_leg"
    __table_args__ = (sa.UniqueConstraint("waybill_id", "sequence"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), nullable=False))
    sequence: int
    mode: str = Field(sa_type=sa.String(16))
    status: str = Field(default="planned", sa_type=sa.String(16))
    carrier_uscc: str | None = Field(default=None, sa_type=sa.String(18), index=True)
    carrier_name: str | None = Field(default=None, sa_type=sa.String(200))
    from_place: dict[str, Any] = Field(sa_type=JSONDocument)
    to_place: dict[str, Any] = Field(sa_type=JSONDocument)
    from_division_code: str = Field(sa_type=sa.String(6))
    to_division_code: str = Field(sa_type=sa.String(6))
    from_locode: str | None = Field(default=None, sa_type=sa.String(5))
    to_locode: str | None = Field(default=None, sa_type=sa.String(5))
    planned_departure: datetime | None = Field(default=None, sa_type=UTCDateTime)
    planned_arrival: datetime | None = Field(default=None, sa_type=UTCDateTime)
    vehicle_plate: str | None = Field(default=None, sa_type=sa.String(16), index=True)
    trailer_plate: str | None = Field(default=None, sa_type=sa.String(16), index=True)
    container_number: str | None = Field(default=None, sa_type=sa.String(11), index=True)
    """Plates and container are indexed: partners' messages and authorities look legs up by them."""
    rail_wagon: str | None = Field(default=None, sa_type=sa.String(20))
    vessel_name: str | None = Field(default=None, sa_type=sa.String(100))
    voyage: str | None = Field(default=None, sa_type=sa.String(20))
    unaccompanied: bool = False
    """The trailer or container travels without its tractor (ro-ro vessel, rail wagon)."""
    driver_name: str | None = Field(default=None, sa_type=sa.String(50))
    driver_phone: str | None = Field(default=None, sa_type=sa.String(20))
    driver_certificate: str | None = Field(default=None, sa_type=sa.String(40))
    escort_name: str | None = Field(default=None, sa_type=sa.String(50))
    escort_phone: str | None = Field(default=None, sa_type=sa.String(20))
    escort_certificate: str | None = Field(default=None, sa_type=sa.String(40))
    planned_route: list[list[float]] | None = Field(default=None, sa_type=JSONDocument, nullable=True)
    """The road the leg should take, as ``[latitude, longitude]`` points; the monitoring corridor."""
    """Driver and escort (押运员) carry their qualification certificate numbers on dangerous-goods legs."""
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WaybillChange(SQLModel, table=True):
    """Audit trail: every change to a waybill, who made it and when."""

    __tablename__ = "waybill_change"
    __table_args__ = (sa.Index("ix_waybill_change_waybill", "waybill_id", "id"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), nullable=False))
    action: str = Field(sa_type=sa.String(32))
    version: int | None = None
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_key.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)


class AccessLogEntry(SQLModel, table=True):
    """A read of a waybill by an authority (regulator), with the reason it gave."""

    __tablename__ = "waybill_access_log"
    __table_args__ = (sa.Index("ix_waybill_access_log_waybill", "waybill_id", "id"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), nullable=False))
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_key.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    action: str = Field(sa_type=sa.String(32))
    reason: str | None = Field(default=None, sa_type=sa.String(500))
    request: str = Field(default="", sa_type=sa.String(500))


class IdempotencyRecord(SQLModel, table=True):
    """The first request made with an ``Idempotency-Key``: its body digest and the resource it made."""

    __tablename__ = "idempotency_record"

    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", primary_key=True)
    operation: str = Field(sa_type=sa.String(40), primary_key=True)
    key: str = Field(sa_type=sa.String(255), primary_key=True)
    request_sha256: str = Field(sa_type=sa.String(64))
    resource: str = Field(sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TransportEvent(SQLModel, table=True):
    """A transport event reported on a waybill: never edited; a mistaken one is retracted by another."""

    __tablename__ = "transport_event"
    __table_args__ = (
        sa.Index("ix_transport_event_waybill_time", "waybill_id", "event_time", "id"),
        sa.UniqueConstraint("organisation_id", "external_ref"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    event_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid(), nullable=False, unique=True))
    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), nullable=False))
    leg_sequence: int | None = None
    category: str = Field(sa_type=sa.String(16))
    event_type: str = Field(sa_type=sa.String(24))
    classifier: str = Field(sa_type=sa.String(10))
    event_time: datetime = Field(sa_type=UTCDateTime)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    place: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    locode: str | None = Field(default=None, sa_type=sa.String(5))
    equipment: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    source: str = Field(sa_type=sa.String(8))
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    api_key_id: uuid.UUID | None = Field(default=None, foreign_key="api_key.id")
    external_ref: str | None = Field(default=None, sa_type=sa.String(100))
    """The reporter's own id of the event; a repeat with the same reference is not applied twice."""
    retracts_event_id: uuid.UUID | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)


class ChainLink(SQLModel, table=True):
    """One link of a waybill's tamper-evident record: a version or an event, hashed onto the previous link."""

    __tablename__ = "waybill_chain_link"

    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), primary_key=True))
    position: int = Field(primary_key=True)
    kind: str = Field(sa_type=sa.String(8))
    ref: str = Field(sa_type=sa.String(40))
    payload_sha256: str = Field(sa_type=sa.String(64))
    prev_hash: str | None = Field(default=None, sa_type=sa.String(64))
    hash: str = Field(sa_type=sa.String(64))
    signature: str = Field(sa_type=sa.String(128))
    """Ed25519 signature of ``hash`` by the platform key, hex."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EventSubscription(SQLModel, table=True):
    """A shipper's callback for a waybill's events; deliveries are signed with HMAC-SHA256."""

    __tablename__ = "event_subscription"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), nullable=False, index=True))
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id")
    callback_url: str = Field(sa_type=sa.String(500))
    secret: str = Field(sa_type=sa.String(64))
    previous_secret: str | None = Field(default=None, sa_type=sa.String(64))
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    event_types: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubscriptionDelivery(SQLModel, table=True):
    """One event to deliver to one subscription: attempts, backoff and outcome."""

    __tablename__ = "subscription_delivery"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_id"),
        sa.Index("ix_subscription_delivery_due", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    subscription_id: uuid.UUID = Field(foreign_key="event_subscription.id")
    event_id: uuid.UUID
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    """The JSON body to POST, fixed when the event is recorded."""
    status: str = Field(default="pending", sa_type=sa.String(12))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=sa.String(500))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DangerousShipment(SQLModel, table=True):
    """The regulator's index of waybills carrying dangerous goods: one row per waybill, kept in step with it.

    Lists and filters of the monitoring view read this table instead of every waybill's document;
    the waybill's status is read from ``waybill`` when listing.
    """

    __tablename__ = "dg_shipment"

    waybill_id: int = Field(sa_column=sa.Column(IntPK, sa.ForeignKey("waybill.id"), primary_key=True))
    number: str = Field(sa_column=sa.Column(sa.String(20), nullable=False, unique=True))
    hazard_classes: str = Field(sa_type=sa.String(200))
    """The load's ADR classes between bars, e.g. ``|3|8|``, so that one class is found with LIKE."""
    un_numbers: str = Field(sa_type=sa.String(1000))
    """The load's UN numbers between bars, e.g. ``|1203|1830|``."""
    goods: str = Field(sa_type=sa.String(500))
    """The proper shipping names, for display."""
    points: float
    tunnel_code: str | None = Field(default=None, sa_type=sa.String(16))
    carrier_uscc: str | None = Field(default=None, sa_type=sa.String(18), index=True)
    carrier_name: str | None = Field(default=None, sa_type=sa.String(200))
    vehicle_plate: str | None = Field(default=None, sa_type=sa.String(16), index=True)
    driver_name: str | None = Field(default=None, sa_type=sa.String(50))
    escort_name: str | None = Field(default=None, sa_type=sa.String(50))
    from_city: str = Field(sa_type=sa.String(6), index=True)
    """The pickup's city (its division code with ``00`` for the district)."""
    to_city: str = Field(sa_type=sa.String(6), index=True)
    from_name: str = Field(sa_type=sa.String(200))
    to_name: str = Field(sa_type=sa.String(200))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
