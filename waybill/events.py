"""Recording transport events on a waybill, and reading its timeline.

Events are appended, never edited. Each accepted event is checked against the journey rules
(``waybill.rules.journey``), and the legs' progress and the waybill's status are derived again from
all events, so that late and retracted events leave the journey as if they had arrived in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation, OrganisationPlace
from accounts.schemas import OrganisationRole, Principal
from core.db import utc_builtins, utcnow
from core.errors import ConflictError, ForbiddenError, InvalidStateError, NotFoundError, RuleViolationError
from integrations.notices import notify_journey_status
from waybill.chain import append_chain_link, event_payload
from waybill.event_schemas import (
    CATEGORY_OF,
    CustomsDetails,
    EventCategory,
    EventClassifier,
    EventPlace,
    EventSource,
    EventType,
    Handover,
    LegProgress,
    NextStep,
    ProofOfDelivery,
    Timeline,
    TransportEventCreate,
    TransportEventRead,
)
from waybill.models import EventSubscription, TransportEvent, TransportLeg, Waybill, WaybillChange
from waybill.rules.journey import (
    EventFacts,
    JourneyState,
    LegFacts,
    LegState,
    Refusal,
    Reporter,
    check_new_event,
    derive_journey,
)
from waybill.schemas import CarrierRef, Equipment, LegStatus, OrganisationRef, TransportMode, WaybillStatus
from waybill.service import (
    leg_equipment,
    legs_of,
    legs_of_many,
    load_waybill_for,
    load_waybill_for_reading,
    load_waybills_for,
)
from waybill.subscriptions import enqueue_deliveries

__all__ = ("get_timeline", "list_events", "record_events", "record_events_many")

_REPORTING_ROLES = frozenset({OrganisationRole.CARRIER, OrganisationRole.PORT, OrganisationRole.CUSTOMS})


EventRow = TransportEvent | sa.Row[Any]
"""A stored event: a new ORM object, or a plain row read back (same attribute names)."""

_EVENT_TABLE: sa.Table = TransportEvent.__table__  # type: ignore[attr-defined]


async def _events(session: AsyncSession, waybill_id: int) -> list[EventRow]:
    # Plain rows, not ORM objects: a waybill's events are only read here, and a timeline of a few
    # hundred events costs several times more through the identity map.
    result = await session.execute(
        sa.select(_EVENT_TABLE)
        .where(_EVENT_TABLE.c.waybill_id == waybill_id)
        .order_by(_EVENT_TABLE.c.event_time, _EVENT_TABLE.c.id)
    )
    return list(result.all())


def _leg_facts(leg: TransportLeg) -> LegFacts:
    return LegFacts(
        sequence=leg.sequence,
        carrier_uscc=leg.carrier_uscc,
        from_locode=leg.from_locode,
        to_locode=leg.to_locode,
        planned_departure=leg.planned_departure,
        planned_arrival=leg.planned_arrival,
    )


def _event_facts(event: EventRow) -> EventFacts:
    return EventFacts(
        event_id=event.event_id,
        leg=event.leg_sequence,
        event_type=EventType(event.event_type),
        classifier=EventClassifier(event.classifier),
        event_time=event.event_time,
        recorded_at=event.recorded_at,
        reporter_id=event.organisation_id,
        retracts=event.retracts_event_id,
        delay_minutes=event.details.get("delay_minutes"),
        place=event.place,
        equipment=event.equipment,
    )


async def has_active_subscriptions(session: AsyncSession, *, waybill_id: int) -> bool:
    """Whether anyone listens to this waybill's events (saves a query per event when nobody does)."""
    found = await session.scalar(
        sa.select(col(EventSubscription.id))
        .where(col(EventSubscription.waybill_id) == waybill_id, col(EventSubscription.active).is_(True))
        .limit(1)
    )
    return found is not None


