"""The partner simulators: a terminal and the node answering over RabbitMQ as the real partners would."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pika
import sqlalchemy as sa
from sqlmodel import col

from integrations.edifact import parse_events
from integrations.runner import relay_and_deliver, start_consumers
from integrations.schemas import PartnerKind, PreAdvice
from integrations.simulate import (
    NodeSimulator,
    PortSimulator,
    Simulator,
    SimulatorStats,
    answer_id,
    start_simulators,
)
from integrations.topology import OUTBOUND_EXCHANGE, dead_letter_queue, inbound_queue, outbound_queue
from tests.conftest import settings_for
from tests.integrations.conftest import AMQP_URL, drain, issued_waybill, new_container_number, wait_for
from tracking.models import VehiclePosition
from waybill.event_schemas import EventType

LEG_1_PLATE = "粤E3K721"  # the documented example's truck, road to Beijiao (CNFOS)


def publish_outbound(channel: Any, code: str, body: bytes, *, message_id: str, content_type: str) -> None:
    """Publish to a partner as the relay does."""
    properties = pika.BasicProperties(delivery_mode=2, message_id=message_id, content_type=content_type)
    channel.basic_publish(OUTBOUND_EXCHANGE, code, body, properties, mandatory=True)


def run_until(simulator: Simulator, condition: Callable[[SimulatorStats], bool]) -> SimulatorStats:
    stop = threading.Event()
    threads = start_simulators([simulator], stop)
    try:
        wait_for(lambda: condition(simulator.stats))
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    return simulator.stats


async def test_a_pre_advised_container_is_gated_in_and_loaded_and_the_node_accepts_the_waybill(
    database_url: str, session_factory: Any, make_partner: Any, client: Any, shipper: Any
) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS", message_format="edifact")
    node = await make_partner(PartnerKind.NODE)
    container = new_container_number()
    number = await issued_waybill(client, shipper, container=container)
    settings = settings_for(database_url, FREIGHT_PARTNER_AMQP_URL=AMQP_URL)
    stop_relay, stop_simulators = asyncio.Event(), threading.Event()
    relay = asyncio.create_task(relay_and_deliver(settings, stop_relay, callbacks=False))
    consumers = start_consumers(settings, [terminal, node])
    port = PortSimulator(terminal.code, "CNFOS", AMQP_URL, arrival_delay_s=0.2, load_delay_s=0.3)
    node_simulator = NodeSimulator(node.code, AMQP_URL, position_interval_s=0.2)
    threads = start_simulators([port, node_simulator], stop_simulators)

    async def progress() -> tuple[list[dict[str, Any]], list[str], int]:
        timeline = (await client.get(f"/v1/waybills/{number}/timeline", headers=shipper.headers)).json()
        changes = (await client.get(f"/v1/waybills/{number}/changes", headers=shipper.headers)).json()
        async with session_factory() as session:
            positions = await session.scalar(
                sa.select(sa.func.count())
                .select_from(VehiclePosition)
                .where(col(VehiclePosition.plate) == LEG_1_PLATE, col(VehiclePosition.source) == node.code)
            )
        actions = [c["action"] for c in changes["changes"]]
        return timeline["events"], actions, int(positions or 0)

    try:
        deadline = time.monotonic() + 60
        while True:
            events, actions, positions = await progress()
            kinds = {(e["event_type"], e["leg"]) for e in events}
            if {("gate_in", 1), ("loaded", 2)} <= kinds and "node_accepted" in actions and positions >= 2:
                break
            assert time.monotonic() < deadline, (kinds, actions, positions)
            await asyncio.sleep(0.1)
    finally:
        stop_simulators.set()
        for thread in threads:
            thread.join(10)
        consumers.close()
        stop_relay.set()
        await relay

    gate_in = next(e for e in events if e["event_type"] == "gate_in")
    loaded = next(e for e in events if e["event_type"] == "loaded")
    for event in (gate_in, loaded):
        assert event["source"] == "edi"
        assert event["place"]["locode"] == "CNFOS"
        assert event["equipment"]["container_number"] == container
        assert event["reported_by"]["uscc"] == terminal.principal.uscc
    assert (gate_in["leg"], loaded["leg"]) == (1, 2)
    assert gate_in["event_time"] <= loaded["event_time"]
    assert actions.count("node_accepted") == 1


async def test_a_pre_advice_delivered_twice_is_answered_once(make_partner: Any, amqp_channel: Any) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS")
    container = new_container_number()
    advice = PreAdvice(
        waybill_number="EW2611-7K3M9Q2X-T",
        leg=1,
        terminal_locode="CNFOS",
        expected_arrival=datetime.now(UTC) + timedelta(hours=2),
        container_number=container,
        vehicle_plate=LEG_1_PLATE,
    )
    advice_id = str(uuid.uuid4())
    for _ in range(2):
        publish_outbound(
            amqp_channel,
            terminal.code,
            msgspec.json.encode(advice),
            message_id=advice_id,
            content_type="application/json",
        )
    simulator = PortSimulator(terminal.code, "CNFOS", AMQP_URL, arrival_delay_s=0.1, load_delay_s=0.1, fmt="json")

    stats = run_until(simulator, lambda s: s.published >= 2 and s.received >= 2)

    assert (stats.received, stats.duplicates, stats.published) == (2, 1, 2)
    answers = drain(amqp_channel, inbound_queue(terminal.code), expect=2)
    assert [p.message_id for p, _ in answers] == [f"{advice_id}:gate-in", f"{advice_id}:loaded"]
    events = [parse_events(body) for _, body in answers]
    assert [r.warnings for r in events] == [[], []]
    [gate_in], [loaded] = (r.events for r in events)
    assert (gate_in.event_type, gate_in.container_number, gate_in.vehicle_plate) == (
        EventType.GATE_IN,
        container,
        LEG_1_PLATE,
    )
    assert gate_in.references == {"waybill": "EW2611-7K3M9Q2X-T"}
    assert (loaded.event_type, loaded.locode) == (EventType.LOADED, "CNFOS")
    assert drain(amqp_channel, outbound_queue(terminal.code)) == []  # both copies acknowledged


async def test_an_unreadable_pre_advice_is_dead_lettered(make_partner: Any, amqp_channel: Any) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS", message_format="edifact")
    publish_outbound(amqp_channel, terminal.code, b"HELLO", message_id="junk", content_type="application/edifact")
    simulator = PortSimulator(terminal.code, "CNFOS", AMQP_URL, arrival_delay_s=0, load_delay_s=0)

    stats = run_until(simulator, lambda s: s.rejected >= 1)

    assert stats.published == 0
    [(properties, body)] = drain(amqp_channel, dead_letter_queue(outbound_queue(terminal.code)), expect=1)
    assert (properties.message_id, body) == ("junk", b"HELLO")


async def test_the_node_answers_an_e_waybill_sent_twice_with_one_acknowledgement_of_a_stable_id(
    make_partner: Any, amqp_channel: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    ref = str(uuid.uuid4())
    envelope = {
        "senderCode": "CN44FREIGHT",
        "recipientCode": "LOGINK",
        "documentName": "EWAYBILL",
        "messageRef": ref,
        "timestamp": datetime.now(UTC).isoformat(),
        "body": {"action": "cancelled", "waybill": {"number": "EW2611-7K3M9Q2X-T", "legs": []}},
    }
    for _ in range(2):
        publish_outbound(
            amqp_channel, node.code, msgspec.json.encode(envelope), message_id=ref, content_type="application/json"
        )
    simulator = NodeSimulator(node.code, AMQP_URL, position_interval_s=60)

    stats = run_until(simulator, lambda s: s.published >= 1 and s.received >= 2)

    assert (stats.duplicates, stats.published) == (1, 1)
    [(properties, body)] = drain(amqp_channel, inbound_queue(node.code), expect=1)
    answer = msgspec.json.decode(body)
    assert answer["messageRef"] == properties.message_id == str(answer_id(ref, "ack"))
    assert answer["documentName"] == "EWAYBILL_ACK"
    assert answer["body"]["inReplyTo"] == ref
    assert answer["body"]["accepted"] is True


def test_a_vehicle_moves_in_a_straight_line_and_stops_on_arrival() -> None:
    simulator = NodeSimulator("node", None, position_interval_s=1, speed_kmh=60)
    waybill = {
        "number": "EW2611-7K3M9Q2X-T",
        "legs": [
            {
                "sequence": 1,
                "mode": "road",
                "from_place": {"latitude": 22.9, "longitude": 113.2},
                "to_place": {"latitude": 23.0, "longitude": 113.2},  # 11.1 km due north
                "equipment": {"vehicle_plate": LEG_1_PLATE},
            }
        ],
    }
    simulator.follow(waybill)
    track = simulator.tracks[("EW2611-7K3M9Q2X-T", 1)]
    at = datetime.now(UTC)

    halfway, arrived = simulator.position_of(track, track.started_s + 333.6, at)
    assert not arrived
    assert (round(halfway.lat, 2), halfway.lon, halfway.heading, halfway.speed) == (22.95, 113.2, 0.0, 60)
    end, arrived = simulator.position_of(track, track.started_s + 3600, at)
    assert arrived
    assert (end.lat, end.lon, end.speed) == (23.0, 113.2, 0.0)
