"""The journey as pure rules: which events are possible, and what the events say about the journey.

No database here: the service hands in the legs, the events recorded so far and the reporter, and
gets back a refusal (or none) and the derived journey state (leg progress, waybill status, customs
hold, current place and equipment, expected arrival).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from accounts.schemas import OrganisationRole
from waybill.event_schemas import CATEGORY_OF, EventCategory, EventClassifier, EventType, TransportEventCreate
from waybill.schemas import LegStatus, WaybillStatus

__all__ = (
    "EventFacts",
    "JourneyState",
    "LegFacts",
    "LegState",
    "Refusal",
    "Reporter",
    "check_new_event",
    "derive_journey",
)

FUTURE_TOLERANCE = timedelta(minutes=5)
"""Clock skew allowed for an actual event's time."""

_PORT_TYPES = frozenset(
    {
        EventType.GATE_IN,
        EventType.GATE_OUT,
        EventType.LOADED,
        EventType.DISCHARGED,
        EventType.STUFFED,
        EventType.STRIPPED,
        EventType.INSPECTED,
        EventType.DEPARTED,
        EventType.ARRIVED,
        EventType.HANDOVER,
        EventType.DELAY,
        EventType.DAMAGE,
        EventType.REFUSED,
        EventType.RETRACTED,
    }
)
_CUSTOMS_TYPES = frozenset(
    {
        EventType.CUSTOMS_LODGED,
        EventType.CUSTOMS_HELD,
        EventType.CUSTOMS_RELEASED,
        EventType.INSPECTED,
        EventType.RETRACTED,
    }
)
_CARRIER_TYPES = frozenset(t for t in EventType if CATEGORY_OF[t] is not EventCategory.CUSTOMS)


@dataclass(frozen=True)
class LegFacts:
    """What the rules need to know of a leg."""

    sequence: int
    carrier_uscc: str | None
    from_locode: str | None
    to_locode: str | None
    planned_departure: datetime | None
    planned_arrival: datetime | None


@dataclass(frozen=True)
class EventFacts:
    """What the rules need to know of a recorded event."""

    event_id: uuid.UUID
    leg: int | None
    event_type: EventType
    classifier: EventClassifier
    event_time: datetime
    recorded_at: datetime
    reporter_id: uuid.UUID
    retracts: uuid.UUID | None = None
    delay_minutes: int | None = None
    place: dict[str, Any] = field(default_factory=dict)
    equipment: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reporter:
    """Who reports the event."""

    organisation_id: uuid.UUID
    role: OrganisationRole
    uscc: str
    places: frozenset[str]


@dataclass(frozen=True)
class Refusal:
    """Why an event cannot be accepted: ``forbidden`` (403), ``state`` (409) or ``rule`` (422)."""

    kind: Literal["forbidden", "state", "rule"]
    message: str
    field: str | None = None


def _is_party(reporter: Reporter, leg: LegFacts) -> bool:
    match reporter.role:
        case OrganisationRole.CARRIER:
            return leg.carrier_uscc == reporter.uscc
        case OrganisationRole.PORT | OrganisationRole.CUSTOMS:
            return bool({leg.from_locode, leg.to_locode} & reporter.places)
        case _:
            return False


def _allowed_types(role: OrganisationRole) -> frozenset[EventType]:
    return {
        OrganisationRole.CARRIER: _CARRIER_TYPES,
        OrganisationRole.PORT: _PORT_TYPES,
        OrganisationRole.CUSTOMS: _CUSTOMS_TYPES,
    }.get(role, frozenset())


def _live(events: list[EventFacts]) -> list[EventFacts]:
    """Events not withdrawn, nor retractions themselves, in the order they happened."""
    withdrawn = {e.retracts for e in events if e.retracts is not None}
    kept = [e for e in events if e.event_id not in withdrawn and e.event_type is not EventType.RETRACTED]
    return sorted(kept, key=lambda e: (e.event_time, e.recorded_at))


