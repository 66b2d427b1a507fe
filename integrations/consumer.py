"""Idempotent pika consumers of partners' queues.

Each consumer thread owns one blocking pika connection (pika connections are not thread-safe) and one
asyncio loop with its own database engine. Messages are taken in batches (prefetch twice the batch):
a batch is applied in one database transaction together with the ids it claims in the inbox, and the
broker's deliveries are acknowledged only after that transaction has committed. A copy delivered again
(the broker restarted, the consumer died before its ack) finds its id in the inbox and is acknowledged
without being applied.

Per message, one of four outcomes:

- applied (and recorded in the inbox);
- duplicate: acknowledged, not applied again;
- parked: its waybill is not known yet; republished to the queue's retry queue, back in a few seconds,
  dead-lettered after ``max_parks`` tries;
- dead-lettered: unreadable or refused for good; republished to the queue's dead-letter queue with
  the reason in its headers, recorded in the inbox so that a copy is not applied either.

pika never reconnects by itself: on a lost connection the thread reconnects with backoff, and the
broker delivers again whatever was not acknowledged.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import pika
import pika.exceptions
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory
from core.errors import DomainError
from core.settings import Settings
from integrations.amqp import connection_parameters
from integrations.inbox import claim_messages, release_messages
from integrations.topology import DEAD_EXCHANGE, RETRY_EXCHANGE

__all__ = (
    "ConsumerStats",
    "Handler",
    "Incoming",
    "MalformedMessageError",
    "NotYetKnownError",
    "PartnerConsumer",
    "incoming_from",
    "stable_message_id",
)

_log = structlog.get_logger("integrations.consumer")

PARKS_HEADER = "x-freight-parks"
REASON_HEADER = "x-freight-reason"
CONSUMER_HEADER = "x-freight-consumer"
_AMQP_ERRORS = (pika.exceptions.AMQPError, OSError)


class MalformedMessageError(Exception):
    """The message cannot be read: it goes to the dead-letter queue with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotYetKnownError(Exception):
    """What the message is about (its waybill) is not known yet: it is parked and tried again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Incoming(msgspec.Struct, kw_only=True, frozen=True):
    """A delivery taken from the broker."""

    tag: int
    body: bytes
    message_id: str | None
    message_type: str | None
    content_type: str | None
    correlation_id: str | None
    headers: dict[str, Any]
    properties: Any = None
    """The pika properties, kept to republish the message unchanged."""

    @property
    def parks(self) -> int:
        """How often the message has been parked so far."""
        return int(self.headers.get(PARKS_HEADER, 0) or 0)


def stable_message_id(incoming: Incoming) -> str:
    """The sender's message id, or failing that a digest of the body (the same bytes are the same message)."""
    if incoming.message_id:
        return incoming.message_id[:100]
    return "sha256:" + hashlib.sha256(incoming.body).hexdigest()


class Handler(Protocol):
    """What a consumer does with one kind of partner message."""

    consumer: str
    """Name under which applied messages are recorded in the inbox."""

    def message_id(self, incoming: Incoming) -> str:
        """The message's id, stable across retries."""
        ...

    def decode(self, incoming: Incoming) -> Any:
        """Read the message; raises :class:`MalformedMessageError` when it cannot be read."""
        ...

    async def apply_many(self, session: AsyncSession, decoded: list[Any]) -> dict[int, str]:
        """Apply decoded messages in ``session`` (the caller commits), as few statements as it can.

        Returns the messages to park (their index → why: what they are about is not known yet); those
        must leave nothing behind. Raises a ``DomainError`` or :class:`MalformedMessageError` to refuse
        the lot: the consumer then applies the messages one at a time to find the one at fault.
        """
        ...


class ConsumerStats(msgspec.Struct, kw_only=True):
    """Counts of one consumer (updated as it goes; read them from another thread for progress)."""

    received: int = 0
    applied: int = 0
    duplicates: int = 0
    parked: int = 0
    dead_lettered: int = 0
    batches: int = 0
    reconnects: int = 0


class _BatchResult(msgspec.Struct, kw_only=True):
    applied: int = 0
    duplicates: int = 0
    parks: list[tuple[Incoming, str]] = msgspec.field(default_factory=list)
    dead: list[tuple[Incoming, str, str]] = msgspec.field(default_factory=list)
    """(message, id, reason)"""


