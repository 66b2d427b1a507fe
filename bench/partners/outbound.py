"""How fast the outbox relay drains staged messages to a partner's queue, beside raw pika publishing.

Usage::

    uv run python -m bench.partners.outbound --messages 20000
    uv run python -m bench.partners.outbound --messages 5000 --batch-size 200 --database sqlite

A run stages ``--messages`` outbox rows (national-node e-waybill envelopes of about 1 KB, spread over
``--waybills`` waybills) for a partner of its own, then times :func:`integrations.relay.relay_batch`
in a loop from the first lease to the last batch marked sent. The reference is raw pika publishing of
the same bodies, with the same properties and publisher confirms in batches of the same size, to
another partner's quorum queue of the same kind, in the same run. Both queues are then emptied and
counted by message id: every message must have arrived exactly once. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from api.examples import CREATE_WAYBILL_EXAMPLE
from bench.partners._common import (
    DEFAULT_AMQP_URL,
    DEFAULT_POSTGRES_URL,
    QueueCheck,
    Rate,
    RawMessage,
    bench_database,
    check_queue,
    configure,
    cpu_seconds,
    new_partner,
    partner_topology,
    print_rates,
    publish_raw,
)
from core.db import create_engine, create_session_factory
from core.identifiers import generate_waybill_number
from integrations.amqp import ConfirmingPublisher
from integrations.models import OutboxMessage
from integrations.outbox import OutboxStatus, stage_message
from integrations.relay import relay_batch
from integrations.schemas import NodeDocument, PartnerKind
from integrations.topology import OUTBOUND_EXCHANGE, outbound_queue

__all__ = ("main",)

AIM_PER_S = 5_000.0
"""The product's aim: outbound messages per second through the outbox."""
STAGE_CHUNK = 2_000
"""Outbox rows staged per transaction while setting up."""


def _envelope(recipient: str, number: str, message_id: uuid.UUID, sequence: int) -> bytes:
    """An e-waybill envelope for the national node, about 1 KB: the example waybill's header and legs."""
    legs: list[dict[str, Any]] = copy.deepcopy(CREATE_WAYBILL_EXAMPLE["legs"])
    body = {
        "waybillNumber": number,
        "version": 1 + sequence % 3,
        "status": "issued",
        "shipperReference": f"PO-{sequence:08d}",
        "shipper": {"uscc": "91440606MA4UH1QX2N", "name": "佛山顺德美达电器有限公司"},
        "pickup": CREATE_WAYBILL_EXAMPLE["pickup"],
        "delivery": CREATE_WAYBILL_EXAMPLE["delivery"],
        "legs": [
            {key: leg[key] for key in ("sequence", "mode", "carrier", "planned_departure", "planned_arrival")}
            for leg in legs
        ],
    }
    envelope = {
        "senderCode": "CN44FREIGHT",
        "recipientCode": recipient,
        "documentName": NodeDocument.WAYBILL.value,
        "messageRef": str(message_id),
        "timestamp": datetime.now(UTC).isoformat(),
        "body": body,
    }
    return msgspec.json.encode(envelope)


def make_messages(recipient: str, count: int, waybills: int) -> list[RawMessage]:
    """``count`` envelopes, message *i* about waybill *i* mod ``waybills``."""
    now = datetime.now(UTC)
    numbers = [generate_waybill_number(now.year, now.month) for _ in range(waybills)]
    messages = []
    for index in range(count):
        message_id = uuid.uuid4()
        number = numbers[index % waybills]
        body = _envelope(recipient, number, message_id, index)
        messages.append(RawMessage(str(message_id), NodeDocument.WAYBILL.value, number, body))
    return messages


async def stage_all(
    factory: async_sessionmaker[AsyncSession], destination: str, messages: Sequence[RawMessage]
) -> None:
    """Stage every message in the outbox with :func:`integrations.outbox.stage_message`, a chunk per transaction."""
    for first in range(0, len(messages), STAGE_CHUNK):
        async with factory() as session, session.begin():
            for message in messages[first : first + STAGE_CHUNK]:
                stage_message(
                    session,
                    destination=destination,
                    message_type=message.message_type,
                    correlation_id=message.correlation_id,
                    body=message.body,
                    message_id=uuid.UUID(message.message_id),
                )


