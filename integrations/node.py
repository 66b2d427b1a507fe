"""Messages from the national logistics node: e-waybill acknowledgements and vehicle positions."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import utcnow
from integrations.consumer import Incoming, MalformedMessageError, NotYetKnownError, stable_message_id
from integrations.models import VehiclePosition
from integrations.partners import PartnerInfo
from integrations.schemas import FilingAck, NodeDocument, NodeEnvelope, PositionReports
from waybill.models import Waybill, WaybillChange

__all__ = ("NodeHandler", "store_positions")

_INBOUND_DOCUMENTS = frozenset({NodeDocument.WAYBILL_ACK, NodeDocument.POSITIONS})


class _Reference(msgspec.Struct, rename="camel"):
    message_ref: str | None = None


_reference_decoder = msgspec.json.Decoder(_Reference)
_envelope_decoder = msgspec.json.Decoder(NodeEnvelope)


async def store_positions(session: AsyncSession, reports: PositionReports, *, source: str) -> int:
    """Insert positions, skipping one already stored for the same vehicle and time; returns how many were new."""
    now = utcnow()
    rows = [
        {
            "plate": p.plate,
            "recorded_at": p.time,
            "latitude": p.lat,
            "longitude": p.lon,
            "speed_kmh": p.speed,
            "heading": p.heading,
            "source": source,
            "received_at": now,
        }
        for p in reports.positions
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(insert(VehiclePosition).values(rows).on_conflict_do_nothing())
    return int(getattr(result, "rowcount", 0) or 0)


class NodeHandler:
    """Applies the node's envelopes; a duplicate message reference is acknowledged, not applied again."""

    def __init__(self, partner: PartnerInfo) -> None:
        self.partner = partner
        self.consumer = f"node:{partner.code}"

    def message_id(self, incoming: Incoming) -> str:
        """The envelope's message reference (stable across the node's retries)."""
        try:
            reference = _reference_decoder.decode(incoming.body).message_ref
        except (msgspec.DecodeError, msgspec.ValidationError):
            reference = None
        return reference[:100] if reference else stable_message_id(incoming)

    def decode(self, incoming: Incoming) -> tuple[NodeEnvelope, Any]:
        """The envelope and its typed body."""
        try:
            envelope = _envelope_decoder.decode(incoming.body)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedMessageError(f"not a node envelope: {exc}") from None
        if envelope.document_name not in _INBOUND_DOCUMENTS:
            raise MalformedMessageError(f"the node does not send {envelope.document_name.value} documents")
        body_type = FilingAck if envelope.document_name is NodeDocument.WAYBILL_ACK else PositionReports
        try:
            body = msgspec.convert(envelope.body, body_type)
        except msgspec.ValidationError as exc:
            raise MalformedMessageError(f"{envelope.document_name.value} body: {exc}") from None
        return envelope, body

    async def apply(self, session: AsyncSession, decoded: tuple[NodeEnvelope, Any]) -> None:
        """Store positions, or record the node's verdict on an e-waybill in the waybill's change log."""
        envelope, body = decoded
        if isinstance(body, PositionReports):
            await store_positions(session, body, source=self.partner.code)
            return
        assert isinstance(body, FilingAck)
        waybill_id = await session.scalar(sa.select(col(Waybill.id)).where(col(Waybill.number) == body.waybill_number))
        if waybill_id is None:
            raise NotYetKnownError(f"waybill {body.waybill_number} is not known")
        session.add(
            WaybillChange(
                waybill_id=waybill_id,
                action="node_accepted" if body.accepted else "node_rejected",
                organisation_id=self.partner.principal.organisation_id,
                at=envelope.timestamp,
                detail={
                    "message_ref": str(envelope.message_ref),
                    "in_reply_to": str(body.in_reply_to),
                    "node_reference": body.node_reference,
                    "reason": body.reason,
                },
            )
        )