class PartnerConsumer:
    """Consume one queue with one handler, in the calling thread, until ``stop`` is set."""

    def __init__(
        self,
        *,
        settings: Settings,
        amqp_url: str | None,
        queue: str,
        handler: Handler,
        batch_size: int | None = None,
        max_parks: int | None = None,
        idle_flush_s: float = 0.05,
        stats: ConsumerStats | None = None,
    ) -> None:
        self.settings = settings
        self.amqp_url = amqp_url
        self.queue = queue
        self.handler = handler
        self.batch_size = batch_size or settings.partner_batch_size
        self.max_parks = settings.partner_max_parks if max_parks is None else max_parks
        self.idle_flush_s = idle_flush_s
        self.stats = stats or ConsumerStats()

    def run(self, stop: threading.Event, *, on_batch: Callable[[ConsumerStats], None] | None = None) -> None:
        """Consume until ``stop`` is set, reconnecting with backoff whenever the connection is lost."""
        loop = asyncio.new_event_loop()
        engine = create_engine(self.settings)
        factory = create_session_factory(engine)
        backoff = 0.5
        try:
            while not stop.is_set():
                try:
                    self._consume(loop, factory, stop, on_batch)
                    backoff = 0.5
                except _AMQP_ERRORS as exc:
                    self.stats.reconnects += 1
                    _log.warning("consumer_connection_lost", queue=self.queue, error=repr(exc), retry_in_s=backoff)
                    stop.wait(backoff)
                    backoff = min(30.0, backoff * 2)
        finally:
            loop.run_until_complete(engine.dispose())
            loop.close()

    def _consume(
        self,
        loop: asyncio.AbstractEventLoop,
        factory: async_sessionmaker[AsyncSession],
        stop: threading.Event,
        on_batch: Callable[[ConsumerStats], None] | None,
    ) -> None:
        connection = pika.BlockingConnection(connection_parameters(self.amqp_url))
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self.batch_size * 2)
            batch: list[Incoming] = []
            last_arrival = time.monotonic()
            for method, properties, body in channel.consume(self.queue, inactivity_timeout=self.idle_flush_s):
                if method is not None:
                    batch.append(incoming_from(method, properties, body))
                    last_arrival = time.monotonic()
                idle = time.monotonic() - last_arrival >= self.idle_flush_s
                if batch and (len(batch) >= self.batch_size or method is None or idle):
                    self._handle_batch_or_requeue(loop, factory, channel, batch, stop)
                    batch = []
                    if on_batch is not None:
                        on_batch(self.stats)
                if stop.is_set():
                    break
            if channel.is_open:
                channel.cancel()
        finally:
            if connection.is_open:
                connection.close()

    def _handle_batch_or_requeue(
        self,
        loop: asyncio.AbstractEventLoop,
        factory: async_sessionmaker[AsyncSession],
        channel: Any,
        batch: list[Incoming],
        stop: threading.Event,
    ) -> None:
        """Handle a batch; if the database fails, give the batch back to the broker and pause."""
        try:
            self._handle_batch(loop, factory, channel, batch)
        except _AMQP_ERRORS:
            raise
        except Exception as exc:  # the database is down or a bug: the broker redelivers (delivery limit)
            _log.exception("consumer_batch_failed", queue=self.queue, error=repr(exc))
            channel.basic_nack(batch[-1].tag, multiple=True, requeue=True)
            stop.wait(1.0)

    def _handle_batch(
        self,
        loop: asyncio.AbstractEventLoop,
        factory: async_sessionmaker[AsyncSession],
        channel: Any,
        batch: list[Incoming],
    ) -> None:
        self.stats.received += len(batch)
        result = loop.run_until_complete(self._apply_batch(factory, batch))
        for incoming, reason in result.parks:
            if incoming.parks + 1 > self.max_parks:
                result.dead.append(
                    (incoming, self.handler.message_id(incoming), f"not applied after {incoming.parks} tries: {reason}")
                )
            else:
                self._republish(
                    channel, incoming, RETRY_EXCHANGE, {PARKS_HEADER: incoming.parks + 1, REASON_HEADER: reason}
                )
                self.stats.parked += 1
        for incoming, _message_id, reason in result.dead:
            self._republish(channel, incoming, DEAD_EXCHANGE, {REASON_HEADER: reason[:1000]})
            _log.warning("message_dead_lettered", queue=self.queue, message_id=incoming.message_id, reason=reason)
        if result.dead:
            loop.run_until_complete(self._record_dead(factory, result.dead))
        channel.basic_ack(batch[-1].tag, multiple=True)
        self.stats.applied += result.applied
        self.stats.duplicates += result.duplicates
        self.stats.dead_lettered += len(result.dead)
        self.stats.batches += 1

    def _republish(self, channel: Any, incoming: Incoming, exchange: str, headers: dict[str, Any]) -> None:
        """Publish a copy (confirmed, mandatory) before the original is acknowledged."""
        properties = incoming.properties or pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent)
        properties.headers = {**(properties.headers or {}), **headers, CONSUMER_HEADER: self.handler.consumer}
        properties.delivery_mode = pika.DeliveryMode.Persistent.value
        channel.basic_publish(exchange, self.queue, incoming.body, properties, mandatory=True)

    async def _apply_batch(self, factory: async_sessionmaker[AsyncSession], batch: list[Incoming]) -> _BatchResult:
        result = _BatchResult()
        readable: list[tuple[Incoming, str, Any]] = []
        seen: set[str] = set()
        for incoming in batch:
            message_id = self.handler.message_id(incoming)
            if message_id in seen:
                result.duplicates += 1
                continue
            seen.add(message_id)
            try:
                readable.append((incoming, message_id, self.handler.decode(incoming)))
            except MalformedMessageError as exc:
                result.dead.append((incoming, message_id, f"unreadable: {exc.reason}"))
        try:
            async with factory() as session, session.begin():
                new = await claim_messages(session, self.handler.consumer, [m for _, m, _ in readable])
                fresh = [item for item in readable if item[1] in new]
                parked = await self.handler.apply_many(session, [decoded for _, _, decoded in fresh])
                if parked:
                    await release_messages(session, self.handler.consumer, [fresh[i][1] for i in parked])
            result.applied += len(fresh) - len(parked)
            result.duplicates += len(readable) - len(fresh)
            result.parks.extend((fresh[i][0], reason) for i, reason in parked.items())
        except (DomainError, MalformedMessageError):
            for item in readable:
                await self._apply_one(factory, item, result)
        return result

    async def _apply_one(
        self, factory: async_sessionmaker[AsyncSession], item: tuple[Incoming, str, Any], result: _BatchResult
    ) -> None:
        """Apply one message in its own transaction (after its batch failed), sorting out why it fails."""
        incoming, message_id, decoded = item
        try:
            async with factory() as session, session.begin():
                if not await claim_messages(session, self.handler.consumer, [message_id]):
                    result.duplicates += 1
                    return
                parked = await self.handler.apply_many(session, [decoded])
                if parked:
                    raise NotYetKnownError(parked[0])  # rolls the claim back
            result.applied += 1
        except NotYetKnownError as exc:
            result.parks.append((incoming, exc.reason))
        except MalformedMessageError as exc:
            result.dead.append((incoming, message_id, f"unreadable: {exc.reason}"))
        except DomainError as exc:
            result.dead.append((incoming, message_id, f"refused: {exc}"))

    async def _record_dead(
        self, factory: async_sessionmaker[AsyncSession], dead: list[tuple[Incoming, str, str]]
    ) -> None:
        async with factory() as session, session.begin():
            await claim_messages(
                session,
                self.handler.consumer,
                [message_id for _, message_id, _ in dead],
                outcome="dead_lettered",
                details={message_id: {"reason": reason[:500]} for _, message_id, reason in dead},
            )


def incoming_from(method: Any, properties: Any, body: bytes) -> Incoming:
    """The :class:`Incoming` of a pika delivery."""
    return Incoming(
        tag=method.delivery_tag,
        body=body,
        message_id=properties.message_id,
        message_type=properties.type,
        content_type=properties.content_type,
        correlation_id=properties.correlation_id,
        headers=dict(properties.headers or {}),
        properties=properties,
    )
