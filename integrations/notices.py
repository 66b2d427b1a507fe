"""What partners hear about a waybill: messages staged in the outbox by the waybill's own transaction.

- The national node hears of every issued, amended and cancelled e-waybill and of each journey status.
- A terminal hears in advance of each road leg arriving at it (pre-advice, EDIFACT COPARN or JSON).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.db import utc_builtins, utcnow
from core.settings import get_settings
from integrations.models import Partner
from integrations.outbox import stage_message
from integrations.schemas import NodeDocument, NodeEnvelope, PartnerKind, PreAdvice
from waybill.schemas import LegRead, TransportMode, WaybillRead

__all__ = ("notify_journey_status", "notify_waybill_change")

_NODE_ACTIONS = frozenset({"issued", "amended", "cancelled"})
_PREADVICE_ACTIONS = frozenset({"issued", "leg_updated"})


async def _partners(session: AsyncSession, *kinds: PartnerKind) -> list[Partner]:
    result = await session.scalars(
        sa.select(Partner).where(col(Partner.active).is_(True), col(Partner.kind).in_([k.value for k in kinds]))
    )
    return list(result)


def _envelope(document: NodeDocument, recipient: str, body: dict[str, object], message_id: uuid.UUID) -> bytes:
    envelope = NodeEnvelope(
        sender_code=get_settings().platform_code,
        recipient_code=recipient,
        document_name=document,
        message_ref=message_id,
        timestamp=utcnow(),
        body=body,
    )
    return msgspec.json.encode(utc_builtins(envelope))


def _stage_for_node(
    session: AsyncSession,
    node: Partner,
    document: NodeDocument,
    *,
    kind: str,
    number: str,
    body: dict[str, object],
) -> None:
    message_id = uuid.uuid4()
    stage_message(
        session,
        message_id=message_id,
        destination=node.code,
        message_type=kind,
        correlation_id=number,
        body=_envelope(document, node.name, body, message_id),
    )


def _arrives_at(leg: LegRead, terminals: dict[str, Partner]) -> Partner | None:
    if leg.mode is not TransportMode.ROAD or leg.to_place.locode is None:
        return None
    equipment = leg.equipment
    if equipment.container_number is None and equipment.trailer_plate is None:
        return None
    return terminals.get(leg.to_place.locode)


def pre_advice_of(waybill: WaybillRead, leg: LegRead) -> PreAdvice:
    """The pre-advice of ``leg`` arriving at its terminal."""
    assert leg.to_place.locode is not None
    return PreAdvice(
        waybill_number=waybill.number,
        leg=leg.sequence,
        terminal_locode=leg.to_place.locode,
        expected_arrival=leg.planned_arrival,
        container_number=leg.equipment.container_number,
        trailer_plate=leg.equipment.trailer_plate,
        vehicle_plate=leg.equipment.vehicle_plate,
        carrier_name=leg.carrier.name if leg.carrier else None,
        shipper_reference=waybill.shipper_reference,
    )


def _coparn(advice: PreAdvice, *, sender: str, recipient: str, reference: uuid.UUID) -> bytes | None:
    """The pre-advice as an EDIFACT COPARN, or ``None`` when it lacks what a COPARN needs (an arrival time)."""
    from integrations.edifact.writer import coparn_preadvice  # EDIFACT is loaded only where it is used

    if advice.expected_arrival is None:
        return None
    try:
        text = coparn_preadvice(
            sender=sender,
            recipient=recipient,
            interchange_ref=reference.hex[:14].upper(),
            message_ref=reference.hex[14:28].upper(),
            terminal_locode=advice.terminal_locode,
            expected_arrival=advice.expected_arrival,
            full=True,
            truck_plate=advice.vehicle_plate,
            container_number=advice.container_number,
            trailer_plate=None if advice.container_number else advice.trailer_plate,
            booking=advice.shipper_reference,
            waybill=advice.waybill_number,
        )
    except ValueError:
        return None
    return text.encode()


def _stage_pre_advice(session: AsyncSession, terminal: Partner, advice: PreAdvice) -> None:
    message_id = uuid.uuid4()
    body, content_type = None, "application/edifact"
    if terminal.message_format == "edifact":
        body = _coparn(advice, sender=get_settings().platform_code, recipient=terminal.code, reference=message_id)
    if body is None:
        body, content_type = msgspec.json.encode(utc_builtins(advice)), "application/json"
    stage_message(
        session,
        message_id=message_id,
        destination=terminal.code,
        message_type="preadvice",
        correlation_id=advice.waybill_number,
        body=body,
        content_type=content_type,
    )


async def notify_waybill_change(session: AsyncSession, waybill: WaybillRead, *, action: str) -> None:
    """Stage the messages partners must get about ``action`` (issued, amended, cancelled, leg_updated)."""
    if action == "cancelled" and waybill.issued_at is None:
        return  # a draft was never filed with the node
    partners = await _partners(session, PartnerKind.NODE, PartnerKind.TERMINAL)
    if action in _NODE_ACTIONS:
        body = {"action": action, "waybill": utc_builtins(waybill)}
        for node in (p for p in partners if p.kind == PartnerKind.NODE.value):
            _stage_for_node(
                session, node, NodeDocument.WAYBILL, kind=f"waybill.{action}", number=waybill.number, body=body
            )
    if action in _PREADVICE_ACTIONS:
        terminals = {p.locode: p for p in partners if p.kind == PartnerKind.TERMINAL.value and p.locode}
        for leg in waybill.legs:
            terminal = _arrives_at(leg, terminals)
            if terminal is not None:
                _stage_pre_advice(session, terminal, pre_advice_of(waybill, leg))


async def notify_journey_status(
    session: AsyncSession, *, number: str, status: str, previous: str, at: datetime
) -> None:
    """Stage a journey-status message for the national node."""
    body: dict[str, object] = {"waybillNumber": number, "status": status, "previousStatus": previous, "at": at}
    for node in await _partners(session, PartnerKind.NODE):
        _stage_for_node(
            session, node, NodeDocument.JOURNEY_STATUS, kind="journey.status", number=number, body=utc_builtins(body)
        )
