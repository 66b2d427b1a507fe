"""Consuming the national node's messages: applied once, duplicates acknowledged, bad ones dead-lettered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlmodel import col

from integrations.consumer import ConsumerStats
from integrations.models import InboxMessage
from integrations.runner import start_consumers
from integrations.schemas import PartnerKind
from integrations.topology import dead_letter_queue, inbound_queue
from tests.conftest import settings_for
from tests.integrations.conftest import drain, issued_waybill, new_container_number, publish_inbound, wait_for
from tracking.models import VehiclePosition
from waybill.models import Waybill, WaybillChange


def envelope(document: str, body: dict[str, Any], *, ref: uuid.UUID | None = None) -> tuple[str, bytes]:
    ref = ref or uuid.uuid4()
    message = {
        "senderCode": "LOGINK",
        "recipientCode": "CN44FREIGHT",
        "documentName": document,
        "messageRef": str(ref),
        "timestamp": datetime.now(UTC).isoformat(),
        "body": body,
    }
    return str(ref), msgspec.json.encode(message)


def positions(plate: str, count: int, start: datetime) -> dict[str, Any]:
    return {
        "positions": [
            {
                "plate": plate,
                "time": (start + timedelta(seconds=30 * i)).isoformat(),
                "lat": 22.9 + i / 1000,
                "lon": 113.2,
            }
            for i in range(count)
        ]
    }


def settled(stats: ConsumerStats, handled: int) -> bool:
    return stats.applied + stats.duplicates + stats.dead_lettered >= handled


async def _count_positions(session_factory: Any, plate: str) -> int:
    async with session_factory() as session:
        return int(
            await session.scalar(
                sa.select(sa.func.count()).select_from(VehiclePosition).where(col(VehiclePosition.plate) == plate)
            )
            or 0
        )


async def test_positions_sent_twice_are_stored_once_and_a_malformed_message_is_dead_lettered(
    database_url: str, session_factory: Any, make_partner: Any, amqp_channel: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    plate = f"粤B{uuid.uuid4().hex[:5].upper()}"
    start = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    first_id, first = envelope("VEHICLE_POSITIONS", positions(plate, 5, start))
    second_id, second = envelope("VEHICLE_POSITIONS", positions(plate, 3, start + timedelta(hours=1)))
    publish_inbound(amqp_channel, node.code, first, message_id=first_id, content_type="application/json")
    publish_inbound(amqp_channel, node.code, first, message_id=first_id, content_type="application/json")
    publish_inbound(amqp_channel, node.code, b"{not json", message_id=None, content_type="application/json")
    publish_inbound(amqp_channel, node.code, second, message_id=None, content_type="application/json")

    group = start_consumers(settings_for(database_url), [node], batch_size=2)
    try:
        wait_for(lambda: settled(group.totals(), 4))
    finally:
        group.close()
    totals = group.totals()

    assert (totals.applied, totals.duplicates, totals.dead_lettered) == (2, 1, 1)
    assert await _count_positions(session_factory, plate) == 8
    dead = drain(amqp_channel, dead_letter_queue(inbound_queue(node.code)), expect=1)
    assert len(dead) == 1
    properties, body = dead[0]
    assert body == b"{not json"
    assert properties.headers["x-freight-reason"].startswith("unreadable: not a node envelope")
    async with session_factory() as session:
        query = sa.select(col(InboxMessage.message_id), col(InboxMessage.outcome)).where(
            col(InboxMessage.consumer) == f"node:{node.code}"
        )
        outcomes = {message_id: outcome for message_id, outcome in (await session.execute(query)).all()}
    assert outcomes[first_id] == "applied"
    assert outcomes[second_id] == "applied"
    assert sorted(outcomes.values()) == ["applied", "applied", "dead_lettered"]


async def test_an_acknowledgement_for_an_unknown_waybill_is_parked_until_the_waybill_exists(
    database_url: str, session_factory: Any, make_partner: Any, amqp_channel: Any, client: Any, shipper: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    number = await issued_waybill(client, shipper, container=new_container_number(), issue=False)
    # A draft is not active for the node either; make the number unknown by asking about a later one.
    async with session_factory() as session:
        await session.execute(sa.update(Waybill).where(col(Waybill.number) == number).values(number=number + "X"))
        await session.commit()
    ref, ack = envelope(
        "EWAYBILL_ACK",
        {"waybillNumber": number, "accepted": True, "inReplyTo": str(uuid.uuid4()), "nodeReference": "N-1"},
    )
    publish_inbound(amqp_channel, node.code, ack, message_id=ref, content_type="application/json")

    group = start_consumers(settings_for(database_url), [node], batch_size=10, max_parks=50)
    try:
        wait_for(lambda: group.totals().parked >= 2)
        async with session_factory() as session:
            await session.execute(sa.update(Waybill).where(col(Waybill.number) == number + "X").values(number=number))
            await session.commit()
        wait_for(lambda: group.totals().applied >= 1)
    finally:
        group.close()

    async with session_factory() as session:
        changes = list(
            await session.scalars(
                sa.select(WaybillChange)
                .join(Waybill, col(Waybill.id) == col(WaybillChange.waybill_id))
                .where(col(Waybill.number) == number, col(WaybillChange.action) == "node_accepted")
            )
        )
    assert len(changes) == 1
    assert changes[0].detail["node_reference"] == "N-1"
    assert changes[0].detail["message_ref"] == ref


async def test_a_message_parked_too_often_is_dead_lettered_with_the_reason(
    database_url: str, make_partner: Any, amqp_channel: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    ref, ack = envelope(
        "EWAYBILL_ACK", {"waybillNumber": "EW2611-NOSUCH00-0", "accepted": False, "inReplyTo": str(uuid.uuid4())}
    )
    publish_inbound(amqp_channel, node.code, ack, message_id=ref, content_type="application/json")

    group = start_consumers(settings_for(database_url), [node], batch_size=10, max_parks=2)
    try:
        wait_for(lambda: group.totals().dead_lettered >= 1)
    finally:
        group.close()

    assert group.totals().parked == 2
    dead = drain(amqp_channel, dead_letter_queue(inbound_queue(node.code)), expect=1)
    assert dead[0][0].headers["x-freight-reason"] == (
        "not applied after 2 tries: waybill EW2611-NOSUCH00-0 is not known"
    )
    assert dead[0][0].message_id == ref


async def test_a_document_the_node_does_not_send_is_refused(
    database_url: str, make_partner: Any, amqp_channel: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    ref, status = envelope("JOURNEY_STATUS", {"waybillNumber": "x"})
    publish_inbound(amqp_channel, node.code, status, message_id=ref, content_type="application/json")

    group = start_consumers(settings_for(database_url), [node])
    try:
        wait_for(lambda: group.totals().dead_lettered >= 1)
    finally:
        group.close()

    dead = drain(amqp_channel, dead_letter_queue(inbound_queue(node.code)), expect=1)
    assert "does not send JOURNEY_STATUS" in dead[0][0].headers["x-freight-reason"]