def _customs_hold_at(events: list[EventFacts], at: datetime | None = None) -> bool:
    """Whether customs hold the cargo (at ``at``, or now): the latest hold or release decides."""
    decisive = [
        e
        for e in _live(events)
        if e.classifier is EventClassifier.ACTUAL
        and e.event_type in (EventType.CUSTOMS_HELD, EventType.CUSTOMS_RELEASED)
        and (at is None or e.event_time <= at)
    ]
    return bool(decisive) and decisive[-1].event_type is EventType.CUSTOMS_HELD


def _actual(events: list[EventFacts], leg: int, *types: EventType) -> list[EventFacts]:
    return [
        e for e in _live(events) if e.leg == leg and e.classifier is EventClassifier.ACTUAL and e.event_type in types
    ]


def check_new_event(
    event: TransportEventCreate,
    *,
    waybill_status: WaybillStatus,
    legs: list[LegFacts],
    events: list[EventFacts],
    reporter: Reporter,
    now: datetime,
) -> Refusal | None:
    """Why ``event`` cannot be recorded, or ``None`` if it can."""
    if waybill_status in (WaybillStatus.DRAFT, WaybillStatus.CANCELLED, WaybillStatus.CLOSED):
        return Refusal("state", f"a {waybill_status.value} waybill takes no events")
    by_sequence = {leg.sequence: leg for leg in legs}
    leg = by_sequence.get(event.leg)
    if leg is None:
        return Refusal("rule", f"the waybill has no leg {event.leg}", "leg")
    if not _is_party(reporter, leg):
        return Refusal("forbidden", f"{reporter.uscc} is not party to leg {event.leg}", "leg")
    if event.event_type not in _allowed_types(reporter.role):
        return Refusal(
            "forbidden", f"a {reporter.role.value} does not report {event.event_type.value} events", "event_type"
        )
    if event.classifier is EventClassifier.ACTUAL and event.event_time > now + FUTURE_TOLERANCE:
        return Refusal("rule", "an actual event cannot be in the future", "event_time")
    if event.event_type is EventType.RETRACTED:
        return _check_retraction(event, events, reporter)
    if event.classifier is not EventClassifier.ACTUAL:
        return None
    if event.event_type is EventType.DEPARTED:
        return _check_departure(event, by_sequence, events)
    if event.event_type is EventType.DELIVERED and event.leg != max(by_sequence):
        return Refusal("rule", "delivery is reported on the last leg", "leg")
    return None


def _check_departure(
    event: TransportEventCreate, legs: dict[int, LegFacts], events: list[EventFacts]
) -> Refusal | None:
    previous = event.leg - 1
    if previous in legs and not _actual(events, previous, EventType.HANDOVER, EventType.DELIVERED):
        return Refusal("rule", f"leg {previous} has not been handed over; leg {event.leg} cannot depart", "leg")
    if _customs_hold_at(events, event.event_time):
        return Refusal("rule", "customs hold the cargo; it cannot depart until released", "event_type")
    return None


def _check_retraction(event: TransportEventCreate, events: list[EventFacts], reporter: Reporter) -> Refusal | None:
    target = next((e for e in events if e.event_id == event.retracts), None)
    if target is None:
        return Refusal("rule", f"no event {event.retracts} on this waybill", "retracts")
    if target.event_type is EventType.RETRACTED:
        return Refusal("rule", "a retraction cannot be retracted; report the event again", "retracts")
    if any(e.retracts == target.event_id for e in events):
        return Refusal("state", f"event {target.event_id} is already retracted", "retracts")
    if target.reporter_id != reporter.organisation_id:
        return Refusal("forbidden", "only the organisation that reported an event may retract it", "retracts")
    return None


@dataclass(frozen=True)
class LegState:
    """A leg as the events describe it."""

    sequence: int
    status: LegStatus
    actual_departure: datetime | None
    actual_arrival: datetime | None
    handed_over_at: datetime | None
    expected_arrival: datetime | None
    delay_minutes: int


@dataclass(frozen=True)
class JourneyState:
    """The whole journey as the events describe it."""

    status: WaybillStatus
    legs: list[LegState]
    customs_hold: bool
    current_leg: int | None
    current_place: dict[str, Any] | None
    current_equipment: dict[str, Any] | None
    estimated_arrival: datetime | None
    next_step: tuple[int, EventType, datetime | None] | None


