"""The journey rules, without a database: which events are possible and what they make of the journey."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec

from accounts.schemas import OrganisationRole
from waybill.event_schemas import EventClassifier, EventType, TransportEventCreate
from waybill.rules.journey import EventFacts, LegFacts, Reporter, check_new_event, derive_journey
from waybill.schemas import LegStatus, WaybillStatus

T0 = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=2)
ROAD = Reporter(organisation_id=uuid.uuid4(), role=OrganisationRole.CARRIER, uscc="ROAD", places=frozenset())
BARGE = Reporter(organisation_id=uuid.uuid4(), role=OrganisationRole.CARRIER, uscc="BARGE", places=frozenset())
CUSTOMS = Reporter(organisation_id=uuid.uuid4(), role=OrganisationRole.CUSTOMS, uscc="CUS", places=frozenset({"CNSHK"}))
LEGS = [
    LegFacts(1, "ROAD", None, "CNFOS", T0 + timedelta(hours=1), T0 + timedelta(hours=2)),
    LegFacts(2, "BARGE", "CNFOS", "CNSHK", T0 + timedelta(hours=6), T0 + timedelta(hours=18)),
]


def new(event_type: str, leg: int, hours: float, **extra: object) -> TransportEventCreate:
    raw = {"event_type": event_type, "leg": leg, "event_time": (T0 + timedelta(hours=hours)).isoformat(), **extra}
    return msgspec.convert(raw, TransportEventCreate)


def seen(event_type: EventType, leg: int, hours: float, reporter: Reporter = ROAD, **extra: object) -> EventFacts:
    at = T0 + timedelta(hours=hours)
    return EventFacts(
        event_id=uuid.uuid4(),
        leg=leg,
        event_type=event_type,
        classifier=EventClassifier.ACTUAL,
        event_time=at,
        recorded_at=at,
        reporter_id=reporter.organisation_id,
        **extra,  # type: ignore[arg-type]
    )


def check(event: TransportEventCreate, events: list[EventFacts], reporter: Reporter = ROAD) -> str | None:
    refusal = check_new_event(
        event, waybill_status=WaybillStatus.ISSUED, legs=LEGS, events=events, reporter=reporter, now=NOW
    )
    return None if refusal is None else refusal.kind


def test_the_second_leg_departs_only_after_the_first_is_handed_over() -> None:
    assert check(new("departed", 2, 7), [], BARGE) == "rule"
    handed_over = [seen(EventType.DEPARTED, 1, 1), seen(EventType.HANDOVER, 1, 3)]
    assert check(new("departed", 2, 7), handed_over, BARGE) is None


def test_nothing_departs_while_customs_hold_the_cargo() -> None:
    history = [seen(EventType.HANDOVER, 1, 3), seen(EventType.CUSTOMS_HELD, 2, 4, CUSTOMS)]
    assert check(new("departed", 2, 7), history, BARGE) == "rule"
    released = [*history, seen(EventType.CUSTOMS_RELEASED, 2, 5, CUSTOMS)]
    assert check(new("departed", 2, 7), released, BARGE) is None


def test_a_carrier_reports_only_on_its_own_leg_and_not_customs_events() -> None:
    assert check(new("departed", 2, 7), [], ROAD) == "forbidden"
    assert check(new("customs_released", 1, 7), [], ROAD) == "forbidden"


def test_an_actual_event_may_not_be_in_the_future() -> None:
    assert check(new("arrived", 1, 60), []) == "rule"
    assert check(new("arrived", 1, 60, classifier="estimated"), []) is None


def test_retracting_a_departure_takes_the_journey_back() -> None:
    departure = seen(EventType.DEPARTED, 1, 1)
    retraction = seen(EventType.RETRACTED, 1, 2, retracts=departure.event_id)
    assert derive_journey(LEGS, [departure], base_status=WaybillStatus.ISSUED).status is WaybillStatus.IN_TRANSIT
    journey = derive_journey(LEGS, [departure, retraction], base_status=WaybillStatus.ISSUED)
    assert journey.status is WaybillStatus.ISSUED
    assert journey.legs[0].status is LegStatus.PLANNED


def test_events_count_in_the_order_they_happened_not_the_order_they_arrived() -> None:
    handover = seen(EventType.HANDOVER, 1, 3)
    late_departure = seen(EventType.DEPARTED, 1, 1)
    journey = derive_journey(LEGS, [handover, late_departure], base_status=WaybillStatus.ISSUED)
    assert journey.legs[0].actual_departure == T0 + timedelta(hours=1)
    assert journey.legs[0].status is LegStatus.COMPLETED


def test_a_delay_beyond_the_slack_moves_the_estimated_arrival() -> None:
    plan = derive_journey(LEGS, [], base_status=WaybillStatus.ISSUED).estimated_arrival
    delayed = derive_journey(
        LEGS,
        [seen(EventType.DEPARTED, 1, 1), seen(EventType.DELAY, 1, 1.5, delay_minutes=8 * 60)],
        base_status=WaybillStatus.ISSUED,
    )
    assert plan == T0 + timedelta(hours=18)
    # leg 1 ends at 10 h instead of 2 h; the barge then needs its 12 h: 22 h
    assert delayed.estimated_arrival == T0 + timedelta(hours=22)
