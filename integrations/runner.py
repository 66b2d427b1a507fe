"""Starting the partner exchange: declaring the topology, running consumer threads and the relay."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import timedelta

import httpx
import pika
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory, utcnow
from core.settings import Settings
from integrations.amqp import connection_parameters
from integrations.consumer import ConsumerStats, Handler, PartnerConsumer
from integrations.node import NodeHandler
from integrations.outbox import prune_exchange_records
from integrations.partners import PartnerInfo, list_partners
from integrations.relay import RelayTotals, run_relay, sleep_unless_stopped
from integrations.schemas import PartnerKind
from integrations.topology import declare_topology, inbound_queue
from waybill.subscriptions import deliver_due

__all__ = (
    "ConsumerGroup",
    "declare_partner_topology",
    "handler_for",
    "load_partners",
    "partner_amqp_url",
    "relay_and_deliver",
    "start_consumers",
)

_log = structlog.get_logger("integrations.runner")


def partner_amqp_url(settings: Settings) -> str | None:
    """The broker of the partner exchange (defaults to the background-job broker)."""
    return settings.partner_amqp_url or settings.amqp_url


def declare_partner_topology(amqp_url: str | None, codes: Sequence[str], *, retry_ms: int) -> None:
    """Declare exchanges and the queues of ``codes`` (idempotent)."""
    connection = pika.BlockingConnection(connection_parameters(amqp_url))
    try:
        declare_topology(connection.channel(), codes, retry_ms=retry_ms)
    finally:
        connection.close()


async def load_partners(settings: Settings, codes: Sequence[str] = ()) -> list[PartnerInfo]:
    """Active partners (only ``codes``, when given)."""
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            partners = await list_partners(session)
    finally:
        await engine.dispose()
    return [p for p in partners if not codes or p.code in codes]


def handler_for(partner: PartnerInfo) -> Handler:
    """The handler of a partner's inbound messages."""
    if partner.kind is PartnerKind.NODE:
        return NodeHandler(partner)
    from integrations.terminal import TerminalHandler  # EDIFACT reading is loaded only where it is used

    return TerminalHandler(partner)


class ConsumerGroup:
    """Consumer threads, one pika connection each, stopped together."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.stats: dict[str, ConsumerStats] = {}

    def add(self, consumer: PartnerConsumer, name: str) -> None:
        """Start ``consumer`` in a thread of its own."""
        self.stats[name] = consumer.stats
        thread = threading.Thread(target=consumer.run, args=(self.stop,), name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the threads; what they had not acknowledged is delivered again later."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout_s)

    def totals(self) -> ConsumerStats:
        """The counts of all threads summed."""
        total = ConsumerStats()
        for stats in self.stats.values():
            for field in ConsumerStats.__struct_fields__:
                setattr(total, field, getattr(total, field) + getattr(stats, field))
        return total


def start_consumers(
    settings: Settings,
    partners: Sequence[PartnerInfo],
    *,
    threads_per_queue: int = 1,
    batch_size: int | None = None,
    max_parks: int | None = None,
) -> ConsumerGroup:
    """Start consumers of each partner's inbound queue."""
    group = ConsumerGroup()
    url = partner_amqp_url(settings)
    for partner in partners:
        for index in range(threads_per_queue):
            consumer = PartnerConsumer(
                settings=settings,
                amqp_url=url,
                queue=inbound_queue(partner.code),
                handler=handler_for(partner),
                batch_size=batch_size,
                max_parks=max_parks,
            )
            group.add(consumer, f"consume-{partner.code}-{index}")
    return group


async def _deliver_callbacks(settings: Settings, stop: asyncio.Event, interval_s: float) -> None:
    """Send shippers' signed callbacks from their outbox table (``subscription_delivery``) until stopped."""
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    try:
        async with httpx.AsyncClient() as client:
            while not stop.is_set():
                report = await deliver_due(factory, client=client)
                if report.attempted == 0:
                    await sleep_unless_stopped(stop, interval_s)
    finally:
        await engine.dispose()


PRUNE_INTERVAL_S = 600.0


async def _prune_periodically(
    factory: async_sessionmaker[AsyncSession], settings: Settings, stop: asyncio.Event
) -> None:
    """Every ten minutes, delete sent outbox rows and inbox entries older than the retention."""
    while not stop.is_set():
        older_than = utcnow() - timedelta(days=settings.partner_retention_days)
        async with factory() as session, session.begin():
            outbox, inbox = await prune_exchange_records(session, older_than=older_than)
        if outbox or inbox:
            _log.info("exchange_records_pruned", outbox=outbox, inbox=inbox, older_than=older_than.isoformat())
        await sleep_unless_stopped(stop, PRUNE_INTERVAL_S)


async def relay_and_deliver(
    settings: Settings, stop: asyncio.Event, *, callbacks: bool = True, batch_size: int = 1000
) -> RelayTotals:
    """Relay the outbox to RabbitMQ and deliver callbacks, until ``stop`` is set."""
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    tasks = [asyncio.create_task(_prune_periodically(factory, settings, stop))]
    if callbacks:
        tasks.append(asyncio.create_task(_deliver_callbacks(settings, stop, 1.0)))
    try:
        totals = await run_relay(factory, amqp_url=partner_amqp_url(settings), batch_size=batch_size, stop=stop)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()
    return totals