async def _reporter(session: AsyncSession, principal: Principal) -> Reporter:
    places: frozenset[str] = frozenset()
    if principal.role in (OrganisationRole.PORT, OrganisationRole.CUSTOMS):
        rows = await session.scalars(
            sa.select(col(OrganisationPlace.locode)).where(
                col(OrganisationPlace.organisation_id) == principal.organisation_id
            )
        )
        places = frozenset(rows)
    return Reporter(organisation_id=principal.organisation_id, role=principal.role, uscc=principal.uscc, places=places)


def _raise(refusal: Refusal, prefix: str) -> None:
    field = f"{prefix}{refusal.field}" if refusal.field else (prefix.rstrip(".") or None)
    error_type = {"forbidden": ForbiddenError, "state": InvalidStateError, "rule": RuleViolationError}[refusal.kind]
    raise error_type(refusal.message, field=field)


def _details(event: TransportEventCreate) -> dict[str, Any]:
    details = {
        "delay_minutes": event.delay_minutes,
        "proof_of_delivery": event.proof_of_delivery,
        "handover": event.handover,
        "customs": event.customs,
        "remarks": event.remarks,
    }
    return dict(utc_builtins({k: v for k, v in details.items() if v is not None}))


def _new_row(event: TransportEventCreate, waybill: Waybill, principal: Principal, now: datetime) -> TransportEvent:
    assert waybill.id is not None
    place = utc_builtins(event.place) if event.place else {}
    return TransportEvent(
        event_id=uuid.uuid4(),
        waybill_id=waybill.id,
        leg_sequence=event.leg,
        category=CATEGORY_OF[event.event_type].value,
        event_type=event.event_type.value,
        classifier=event.classifier.value,
        event_time=event.event_time,
        recorded_at=now,
        place=place,
        locode=event.place.locode if event.place else None,
        equipment=utc_builtins(event.equipment) if event.equipment else {},
        source=event.source.value,
        organisation_id=principal.organisation_id,
        api_key_id=principal.api_key_id,
        external_ref=event.external_ref,
        retracts_event_id=event.retracts,
        details=_details(event),
    )


async def _earlier_reports(
    session: AsyncSession, principal: Principal, events: Iterable[TransportEventCreate]
) -> dict[str, TransportEvent]:
    """Events this organisation reported before under the request's external references (one query)."""
    refs = {event.external_ref for event in events if event.external_ref is not None}
    if not refs:
        return {}
    rows = await session.scalars(
        sa.select(TransportEvent).where(
            col(TransportEvent.organisation_id) == principal.organisation_id,
            col(TransportEvent.external_ref).in_(refs),
        )
    )
    return {row.external_ref: row for row in rows if row.external_ref is not None}


async def _events_of_many(session: AsyncSession, waybill_ids: Collection[int]) -> dict[int, list[EventRow]]:
    result = await session.execute(
        sa.select(_EVENT_TABLE)
        .where(_EVENT_TABLE.c.waybill_id.in_(list(waybill_ids)))
        .order_by(_EVENT_TABLE.c.event_time, _EVENT_TABLE.c.id)
    )
    events: dict[int, list[EventRow]] = {waybill_id: [] for waybill_id in waybill_ids}
    for row in result.all():
        events[row.waybill_id].append(row)
    return events


async def _subscribed_among(session: AsyncSession, waybill_ids: Collection[int]) -> set[int]:
    result = await session.scalars(
        sa.select(col(EventSubscription.waybill_id)).where(
            col(EventSubscription.waybill_id).in_(list(waybill_ids)), col(EventSubscription.active).is_(True)
        )
    )
    return set(result)


@dataclass
class _Journey:
    """What recording events on one waybill works from: its row (locked), legs, events so far."""

    waybill: Waybill
    legs: list[TransportLeg]
    rows: list[EventRow]
    subscribed: bool


