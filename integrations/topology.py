"""The RabbitMQ topology of the partner exchange, declared idempotently at start.

::

    outbound                                         inbound
    relay ──▶ freight.outbound (topic) ──<code>──▶ freight.to.<code>      (partner consumes)
    partner ─▶ freight.inbound (topic) ──<code>──▶ freight.from.<code>    (our consumer)

    every queue Q (quorum, x-delivery-limit):
      rejected too often ──▶ freight.dead (direct) ──Q──▶ Q.dlq          (kept, with the reason)
      parked by a consumer ─▶ freight.retry (direct) ─Q──▶ Q.retry ──TTL──▶ (default exchange) ──▶ Q

Quorum queues replicate and survive a broker restart; their delivery limit turns a message that
keeps crashing a consumer into a dead letter instead of an endless loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

__all__ = (
    "DEAD_EXCHANGE",
    "DELIVERY_LIMIT",
    "INBOUND_EXCHANGE",
    "OUTBOUND_EXCHANGE",
    "RETRY_DELAY_MS",
    "RETRY_EXCHANGE",
    "dead_letter_queue",
    "declare_partner",
    "declare_topology",
    "inbound_queue",
    "outbound_queue",
    "retry_queue",
)

OUTBOUND_EXCHANGE = "freight.outbound"
INBOUND_EXCHANGE = "freight.inbound"
DEAD_EXCHANGE = "freight.dead"
RETRY_EXCHANGE = "freight.retry"
DELIVERY_LIMIT = 5
"""Deliveries of one message (redeliveries after a consumer died or rejected it) before it is dead-lettered."""
RETRY_DELAY_MS = 5_000
"""How long a parked message waits before it is delivered again."""


class Channel(Protocol):
    """The part of a pika channel (blocking) that declaring needs."""

    def exchange_declare(self, exchange: str, exchange_type: Any = ..., *, durable: bool = ...) -> Any: ...
    def queue_declare(self, queue: str, *, durable: bool = ..., arguments: dict[str, Any] | None = ...) -> Any: ...
    def queue_bind(self, queue: str, exchange: str, routing_key: str | None = ...) -> Any: ...


def outbound_queue(code: str) -> str:
    """The queue a partner reads our messages from."""
    return f"freight.to.{code}"


def inbound_queue(code: str) -> str:
    """The queue we read a partner's messages from."""
    return f"freight.from.{code}"


def dead_letter_queue(queue: str) -> str:
    """Where messages of ``queue`` refused for good are kept."""
    return f"{queue}.dlq"


def retry_queue(queue: str) -> str:
    """Where parked messages of ``queue`` wait before they return to it."""
    return f"{queue}.retry"


def _quorum_arguments(queue: str) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": DEAD_EXCHANGE,
        "x-dead-letter-routing-key": queue,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def _declare_queue_family(channel: Channel, queue: str, exchange: str, routing_key: str, retry_ms: int) -> None:
    channel.queue_declare(queue, durable=True, arguments=_quorum_arguments(queue))
    channel.queue_bind(queue, exchange, routing_key=routing_key)
    dead = dead_letter_queue(queue)
    channel.queue_declare(dead, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(dead, DEAD_EXCHANGE, routing_key=queue)
    waiting = retry_queue(queue)
    channel.queue_declare(
        waiting,
        durable=True,
        arguments={
            "x-queue-type": "quorum",
            "x-message-ttl": retry_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )
    channel.queue_bind(waiting, RETRY_EXCHANGE, routing_key=queue)


def declare_partner(channel: Channel, code: str, *, retry_ms: int = RETRY_DELAY_MS) -> None:
    """Declare one partner's two queues (to and from it), each with its dead-letter and retry queue."""
    _declare_queue_family(channel, outbound_queue(code), OUTBOUND_EXCHANGE, code, retry_ms)
    _declare_queue_family(channel, inbound_queue(code), INBOUND_EXCHANGE, code, retry_ms)


def declare_topology(channel: Channel, partner_codes: Iterable[str], *, retry_ms: int = RETRY_DELAY_MS) -> None:
    """Declare the exchanges and every partner's queues; declaring again changes nothing."""
    for exchange, kind in (
        (OUTBOUND_EXCHANGE, "topic"),
        (INBOUND_EXCHANGE, "topic"),
        (DEAD_EXCHANGE, "direct"),
        (RETRY_EXCHANGE, "direct"),
    ):
        channel.exchange_declare(exchange, kind, durable=True)
    for code in partner_codes:
        declare_partner(channel, code, retry_ms=retry_ms)
