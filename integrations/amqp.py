"""AMQP plumbing shared by the relay, the consumers and the simulators (pika).

:class:`ConfirmingPublisher` publishes many messages on one channel in confirm mode and waits for the
broker's acknowledgements of the whole batch at once, on the running asyncio loop: a confirm per
message, one round trip per batch. Messages are persistent and ``mandatory``, so a message no queue
takes comes back as a failure instead of vanishing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Sequence
from typing import Any

import msgspec
import pika
from pika.adapters.asyncio_connection import AsyncioConnection

__all__ = ("ConfirmingPublisher", "Publication", "PublisherUnavailableError", "connection_parameters", "properties_for")

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


class PublisherUnavailableError(ConnectionError):
    """The broker cannot be reached, or the connection dropped while messages waited for confirms."""


class Publication(msgspec.Struct, kw_only=True, frozen=True):
    """One message to publish."""

    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    message_type: str
    correlation_id: str | None = None
    content_type: str = "application/json"
    schema_version: int = 1
    timestamp: int | None = None
    """Seconds since the epoch; now when omitted."""
    headers: dict[str, Any] = msgspec.field(default_factory=dict)


def connection_parameters(url: str | None, *, heartbeat: int = 30) -> pika.URLParameters:
    """pika parameters for ``url`` with a heartbeat (so a dead peer is noticed) and a short connect timeout."""
    parameters = pika.URLParameters(url or DEFAULT_URL)
    parameters.heartbeat = heartbeat
    parameters.blocked_connection_timeout = 60
    parameters.socket_timeout = 5
    parameters.connection_attempts = 1
    return parameters


def properties_for(message: Publication) -> pika.BasicProperties:
    """Persistent AMQP properties carrying the message's id, type, schema version, time and correlation id."""
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=message.message_id,
        type=message.message_type,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        timestamp=message.timestamp if message.timestamp is not None else int(time.time()),
        headers={"schema-version": message.schema_version, **message.headers},
    )


class ConfirmingPublisher:
    """One connection and one channel in publisher-confirm mode, driven by the asyncio loop.

    Not thread-safe: use it from the loop that connected it. It does not reconnect by itself; after
    :class:`PublisherUnavailableError` the caller closes it and makes a new one (with backoff).
    """

    def __init__(self, url: str | None) -> None:
        self._parameters = connection_parameters(url)
        self._connection: AsyncioConnection | None = None
        self._channel: Any = None
        self._next_tag = 0
        self._waiting: dict[int, asyncio.Future[str | None]] = {}
        self._returned: dict[str, str] = {}
        self._closed_reason: BaseException | None = None

    @property
    def is_open(self) -> bool:
        """Whether the channel is open and usable."""
        return self._channel is not None and self._channel.is_open and self._closed_reason is None

    async def connect(self, timeout_s: float = 10.0) -> None:
        """Open the connection and a confirm-mode channel."""
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()

        def on_open(connection: Any) -> None:
            connection.channel(on_open_callback=on_channel)

        def on_channel(channel: Any) -> None:
            self._channel = channel
            channel.add_on_close_callback(lambda _ch, reason: self._fail_all(reason))
            channel.add_on_return_callback(self._on_return)
            channel.confirm_delivery(self._on_confirm, callback=lambda _frame: _resolve(opened))

        def on_open_error(_connection: Any, error: BaseException) -> None:
            if not opened.done():
                opened.set_exception(PublisherUnavailableError(f"cannot connect to the broker: {error}"))

        self._connection = AsyncioConnection(
            self._parameters,
            on_open_callback=on_open,
            on_open_error_callback=on_open_error,
            on_close_callback=lambda _conn, reason: self._fail_all(reason),
            custom_ioloop=loop,
        )
        try:
            await asyncio.wait_for(opened, timeout_s)
        except TimeoutError:
            await self.close()
            raise PublisherUnavailableError("timed out connecting to the broker") from None

    def _fail_all(self, reason: BaseException) -> None:
        self._closed_reason = reason
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(PublisherUnavailableError(f"connection lost: {reason}"))
        self._waiting.clear()

    def _on_return(self, _channel: Any, method: Any, properties: Any, _body: bytes) -> None:
        if properties.message_id:
            self._returned[properties.message_id] = f"unroutable ({method.reply_code} {method.reply_text})"

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        acked = isinstance(method, pika.spec.Basic.Ack)
        if method.multiple:  # tags are waiting in increasing order: take them from the front
            tags = list(itertools.takewhile(lambda t: t <= method.delivery_tag, self._waiting))
        else:
            tags = [method.delivery_tag]
        for tag in tags:
            future = self._waiting.pop(tag, None)
            if future is not None and not future.done():
                future.set_result(None if acked else "refused by the broker (nack)")

    async def publish_batch(self, messages: Sequence[Publication], timeout_s: float = 30.0) -> list[str | None]:
        """Publish ``messages`` in order and wait for every confirm.

        Returns, for each message, ``None`` if the broker took it, or why not (nack, unroutable).

        Raises:
            PublisherUnavailableError: the connection is down or dropped before all confirms arrived.
        """
        if not self.is_open:
            raise PublisherUnavailableError("the publisher is not connected")
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[str | None]] = []
        for message in messages:
            self._next_tag += 1
            future: asyncio.Future[str | None] = loop.create_future()
            self._waiting[self._next_tag] = future
            futures.append(future)
            self._channel.basic_publish(
                message.exchange, message.routing_key, message.body, properties_for(message), mandatory=True
            )
        try:
            outcomes = await asyncio.wait_for(asyncio.gather(*futures), timeout_s)
        except TimeoutError:
            raise PublisherUnavailableError("timed out waiting for publisher confirms") from None
        return [
            self._returned.pop(m.message_id, None) or outcome for m, outcome in zip(messages, outcomes, strict=True)
        ]

    async def close(self) -> None:
        """Close the connection (quietly if it is already gone)."""
        connection, self._connection = self._connection, None
        if connection is None or connection.is_closed or connection.is_closing:
            return
        closed = asyncio.get_running_loop().create_future()
        connection.add_on_close_callback(lambda _c, _r: _resolve(closed))
        connection.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closed, 5)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