async def _record_on(
    session: AsyncSession,
    principal: Principal,
    reporter: Reporter,
    journey: _Journey,
    events: list[TransportEventCreate],
    earlier_reports: dict[str, TransportEvent | EventRow],
    *,
    now: datetime,
    batch: bool,
) -> tuple[list[EventRow], list[EventFacts], int]:
    """Check and add ``events`` to one waybill and bring its journey up to date (not flushed).

    Returns the events as recorded (earlier reports of the same ``external_ref`` as they were), the
    facts of all its events, and how many were new.
    """
    waybill = journey.waybill
    assert waybill.id is not None
    facts = [_event_facts(row) for row in journey.rows]
    me = {principal.organisation_id: OrganisationRef(uscc=principal.uscc, name=principal.name)}
    recorded: list[EventRow] = []
    new = 0
    leg_facts = [_leg_facts(leg) for leg in journey.legs]
    # Rows are written in one flush after the loop, not before each query the loop makes.
    with session.no_autoflush:
        for index, event in enumerate(events):
            earlier = earlier_reports.get(event.external_ref) if event.external_ref else None
            if earlier is not None:
                if earlier.waybill_id != waybill.id:
                    ref = event.external_ref
                    raise ConflictError(f"external_ref {ref!r} was used on another waybill", field="external_ref")
                recorded.append(earlier)
                continue
            refusal = check_new_event(
                event,
                waybill_status=WaybillStatus(waybill.status),
                legs=leg_facts,
                events=facts,
                reporter=reporter,
                now=now,
            )
            if refusal is not None:
                _raise(refusal, f"events[{index}]." if batch else "")
            row = _new_row(event, waybill, principal, now)
            session.add(row)
            payload = event_payload(row, waybill_number=waybill.number, reporter_uscc=principal.uscc)
            await append_chain_link(session, waybill=waybill, kind="event", ref=str(row.event_id), payload=payload)
            if journey.subscribed:
                message = msgspec.to_builtins(_event_read(row, me, set()))
                await enqueue_deliveries(
                    session, waybill_id=waybill.id, event_id=row.event_id, event_type=row.event_type, payload=message
                )
            recorded.append(row)
            facts.append(_event_facts(row))
            if row.external_ref is not None:
                earlier_reports[row.external_ref] = row
            new += 1
    if new:
        previous_status = waybill.status
        legs = journey.legs
        state = derive_journey([_leg_facts(leg) for leg in legs], facts, base_status=WaybillStatus(waybill.status))
        _apply_journey(session, principal, waybill, legs, state, now)
        if waybill.status != previous_status:
            await notify_journey_status(
                session, number=waybill.number, status=waybill.status, previous=previous_status, at=now
            )
    return recorded, facts, new


async def record_events(
    session: AsyncSession,
    *,
    principal: Principal,
    number: str,
    events: list[TransportEventCreate],
    batch: bool = False,
    now: datetime | None = None,
) -> tuple[list[TransportEventRead], int]:
    """Check and record events on a waybill's legs, then bring the journey up to date.

    Returns the events (as recorded) and how many of them are new; an event whose ``external_ref``
    was recorded before is returned as it was and not applied again.

    Raises:
        ForbiddenError: the caller is not party to the leg, or may not report that type.
        InvalidStateError: the waybill takes no events (draft, cancelled, closed).
        RuleViolationError: an impossible event (future actual time, departure before the previous
            leg's handover or under customs hold, unknown leg, bad retraction).
    """
    now = now or utcnow()
    waybill = await load_waybill_for(session, principal=principal, number=number, for_update=True)
    if principal.role not in _REPORTING_ROLES:
        raise ForbiddenError("only carriers, ports and customs report transport events")
    assert waybill.id is not None
    journey = _Journey(
        waybill=waybill,
        legs=list(await legs_of(session, waybill.id)),
        rows=await _events(session, waybill.id),
        subscribed=await has_active_subscriptions(session, waybill_id=waybill.id),
    )
    reporter = await _reporter(session, principal)
    earlier_reports: dict[str, TransportEvent | EventRow] = dict(await _earlier_reports(session, principal, events))
    recorded, facts, new = await _record_on(
        session, principal, reporter, journey, events, earlier_reports, now=now, batch=batch
    )
    if new:
        await session.flush()
    me = {principal.organisation_id: OrganisationRef(uscc=principal.uscc, name=principal.name)}
    names = me if all(row.organisation_id == principal.organisation_id for row in recorded) else None
    names = names or await _reporter_names(session, recorded)
    withdrawn = {f.retracts for f in facts if f.retracts is not None}
    return [_event_read(row, names, withdrawn) for row in recorded], new