async def drain_outbox(
    factory: async_sessionmaker[AsyncSession], amqp_url: str, *, batch_size: int
) -> tuple[Rate, int, int]:
    """Relay batches until the outbox has nothing due; time from the first lease to the last batch committed.

    Returns:
        The rate, the number of batches and of refused messages.
    """
    publisher = ConfirmingPublisher(amqp_url)
    await publisher.connect()
    published = refused = batches = 0
    try:
        cpu_before = cpu_seconds()
        started = ended = time.perf_counter()
        while True:
            sent, failed = await relay_batch(factory, publisher, limit=batch_size)
            if sent + failed == 0:
                break
            published, refused, batches = published + sent, refused + failed, batches + 1
            ended = time.perf_counter()
        cpu = cpu_seconds() - cpu_before
    finally:
        await publisher.close()
    return Rate("outbox relay (relay_batch)", published, ended - started, cpu), batches, refused


async def count_sent(factory: async_sessionmaker[AsyncSession]) -> int:
    """Outbox rows marked sent."""
    async with factory() as session:
        query = sa.select(sa.func.count()).where(col(OutboxMessage.status) == OutboxStatus.SENT.value)
        return int(await session.scalar(query) or 0)


async def reference_run(amqp_url: str, code: str, messages: Sequence[RawMessage], *, batch_size: int) -> Rate:
    """Raw pika: the same bodies, confirmed in batches of the same size, to another partner's queue."""
    cpu_before = cpu_seconds()
    seconds, failed = await publish_raw(amqp_url, OUTBOUND_EXCHANGE, code, messages, batch_size=batch_size)
    if failed:
        print(f"reference: {failed} messages nacked or returned")
    return Rate("raw pika publish + confirms", len(messages), seconds, cpu_seconds() - cpu_before)


async def run_async(args: argparse.Namespace, database_url: str) -> int:
    """Set up partners and rows, run the reference and the relay, check both queues, print the report."""
    settings = configure(database_url, args.amqp_url)
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    try:
        partner = await new_partner(factory, PartnerKind.NODE)
        reference = await new_partner(factory, PartnerKind.NODE)
        waybills = args.waybills or max(1, args.messages // 10)
        messages = make_messages(partner.code, args.messages, waybills)
        size = sum(len(m.body) for m in messages) / len(messages)
        print(f"{args.messages} messages of {size:.0f} bytes on average over {waybills} waybills", flush=True)
        with partner_topology(args.amqp_url, [partner.code, reference.code]):
            started = time.perf_counter()
            await stage_all(factory, partner.code, messages)
            print(f"staged in {time.perf_counter() - started:.1f} s", flush=True)
            ids = {m.message_id for m in messages}
            raw = await reference_run(args.amqp_url, reference.code, messages, batch_size=args.batch_size)
            raw_check = check_queue(args.amqp_url, outbound_queue(reference.code), ids)
            relay, batches, refused = await drain_outbox(factory, args.amqp_url, batch_size=args.batch_size)
            relay_check = check_queue(args.amqp_url, outbound_queue(partner.code), ids)
            sent = await count_sent(factory)
        return report(args, relay, raw, batches=batches, refused=refused, sent=sent, checks=(raw_check, relay_check))
    finally:
        await engine.dispose()


def report(
    args: argparse.Namespace,
    relay: Rate,
    raw: Rate,
    *,
    batches: int,
    refused: int,
    sent: int,
    checks: tuple[QueueCheck, QueueCheck],
) -> int:
    """Print the figures and the checks; 0 if every message arrived exactly once, else 1."""
    print(f"\nbackend {args.database}, batch size {args.batch_size}")
    print_rates([raw, relay], measured=relay, reference=raw, aim_per_s=AIM_PER_S)
    print(f"relay: {batches} batches, {refused} refused, {sent} outbox rows marked sent of {args.messages}")
    raw_check, relay_check = checks
    print(raw_check.line("reference queue"))
    print(relay_check.line("relay queue    "))
    return 0 if relay_check.exactly_once and raw_check.exactly_once and sent == args.messages else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000, help="outbox rows to relay (default 20000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="rows per relay batch and per confirm batch")
    parser.add_argument("--waybills", type=int, default=0, help="waybills the rows are about (default messages/10)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES_URL, help="PostgreSQL server URL without a database")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL, help="RabbitMQ URL")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 if a message was lost or duplicated."""
    args = parse_args(argv)
    with bench_database(args.database, args.postgres) as database_url:
        return asyncio.run(run_async(args, database_url))


if __name__ == "__main__":
    raise SystemExit(main())
