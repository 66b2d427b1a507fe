"""``freight relay``: publish outbox rows to RabbitMQ, at least once and in order per waybill.

A batch is leased, published with confirms and marked sent in one database transaction: rows are
marked only after the broker's ack, so a relay that dies mid-batch leaves them pending and they are
sent again (consumers drop the copy by its message id). While the broker is down the relay waits and
reconnects, with backoff; nothing is lost because nothing leaves the outbox until it is confirmed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from integrations.amqp import ConfirmingPublisher, Publication, PublisherUnavailableError
from integrations.outbox import Outgoing, lease_due, mark_failed_attempt, mark_sent
from integrations.topology import OUTBOUND_EXCHANGE

__all__ = ("RelayTotals", "publication_of", "relay_batch", "run_relay", "sleep_unless_stopped")

_log = structlog.get_logger("integrations.relay")

MAX_BACKOFF_S = 30.0


class RelayTotals(msgspec.Struct, kw_only=True):
    """What a relay has done since it started."""

    published: int = 0
    refused: int = 0
    batches: int = 0
    reconnects: int = 0


def publication_of(row: Outgoing) -> Publication:
    """The AMQP message of an outbox row: routed to its partner, carrying its id, type and waybill."""
    return Publication(
        exchange=OUTBOUND_EXCHANGE,
        routing_key=row.destination,
        body=row.body,
        message_id=str(row.message_id),
        message_type=row.message_type,
        correlation_id=row.correlation_id,
        content_type=row.content_type,
        schema_version=row.schema_version,
        timestamp=int(row.created_at.timestamp()),
    )


async def relay_batch(
    session_factory: async_sessionmaker[AsyncSession], publisher: ConfirmingPublisher, *, limit: int = 500
) -> tuple[int, int]:
    """Lease, publish and mark one batch; returns (confirmed, refused).

    Raises:
        PublisherUnavailableError: the broker went away; the transaction is rolled back and the rows stay due.
    """
    async with session_factory() as session, session.begin():
        rows = await lease_due(session, limit=limit)
        if not rows:
            return 0, 0
        outcomes = await publisher.publish_batch([publication_of(row) for row in rows])
        sent = [row.id for row, outcome in zip(rows, outcomes, strict=True) if outcome is None]
        refused = {row.id: outcome for row, outcome in zip(rows, outcomes, strict=True) if outcome is not None}
        await mark_sent(session, sent)
        if refused:
            await mark_failed_attempt(session, refused, {row.id: row.attempts for row in rows})
            _log.warning("outbox_refused", count=len(refused), first=next(iter(refused.values())))
        return len(sent), len(refused)


async def run_relay(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    amqp_url: str | None,
    batch_size: int = 1000,
    idle_s: float = 0.2,
    stop: asyncio.Event | None = None,
    on_batch: Callable[[RelayTotals], None] | None = None,
) -> RelayTotals:
    """Relay until ``stop`` is set: publish due rows in batches, reconnecting with backoff while the broker is down."""
    stop = stop or asyncio.Event()
    totals = RelayTotals()
    backoff = 0.5
    publisher: ConfirmingPublisher | None = None
    while not stop.is_set():
        try:
            if publisher is None or not publisher.is_open:
                if publisher is not None:
                    await publisher.close()
                    totals.reconnects += 1
                publisher = ConfirmingPublisher(amqp_url)
                await publisher.connect()
                _log.info("relay_connected")
            sent, refused = await relay_batch(session_factory, publisher, limit=batch_size)
            backoff = 0.5
        except PublisherUnavailableError as exc:
            _log.warning("relay_broker_unavailable", error=str(exc), retry_in_s=backoff)
            if publisher is not None:
                await publisher.close()
            publisher = None
            totals.reconnects += 1
            await sleep_unless_stopped(stop, backoff)
            backoff = min(MAX_BACKOFF_S, backoff * 2)
            continue
        totals.published += sent
        totals.refused += refused
        if sent or refused:
            totals.batches += 1
            if on_batch is not None:
                on_batch(totals)
        if sent + refused < batch_size:
            await sleep_unless_stopped(stop, idle_s)
    if publisher is not None:
        await publisher.close()
    return totals


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