async def record_events_many(
    session: AsyncSession,
    *,
    principal: Principal,
    events_by_number: Mapping[str, list[TransportEventCreate]],
    now: datetime | None = None,
) -> int:
    """Record events on several waybills at once (a partner's batch of messages), with a few queries in all.

    Checks, idempotency by ``external_ref`` and effects are those of :func:`record_events`; the waybills
    are locked in id order. Returns how many events were new.

    Raises:
        NotFoundError: one of the waybills does not exist or the caller may not see it.
        ForbiddenError, InvalidStateError, RuleViolationError, ConflictError: as ``record_events``,
            for the first event refused; nothing is recorded then.
    """
    now = now or utcnow()
    if principal.role not in _REPORTING_ROLES:
        raise ForbiddenError("only carriers, ports and customs report transport events")
    if not events_by_number:
        return 0
    waybills = await load_waybills_for(session, principal=principal, numbers=events_by_number, for_update=True)
    missing = set(events_by_number) - {waybill.number for waybill in waybills}
    if missing:
        raise NotFoundError(f"waybill {min(missing)} not found")
    ids = [waybill.id for waybill in waybills if waybill.id is not None]
    legs = await legs_of_many(session, ids)
    rows = await _events_of_many(session, ids)
    subscribed = await _subscribed_among(session, ids)
    reporter = await _reporter(session, principal)
    every_event = [event for events in events_by_number.values() for event in events]
    earlier_reports: dict[str, TransportEvent | EventRow] = dict(
        await _earlier_reports(session, principal, every_event)
    )
    new = 0
    for waybill in waybills:
        assert waybill.id is not None
        journey = _Journey(
            waybill=waybill, legs=legs[waybill.id], rows=rows[waybill.id], subscribed=waybill.id in subscribed
        )
        events = events_by_number[waybill.number]
        _, _, added = await _record_on(
            session, principal, reporter, journey, events, earlier_reports, now=now, batch=False
        )
        new += added
    if new:
        await session.flush()
    return new


def _apply_journey(
    session: AsyncSession,
    principal: Principal,
    waybill: Waybill,
    legs: list[TransportLeg],
    journey: JourneyState,
    now: datetime,
) -> None:
    """Store what the events say: leg progress and the waybill's status (a change is audited)."""
    by_sequence = {state.sequence: state for state in journey.legs}
    for leg in legs:
        state = by_sequence[leg.sequence]
        if (leg.status, leg.started_at, leg.completed_at) != (
            state.status.value,
            state.actual_departure,
            state.handed_over_at,
        ):
            leg.status = state.status.value
            leg.started_at = state.actual_departure
            leg.completed_at = state.handed_over_at
            leg.updated_at = now
    if journey.status.value != waybill.status:
        assert waybill.id is not None
        session.add(
            WaybillChange(
                waybill_id=waybill.id,
                action="status_changed",
                version=waybill.version,
                organisation_id=principal.organisation_id,
                api_key_id=principal.api_key_id,
                at=now,
                detail={"from": waybill.status, "to": journey.status.value},
            )
        )
        waybill.status = journey.status.value
    waybill.updated_at = now


async def _reporter_names(session: AsyncSession, rows: Sequence[EventRow]) -> dict[uuid.UUID, OrganisationRef]:
    ids = {row.organisation_id for row in rows}
    if not ids:
        return {}
    result = await session.execute(
        sa.select(col(Organisation.id), col(Organisation.uscc), col(Organisation.name)).where(
            col(Organisation.id).in_(ids)
        )
    )
    return {org_id: OrganisationRef(uscc=uscc, name=name) for org_id, uscc, name in result}


