"""Messages from the national logistics node: e-waybill acknowledgements and vehicle positions."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from integrations.consumer import Incoming, MalformedMessageError, stable_message_id
from integrations.partners import PartnerInfo
from integrations.schemas import FilingAck, NodeDocument, NodeEnvelope, PositionReports
from tracking.service import store_positions
from waybill.models import Waybill, WaybillChange

__all__ = ("NodeHandler",)

_INBOUND_DOCUMENTS = frozenset({NodeDocument.WAYBILL_ACK, NodeDocument.POSITIONS})


class _Reference(msgspec.Struct, rename="camel"):
    message_ref: str | None = None


_reference_decoder = msgspec.json.Decoder(_Reference)
_envelope_decoder = msgspec.json.Decoder(NodeEnvelope)


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

    async def apply_many(self, session: AsyncSession, decoded: list[tuple[NodeEnvelope, Any]]) -> dict[int, str]:
        """Store all positions in one statement, and record the node's verdicts in the waybills' change logs.

        An acknowledgement of a waybill not known yet is parked.
        """
        positions = [p for _, body in decoded if isinstance(body, PositionReports) for p in body.positions]
        await store_positions(session, positions, source=self.partner.code)
        acks = [(i, envelope, body) for i, (envelope, body) in enumerate(decoded) if isinstance(body, FilingAck)]
        if not acks:
            return {}
        numbers = {body.waybill_number for _, _, body in acks}
        query = sa.select(col(Waybill.number), col(Waybill.id)).where(col(Waybill.number).in_(numbers))
        known = {number: int(waybill_id or 0) for number, waybill_id in (await session.execute(query)).all()}
        parked = {
            i: f"waybill {body.waybill_number} is not known" for i, _, body in acks if body.waybill_number not in known
        }
        rows = [
            self._change_row(known[body.waybill_number], envelope, body)
            for i, envelope, body in acks
            if i not in parked
        ]
        if rows:
            await session.execute(sa.insert(WaybillChange), rows)
        return parked

    def _change_row(self, waybill_id: int, envelope: NodeEnvelope, ack: FilingAck) -> dict[str, Any]:
        return {
            "waybill_id": waybill_id,
            "action": "node_accepted" if ack.accepted else "node_rejected",
            "version": None,
            "organisation_id": self.partner.principal.organisation_id,
            "api_key_id": None,
            "at": envelope.timestamp,
            "detail": {
                "message_ref": str(envelope.message_ref),
                "in_reply_to": str(ack.in_reply_to),
                "node_reference": ack.node_reference,
                "reason": ack.reason,
            },
        }
