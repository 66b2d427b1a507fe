"""Fixtures of the partner-exchange tests: the real RabbitMQ, partners with queues of their own."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pika
import pytest
import sqlalchemy as sa
from sqlmodel import col
from stdnum import iso6346

from accounts.models import Organisation
from integrations.models import Partner
from integrations.partners import PartnerInfo, load_partner, register_partner
from integrations.runner import declare_partner_topology
from integrations.schemas import PartnerKind
from integrations.topology import (
    INBOUND_EXCHANGE,
    dead_letter_queue,
    inbound_queue,
    outbound_queue,
    retry_queue,
)

AMQP_URL = os.environ.get("FREIGHT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
RETRY_MS = 300
"""Parked messages come back after this long in tests."""


def new_container_number() -> str:
    """A fresh ISO 6346 container number with a valid check digit."""
    body = "TST" + "U" + "".join(secrets.choice("0123456789") for _ in range(6))
    return body + iso6346.calc_check_digit(body)


@pytest.fixture
def amqp_channel() -> Iterator[Any]:
    """A blocking channel on the test broker (publisher confirms on)."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.confirm_delivery()
    yield channel
    if connection.is_open:
        connection.close()


@pytest.fixture
async def make_partner(session_factory: Any, make_org: Any) -> AsyncIterator[Any]:
    """Register a partner with a fresh code and declare its queues (deleted afterwards)."""
    codes: list[str] = []

    async def make(kind: PartnerKind, *, locode: str | None = None, message_format: str = "json") -> PartnerInfo:
        role = {PartnerKind.TERMINAL: "port", PartnerKind.CUSTOMS: "customs", PartnerKind.NODE: "regulator"}[kind]
        org = await make_org(role, places=[locode] if locode else None)
        code = f"t{uuid.uuid4().hex[:10]}"
        async with session_factory() as session:
            organisation = await session.get(Organisation, org.principal.organisation_id)
            await register_partner(
                session,
                code=code,
                kind=kind,
                name="LOGINK" if kind is PartnerKind.NODE else f"Terminal {locode}",
                organisation=organisation,
                locode=locode,
                message_format=message_format,
            )
            await session.commit()
            partner = await load_partner(session, code)
        declare_partner_topology(AMQP_URL, [code], retry_ms=RETRY_MS)
        codes.append(code)
        return partner

    yield make
    async with session_factory() as session:
        await session.execute(sa.update(Partner).where(col(Partner.code).in_(codes)).values(active=False))
        await session.commit()
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))  # the test may have restarted the broker
    channel = connection.channel()
    for code in codes:
        for queue in (inbound_queue(code), outbound_queue(code)):
            for name in (queue, dead_letter_queue(queue), retry_queue(queue)):
                channel.queue_delete(name)
    connection.close()


def publish_inbound(channel: Any, code: str, body: bytes, *, message_id: str | None, content_type: str) -> None:
    """Publish a partner's message to us, as the partner would (persistent, confirmed)."""
    channel.basic_publish(
        INBOUND_EXCHANGE,
        code,
        body,
        pika.BasicProperties(delivery_mode=2, message_id=message_id, content_type=content_type),
        mandatory=True,
    )


def drain(channel: Any, queue: str, *, expect: int | None = None, timeout_s: float = 10.0) -> list[tuple[Any, bytes]]:
    """Take every message from ``queue`` (waiting up to ``timeout_s`` for ``expect`` of them), acknowledging each."""
    taken: list[tuple[Any, bytes]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            if expect is None or len(taken) >= expect:
                break
            time.sleep(0.05)
            continue
        taken.append((properties, body))
    return taken


async def issued_waybill(client: Any, shipper: Any, *, container: str, issue: bool = True) -> str:
    """A waybill of the documented example (road to the Beijiao terminal CNFOS, then barge to Shekou CNSHK),
    with its own container number; issued, or a draft when ``issue`` is false. Returns its number."""
    from tests.factories import waybill_body

    body = waybill_body(draft=not issue)
    for leg in body["legs"]:
        leg["equipment"]["container_number"] = container
    created = await client.post("/v1/waybills", json=body, headers=shipper.headers)
    assert created.status_code == 201, created.text
    number: str = created.json()["number"]
    return number


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Wait until ``condition()`` holds (polling every 50 ms), or fail the test."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")
