"""``freight relay``: outbox rows reach the partner's queue confirmed, once each, in order per waybill."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from integrations.amqp import ConfirmingPublisher
from integrations.models import OutboxMessage
from integrations.outbox import stage_message
from integrations.relay import relay_batch, run_relay
from integrations.schemas import PartnerKind
from integrations.topology import outbound_queue
from tests.integrations.conftest import AMQP_URL, drain


async def _wait_until_sent(session_factory: Any, ids: list[int], timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        async with session_factory() as session:
            left = await session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) != "sent")
            )
        if left == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{left} of {len(ids)} rows still not sent")


async def test_the_relay_delivers_every_row_once_in_order_per_waybill(
    session_factory: Any, make_partner: Any, amqp_channel: Any
) -> None:
    node = await make_partner(PartnerKind.NODE)
    waybills = [f"EW-ORDER-{uuid.uuid4().hex[:6]}-{i}" for i in range(3)]
    async with session_factory() as session:
        rows = [
            stage_message(
                session,
                destination=node.code,
                message_type="journey.status",
                correlation_id=waybills[i % 3],
                body=f"{waybills[i % 3]}:{i // 3}".encode(),
                schema_version=2,
            )
            for i in range(60)
        ]
        await session.commit()
    stop = asyncio.Event()
    relay = asyncio.create_task(run_relay(session_factory, amqp_url=AMQP_URL, batch_size=7, stop=stop))

    await _wait_until_sent(session_factory, [r.id for r in rows if r.id is not None])
    stop.set()
    totals = await relay

    delivered = drain(amqp_channel, outbound_queue(node.code), expect=60)
    assert len(delivered) == 60
    assert totals.published >= 60
    by_id = {str(r.message_id): r for r in rows}
    assert {p.message_id for p, _ in delivered} == set(by_id)
    for number in waybills:
        sequence = [int(body.decode().split(":")[1]) for p, body in delivered if p.correlation_id == number]
        assert sequence == list(range(20)), f"{number} out of order: {sequence}"
    properties, _ = delivered[0]
    assert properties.delivery_mode == 2
    assert properties.type == "journey.status"
    assert properties.headers["schema-version"] == 2
    assert properties.timestamp == int(by_id[properties.message_id].created_at.timestamp())
    assert properties.content_type == "application/json"


async def test_a_message_no_queue_takes_stays_pending_with_the_reason(session_factory: Any) -> None:
    async with session_factory() as session:
        row = stage_message(
            session, destination=f"nobody{uuid.uuid4().hex[:8]}", message_type="t", correlation_id="X", body=b"{}"
        )
        await session.commit()
    publisher = ConfirmingPublisher(AMQP_URL)
    await publisher.connect()
    try:
        for _ in range(50):  # other tests' rows may come first
            await relay_batch(session_factory, publisher, limit=500)
            async with session_factory() as session:
                stored = await session.get(OutboxMessage, row.id)
            assert stored is not None
            if stored.attempts:
                break
    finally:
        await publisher.close()
    assert stored.status == "pending"
    assert stored.attempts == 1
    assert stored.last_error is not None
    assert "unroutable" in stored.last_error
    assert stored.next_attempt_at > stored.created_at


async def test_the_relay_waits_while_the_broker_cannot_be_reached(session_factory: Any) -> None:
    stop = asyncio.Event()
    relay = asyncio.create_task(
        run_relay(session_factory, amqp_url="amqp://guest:guest@127.0.0.1:1/%2F", stop=stop, idle_s=0.05)
    )
    await asyncio.sleep(2.0)
    stop.set()
    totals = await asyncio.wait_for(relay, 10)

    assert totals.published == 0
    assert totals.reconnects >= 2
