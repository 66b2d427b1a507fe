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
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.identifiers import WAYBILL_NUMBER_PATTERN
from integrations.consumer import Incoming, MalformedMessageError, stable_message_id
from integrations.edifact import EdiEvent, EdiUnreadable, parse_events
from integrations.partners import PartnerInfo
from waybill.event_schemas import EventPlace, EventSource, EventType, TransportEventCreate
from waybill.events import record_events_many
from waybill.models import TransportLeg, Waybill
from waybill.schemas import Equipment, WaybillStatus

__all__ = ("TerminalHandler", "match_leg", "transport_event_of")

_ACTIVE = (WaybillStatus.ISSUED.value, WaybillStatus.IN_TRANSIT.value, WaybillStatus.DELIVERED.value)
_ARRIVING = frozenset({EventType.GATE_IN, EventType.DISCHARGED, EventType.ARRIVED, EventType.DROPPED})


_WAYBILL_NUMBER = re.compile(WAYBILL_NUMBER_PATTERN)


def _looks_like_waybill_number(value: str) -> bool:
    return _WAYBILL_NUMBER.match(value.strip().upper()) is not None


class _LegRow(msgspec.Struct, frozen=True):
    waybill_id: int
    number: str
    shipper_reference: str
    created_at: datetime
    sequence: int
    from_locode: str | None
    to_locode: str | None
    container_number: str | None
    trailer_plate: str | None
    vehicle_plate: str | None


class _Candidates:
    """Active waybills a batch of EDI events may be about, found in one query and indexed in memory."""

    def __init__(self, rows: list[_LegRow]) -> None:
        self.legs: dict[int, list[_LegRow]] = defaultdict(list)
        self.by: dict[str, dict[str, list[int]]] = {
            kind: defaultdict(list) for kind in ("number", "container", "trailer", "vehicle", "booking")
        }
        for row in sorted(rows, key=lambda r: (r.created_at, r.waybill_id), reverse=True):
            first_leg = not self.legs[row.waybill_id]
            self.legs[row.waybill_id].append(row)
            keys = {"container": row.container_number, "trailer": row.trailer_plate, "vehicle": row.vehicle_plate}
            if first_leg:
                keys |= {"number": row.number, "booking": row.shipper_reference}
            for kind, value in keys.items():
                if value and row.waybill_id not in self.by[kind][value]:
                    self.by[kind][value].append(row.waybill_id)

    def waybills_for(self, event: EdiEvent) -> list[int]:
        """Most recent first, by the first identifier that finds any (waybill number, container, plates, booking)."""
        numbers = [v.strip().upper() for v in event.references.values() if _looks_like_waybill_number(v)]
        lookups = [("number", n) for n in numbers] + [
            ("container", event.container_number),
            ("trailer", event.vehicle_plate),
            ("vehicle", event.vehicle_plate),
            ("booking", event.references.get("booking")),
        ]
        for kind, value in lookups:
            found = self.by[kind].get(value, []) if value else []
            if found:
                return found[:5]
        return []


async def _find_candidates(session: AsyncSession, events: list[EdiEvent]) -> _Candidates:
    numbers = {v.strip().upper() for e in events for v in e.references.values() if _looks_like_waybill_number(v)}
    containers = {e.container_number for e in events if e.container_number}
    plates = {e.vehicle_plate for e in events if e.vehicle_plate}
    bookings = {e.references["booking"] for e in events if e.references.get("booking")}
    leg = TransportLeg
    criteria = [
        col(Waybill.number).in_(numbers),
        col(leg.container_number).in_(containers),
        col(leg.trailer_plate).in_(plates),
        col(leg.vehicle_plate).in_(plates),
        col(Waybill.shipper_reference).in_(bookings),
    ]
    matched = (
        sa.select(col(Waybill.id))
        .join(leg, col(leg.waybill_id) == col(Waybill.id))
        .where(col(Waybill.status).in_(_ACTIVE), sa.or_(*criteria))
    )
    columns: list[Any] = [
        col(Waybill.id).label("waybill_id"),
        col(Waybill.number),
        col(Waybill.shipper_reference),
        col(Waybill.created_at),
        col(leg.sequence),
        col(leg.from_locode),
        col(leg.to_locode),
        col(leg.container_number),
        col(leg.trailer_plate),
        col(leg.vehicle_plate),
    ]
    query = (
        sa.select(*columns)
        .join(leg, col(leg.waybill_id) == col(Waybill.id))
        .where(col(Waybill.id).in_(matched))
        .order_by(col(leg.sequence))
    )
    return _Candidates([_LegRow(**row._asdict()) for row in (await session.execute(query)).all()])


def _leg_for(legs: list[_LegRow], event: EdiEvent, locode: str | None) -> int | None:
    """The leg arriving at (for arrivals) or leaving (otherwise) the place; else any leg touching it."""
    if locode is None:
        return None
    arriving = [leg.sequence for leg in legs if leg.to_locode == locode]
    leaving = [leg.sequence for leg in legs if leg.from_locode == locode]
    preferred, other = (arriving, leaving) if event.event_type in _ARRIVING else (leaving, arriving)
    candidates = preferred or other
    return candidates[0] if candidates else None


def match_leg(candidates: _Candidates, event: EdiEvent, *, partner_locode: str | None) -> tuple[str, int] | None:
    """The (waybill number, leg) an EDI event is about, or ``None`` if no active waybill matches."""
    for waybill_id in candidates.waybills_for(event):
        legs = sorted(candidates.legs[waybill_id], key=lambda leg: leg.sequence)
        sequence = _leg_for(legs, event, event.locode) or _leg_for(legs, event, partner_locode)
        if sequence is not None:
            return legs[0].number, sequence
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

    async def apply_many(self, session: AsyncSession, decoded: list[list[EdiEvent]]) -> dict[int, str]:
        """Record every event whose waybill is known, all waybills of the batch together.

        A message none of whose events matches an active waybill is parked; events of a message that
        do not match are left out (a bayplan lists many boxes that are not ours).
        """
        candidates = await _find_candidates(session, [event for events in decoded for event in events])
        by_waybill: dict[str, list[TransportEventCreate]] = defaultdict(list)
        parked: dict[int, str] = {}
        for index, events in enumerate(decoded):
            matched = [
                (match[0], created)
                for event in events
                if (match := match_leg(candidates, event, partner_locode=self.partner.locode)) is not None
                and (created := transport_event_of(event, leg=match[1], partner_locode=self.partner.locode))
            ]
            if not matched:
                parked[index] = f"no active waybill matches {_what(events[0])}"
            for number, created in matched:
                by_waybill[number].append(created)
        await record_events_many(session, principal=self.partner.principal, events_by_number=by_waybill)
        return parked


def _what(event: EdiEvent) -> str:
    return event.container_number or event.vehicle_plate or event.equipment_ref or event.message_ref
