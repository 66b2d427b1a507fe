"""msgspec schemas of the messages exchanged with partners.

Every message carries, in its AMQP properties, a stable ``message_id``, a ``type``, a schema version
(header ``schema-version``), a ``timestamp`` and a ``correlation_id`` (the waybill number). Messages
with the national node are wrapped in a :class:`NodeEnvelope`; terminals speak UN/EDIFACT or JSON.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from tracking.schemas import PositionReport, PositionReports

__all__ = (
    "FilingAck",
    "NodeDocument",
    "NodeEnvelope",
    "PartnerKind",
    "PositionReport",
    "PositionReports",
    "PreAdvice",
)


class PartnerKind(StrEnum):
    """What a partner is."""

    TERMINAL = "terminal"
    CUSTOMS = "customs"
    NODE = "node"


class NodeDocument(StrEnum):
    """Document names of national-node messages."""

    WAYBILL = "EWAYBILL"
    """An e-waybill issued, amended or cancelled (ours → node)."""
    JOURNEY_STATUS = "JOURNEY_STATUS"
    """A waybill's journey status changed (ours → node)."""
    WAYBILL_ACK = "EWAYBILL_ACK"
    """The node accepted or rejected an e-waybill (node → ours)."""
    POSITIONS = "VEHICLE_POSITIONS"
    """GNSS positions of vehicles (node → ours)."""


class _CamelStruct(msgspec.Struct, kw_only=True, frozen=True, rename="camel"):
    """Partners' JSON uses camelCase names."""


class NodeEnvelope(_CamelStruct, frozen=True, forbid_unknown_fields=True):
    """The national logistics node's envelope: who sends what to whom, under a reference stable across retries."""

    sender_code: Annotated[str, Meta(min_length=1, max_length=32)]
    recipient_code: Annotated[str, Meta(min_length=1, max_length=32)]
    document_name: NodeDocument
    message_ref: uuid.UUID
    """GUID of the message; a message sent again keeps it, so it is applied once."""
    timestamp: Annotated[datetime, Meta(tz=True)]
    body: dict[str, Any]


class FilingAck(_CamelStruct, frozen=True, forbid_unknown_fields=True):
    """The node's answer to an e-waybill message."""

    waybill_number: Annotated[str, Meta(min_length=1, max_length=20)]
    accepted: bool
    in_reply_to: uuid.UUID
    """The message id of our e-waybill message."""
    reason: Annotated[str, Meta(max_length=500)] | None = None
    node_reference: Annotated[str, Meta(max_length=64)] | None = None


class PreAdvice(_CamelStruct, frozen=True):
    """Notice to a terminal that a trailer or container is on its way (JSON form of a COPARN pre-advice)."""

    waybill_number: str
    leg: int
    terminal_locode: str
    expected_arrival: datetime | None
    container_number: str | None = None
    trailer_plate: str | None = None
    vehicle_plate: str | None = None
    carrier_name: str | None = None
    shipper_reference: str | None = None