def _latest_estimate(events: list[EventFacts], leg: int) -> datetime | None:
    estimates = [
        e
        for e in _live(events)
        if e.leg == leg and e.classifier is EventClassifier.ESTIMATED and e.event_type is EventType.ARRIVED
    ]
    return max(estimates, key=lambda e: e.recorded_at).event_time if estimates else None


def _leg_state(leg: LegFacts, events: list[EventFacts], ready_at: datetime | None) -> LegState:
    departures = _actual(events, leg.sequence, EventType.DEPARTED)
    arrivals = _actual(events, leg.sequence, EventType.ARRIVED)
    completions = _actual(events, leg.sequence, EventType.HANDOVER, EventType.DELIVERED)
    delay = sum(e.delay_minutes or 0 for e in _actual(events, leg.sequence, EventType.DELAY))
    departure = departures[0].event_time if departures else None
    arrival = arrivals[-1].event_time if arrivals else None
    completed = completions[-1].event_time if completions else None
    status = LegStatus.COMPLETED if completed else LegStatus.UNDER_WAY if departure else LegStatus.PLANNED
    return LegState(
        sequence=leg.sequence,
        status=status,
        actual_departure=departure,
        actual_arrival=arrival or completed,
        handed_over_at=completed,
        expected_arrival=arrival or completed or _expected_arrival(leg, events, departure, ready_at, delay),
        delay_minutes=delay,
    )


def _expected_arrival(
    leg: LegFacts, events: list[EventFacts], departure: datetime | None, ready_at: datetime | None, delay: int
) -> datetime | None:
    estimate = _latest_estimate(events, leg.sequence)
    if estimate is not None:
        return estimate
    planned_duration = (
        leg.planned_arrival - leg.planned_departure if leg.planned_arrival and leg.planned_departure else timedelta(0)
    )
    start = departure or max((t for t in (leg.planned_departure, ready_at) if t is not None), default=None)
    if start is None:
        return None
    return start + planned_duration + timedelta(minutes=delay)


def derive_journey(legs: list[LegFacts], events: list[EventFacts], *, base_status: WaybillStatus) -> JourneyState:
    """Leg progress, waybill status, customs hold, where the cargo is and when it will arrive."""
    states: list[LegState] = []
    ready_at: datetime | None = None
    for leg in sorted(legs, key=lambda item: item.sequence):
        state = _leg_state(leg, events, ready_at)
        states.append(state)
        ready_at = state.expected_arrival
    live = _live(events)
    actual = [e for e in live if e.classifier is EventClassifier.ACTUAL]
    delivered = bool(states) and any(
        e.event_type is EventType.DELIVERED and e.leg == states[-1].sequence for e in actual
    )
    status = base_status
    if base_status in (WaybillStatus.ISSUED, WaybillStatus.IN_TRANSIT, WaybillStatus.DELIVERED):
        started = any(s.status is not LegStatus.PLANNED for s in states)
        status = WaybillStatus.DELIVERED if delivered else WaybillStatus.IN_TRANSIT if started else WaybillStatus.ISSUED
    located = [e for e in actual if e.place]
    equipped = [e for e in actual if e.equipment]
    current = next((s for s in states if s.status is not LegStatus.COMPLETED), None)
    return JourneyState(
        status=status,
        legs=states,
        customs_hold=_customs_hold_at(events),
        current_leg=current.sequence if current else (states[-1].sequence if states else None),
        current_place=located[-1].place if located else None,
        current_equipment=equipped[-1].equipment if equipped else None,
        estimated_arrival=states[-1].expected_arrival if states else None,
        next_step=_next_step(legs, states),
    )


def _next_step(legs: list[LegFacts], states: list[LegState]) -> tuple[int, EventType, datetime | None] | None:
    planned = {leg.sequence: leg for leg in legs}
    for index, state in enumerate(states):
        if state.status is LegStatus.PLANNED:
            ready = states[index - 1].expected_arrival if index else None
            departure = planned[state.sequence].planned_departure
            expected = max((t for t in (departure, ready) if t is not None), default=None)
            return state.sequence, EventType.DEPARTED, expected
        if state.status is LegStatus.UNDER_WAY:
            last = index == len(states) - 1
            return state.sequence, EventType.DELIVERED if last else EventType.HANDOVER, state.expected_arrival
    return None
