"""Messages from terminals and customs: UN/EDIFACT mapped to journey events on the right waybill leg.

Each mapped event is matched to a waybill by, in turn, a waybill number among its references, its
container number, its trailer or vehicle plate, and its booking reference (the shipper's reference);
then to the leg that arrives at or leaves the event's place (or the partner's own place). Events are
recorded through the journey service as the partner's organisation, with the event's stable
``external_ref``, so the journey rules and the record's chain apply as to any other report.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.identifiers import WAYBILL_NUMBER_PATTERN
from integrations.consumer import Incoming, MalformedMessageError, NotYetKnownError, stable_message_id
from integrations.edifact import EdiEvent, EdiUnreadable, parse_events
from integrations.partners import PartnerInfo
from waybill.event_schemas import EventPlace, EventSource, EventType, TransportEventCreate
from waybill.events import record_events
from waybill.models import TransportLeg, Waybill
from waybill.schemas import Equipment, WaybillStatus

__all__ = ("TerminalHandler", "match_leg", "transport_event_of")

_ACTIVE = (WaybillStatus.ISSUED.value, WaybillStatus.IN_TRANSIT.value, WaybillStatus.DELIVERED.value)
_ARRIVING = frozenset({EventType.GATE_IN, EventType.DISCHARGED, EventType.ARRIVED, EventType.DROPPED})


_WAYBILL_NUMBER = re.compile(WAYBILL_NUMBER_PATTERN)


def _looks_like_waybill_number(value: str) -> bool:
    return _WAYBILL_NUMBER.match(value.strip().upper()) is not None


async def _waybill_ids_by(session: AsyncSession, event: EdiEvent) -> list[int]:
    """Active waybills the event may be about, most recent first, by the first identifier that finds any."""
    numbers = [v.strip().upper() for v in event.references.values() if _looks_like_waybill_number(v)]
    base = sa.select(col(Waybill.id)).where(col(Waybill.status).in_(_ACTIVE))
    queries = []
    if numbers:
        queries.append(base.where(col(Waybill.number).in_(numbers)))
    equipment = [
        (col(TransportLeg.container_number), event.container_number),
        (col(TransportLeg.trailer_plate), event.vehicle_plate),
        (col(TransportLeg.vehicle_plate), event.vehicle_plate),
    ]
    for column, value in equipment:
        if value:
            queries.append(
                base.join(TransportLeg, col(TransportLeg.waybill_id) == col(Waybill.id)).where(column == value)
            )
    booking = event.references.get("booking")
    if booking:
        queries.append(base.where(col(Waybill.shipper_reference) == booking))
    for query in queries:
        found = [i for i in await session.scalars(query.order_by(col(Waybill.created_at).desc()).limit(5)) if i]
        if found:
            return found
    return []


def _leg_for(legs: list[TransportLeg], event: EdiEvent, locode: str | None) -> int | None:
    """The leg arriving at (for arrivals) or leaving (otherwise) the place; else any leg touching it."""
    if locode is None:
        return None
    arriving = [leg.sequence for leg in legs if leg.to_locode == locode]
    leaving = [leg.sequence for leg in legs if leg.from_locode == locode]
    preferred, other = (arriving, leaving) if event.event_type in _ARRIVING else (leaving, arriving)
    candidates = preferred or other
    return candidates[0] if candidates else None


async def match_leg(session: AsyncSession, event: EdiEvent, *, partner_locode: str | None) -> tuple[str, int] | None:
    """The (waybill number, leg) an EDI event is about, or ``None`` if no active waybill matches."""
    for waybill_id in await _waybill_ids_by(session, event):
        legs = list(await session.scalars(sa.select(TransportLeg).where(col(TransportLeg.waybill_id) == waybill_id)))
        sequence = _leg_for(legs, event, event.locode) or _leg_for(legs, event, partner_locode)
        if sequence is not None:
            number = await session.scalar(sa.select(col(Waybill.number)).where(col(Waybill.id) == waybill_id))
            assert number is not None
            return number, sequence
    return None


def _external_ref(event: EdiEvent) -> str:
    ref = event.external_ref
    if len(ref) <= 100 and ref.isascii() and ref.isprintable() and " " not in ref:
        return ref
    return "edi:" + hashlib.sha256(ref.encode()).hexdigest()[:64]


def transport_event_of(event: EdiEvent, *, leg: int, partner_locode: str | None) -> TransportEventCreate | None:
    """The journey event an EDI event reports on ``leg`` (``None`` when it carries no time)."""
    if event.event_time is None:
        return None
    locode = event.locode or partner_locode
    return TransportEventCreate(
        event_type=EventType(event.event_type),
        event_time=event.event_time,
        leg=leg,
        classifier=event.classifier,
        place=EventPlace(locode=locode, name=event.place_name[:100] if event.place_name else None) if locode else None,
        equipment=Equipment(container_number=event.container_number) if event.container_number else None,
        source=EventSource.EDI,
        external_ref=_external_ref(event),
        remarks=f"{event.message_type} {event.message_ref}"[:500],
    )


class TerminalHandler:
    """Applies a terminal's (or customs office's) EDIFACT interchanges to waybills."""

    def __init__(self, partner: PartnerInfo) -> None:
        self.partner = partner
        self.consumer = f"edi:{partner.code}"

    def message_id(self, incoming: Incoming) -> str:
        """The AMQP message id, or the digest of the interchange (the same bytes are the same message)."""
        return stable_message_id(incoming)

    def decode(self, incoming: Incoming) -> list[EdiEvent]:
        """The events the interchange maps to."""
        try:
            result = parse_events(incoming.body)
        except EdiUnreadable as exc:
            raise MalformedMessageError(str(exc)) from None
        if not result.events:
            raise MalformedMessageError("the interchange maps to no journey event")
        return list(result.events)

    async def apply(self, session: AsyncSession, decoded: list[EdiEvent]) -> None:
        """Record every event whose waybill is known; park the message if none is."""
        by_waybill: dict[str, list[TransportEventCreate]] = defaultdict(list)
        unmatched: list[Any] = []
        for event in decoded:
            match = await match_leg(session, event, partner_locode=self.partner.locode)
            created = transport_event_of(event, leg=match[1], partner_locode=self.partner.locode) if match else None
            if match is None or created is None:
                unmatched.append(event)
                continue
            by_waybill[match[0]].append(created)
        if not by_waybill:
            first = decoded[0]
            what = first.container_number or first.vehicle_plate or first.equipment_ref or first.message_ref
            raise NotYetKnownError(f"no active waybill matches {what}")
        for number, events in by_waybill.items():
            await record_events(session, principal=self.partner.principal, number=number, events=events, batch=True)