def _event_read(
    row: EventRow, names: dict[uuid.UUID, OrganisationRef], withdrawn: set[uuid.UUID]
) -> TransportEventRead:
    details = row.details or {}
    return TransportEventRead(
        event_id=row.event_id,
        leg=row.leg_sequence,
        category=EventCategory(row.category),
        event_type=EventType(row.event_type),
        classifier=EventClassifier(row.classifier),
        event_time=row.event_time,
        recorded_at=row.recorded_at,
        place=msgspec.convert(row.place, EventPlace) if row.place else None,
        equipment=msgspec.convert(row.equipment, Equipment) if row.equipment else None,
        source=EventSource(row.source),
        reported_by=names[row.organisation_id],
        external_ref=row.external_ref,
        retracts=row.retracts_event_id,
        retracted=row.event_id in withdrawn,
        delay_minutes=details.get("delay_minutes"),
        proof_of_delivery=_optional(details.get("proof_of_delivery"), ProofOfDelivery),
        handover=_optional(details.get("handover"), Handover),
        customs=_optional(details.get("customs"), CustomsDetails),
        remarks=details.get("remarks"),
    )


def _optional(raw: Any, struct: type[Any]) -> Any:
    return None if raw is None else msgspec.convert(raw, struct)


async def list_events(
    session: AsyncSession, *, principal: Principal, number: str, access_reason: str | None = None, request: str = ""
) -> list[TransportEventRead]:
    """Every event of a waybill, in the order they happened (retracted ones flagged)."""
    waybill = await load_waybill_for_reading(
        session, principal=principal, number=number, access_reason=access_reason, request=request, action="read_events"
    )
    assert waybill.id is not None
    rows = await _events(session, waybill.id)
    names = await _reporter_names(session, rows)
    withdrawn = {row.retracts_event_id for row in rows if row.retracts_event_id is not None}
    return [_event_read(row, names, withdrawn) for row in rows]


def _place_label(place: dict[str, Any]) -> str:
    return str(place.get("locode") or place.get("name") or "")


async def get_timeline(
    session: AsyncSession, *, principal: Principal, number: str, access_reason: str | None = None, request: str = ""
) -> Timeline:
    """One merged view of the journey: status, where the cargo is, each leg, the next step, the ETA."""
    waybill = await load_waybill_for_reading(
        session,
        principal=principal,
        number=number,
        access_reason=access_reason,
        request=request,
        action="read_timeline",
    )
    assert waybill.id is not None
    legs = list(await legs_of(session, waybill.id))
    rows = await _events(session, waybill.id)
    facts = [_event_facts(row) for row in rows]
    journey = derive_journey([_leg_facts(leg) for leg in legs], facts, base_status=WaybillStatus(waybill.status))
    names = await _reporter_names(session, rows)
    withdrawn = {row.retracts_event_id for row in rows if row.retracts_event_id is not None}
    states = {state.sequence: state for state in journey.legs}
    return Timeline(
        number=waybill.number,
        status=journey.status,
        customs_hold=journey.customs_hold,
        current_leg=journey.current_leg,
        current_place=msgspec.convert(journey.current_place, EventPlace) if journey.current_place else None,
        current_equipment=msgspec.convert(journey.current_equipment, Equipment) if journey.current_equipment else None,
        estimated_arrival=journey.estimated_arrival,
        next_step=NextStep(leg=journey.next_step[0], event_type=journey.next_step[1], expected_at=journey.next_step[2])
        if journey.next_step
        else None,
        legs=[_leg_progress(leg, states[leg.sequence]) for leg in legs],
        events=[_event_read(row, names, withdrawn) for row in rows],
    )


def _leg_progress(leg: TransportLeg, state: LegState) -> LegProgress:
    return LegProgress(
        sequence=leg.sequence,
        mode=TransportMode(leg.mode),
        carrier=CarrierRef(uscc=leg.carrier_uscc, name=leg.carrier_name or "") if leg.carrier_uscc else None,
        status=LegStatus(state.status),
        from_place=_place_label(leg.from_place),
        to_place=_place_label(leg.to_place),
        planned_departure=leg.planned_departure,
        planned_arrival=leg.planned_arrival,
        actual_departure=state.actual_departure,
        actual_arrival=state.actual_arrival,
        handed_over_at=state.handed_over_at,
        expected_arrival=state.expected_arrival,
        delay_minutes=state.delay_minutes,
        equipment=leg_equipment(leg),
    )
