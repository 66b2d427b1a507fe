"""What both partner benchmarks share: the throw-away database, settings, partners and their queues,
raw pika publishing and consuming (the references), the check of what a queue holds, and the report."""

from __future__ import annotations

import asyncio
import base64
import os
import resource
import secrets
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pika
from pika.adapters.asyncio_connection import AsyncioConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stdnum.cn import uscc

from accounts import service as accounts
from accounts.models import Organisation
from accounts.schemas import OrganisationCreate, OrganisationRole
from bench._harness import create_database, drop_database
from core.migrate import upgrade_database
from core.settings import Settings, get_settings, load_settings
from integrations.amqp import connection_parameters
from integrations.partners import PartnerInfo, load_partner, register_partner
from integrations.runner import declare_partner_topology
from integrations.schemas import PartnerKind
from integrations.topology import RETRY_DELAY_MS, dead_letter_queue, inbound_queue, outbound_queue, retry_queue

__all__ = (
    "DEFAULT_AMQP_URL",
    "DEFAULT_POSTGRES_URL",
    "QueueCheck",
    "Rate",
    "RawMessage",
    "bench_database",
    "check_queue",
    "configure",
    "consume_raw",
    "cpu_seconds",
    "new_partner",
    "new_partner_code",
    "new_uscc",
    "partner_topology",
    "print_rates",
    "publish_raw",
)

DEFAULT_POSTGRES_URL = os.environ.get("FREIGHT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DEFAULT_AMQP_URL = os.environ.get("FREIGHT_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


# --- database and settings -------------------------------------------------------------------------


@contextmanager
def bench_database(backend: str, postgres_url: str) -> Iterator[str]:
    """A fresh, migrated database (PostgreSQL, or a SQLite file), dropped afterwards whatever happened.

    Args:
        backend: ``postgresql`` or ``sqlite``.
        postgres_url: PostgreSQL server URL without a database.

    Yields:
        The database URL.
    """
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="freight-bench-") as scratch:
            url = f"sqlite:///{Path(scratch) / 'freight.db'}"
            upgrade_database(url)
            yield url
        return
    name = create_database(postgres_url)
    print(f"database {name}", flush=True)
    try:
        url = f"{postgres_url}/{name}"
        upgrade_database(url)
        yield url
    finally:
        drop_database(postgres_url, name)


def configure(database_url: str, amqp_url: str) -> Settings:
    """Point the process-wide settings at the benchmark database and broker, with a throw-away signing key.

    The waybill record's signer and the outbox notices read the process-wide settings, so they are
    set in the environment, not only passed around.
    """
    os.environ.update(
        {
            "FREIGHT_DATABASE_URL": database_url,
            "FREIGHT_PARTNER_AMQP_URL": amqp_url,
            "FREIGHT_ACCESS_LOG": "false",
            "FREIGHT_LOG_LEVEL": "WARNING",
            "FREIGHT_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )
    get_settings.cache_clear()
    return load_settings()


# --- partners and queues ---------------------------------------------------------------------------

_ROLES = {PartnerKind.NODE: OrganisationRole.REGULATOR, PartnerKind.TERMINAL: OrganisationRole.PORT}


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def new_uscc(region: str = "440606") -> str:
    """A fresh, valid unified social credit code of a company registered in ``region`` (Foshan Shunde)."""
    body = "91" + region + "".join(secrets.choice(_USCC_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def new_partner_code() -> str:
    """A fresh partner code (it names the partner's queues)."""
    return f"b{uuid.uuid4().hex[:10]}"


async def new_partner(
    factory: async_sessionmaker[AsyncSession], kind: PartnerKind, *, locode: str | None = None
) -> PartnerInfo:
    """Register a partner with a fresh code and an organisation of its own (a port at ``locode``, or the node).

    Args:
        factory: Sessions of the benchmark database.
        kind: ``NODE`` or ``TERMINAL``.
        locode: The terminal's place.

    Returns:
        The partner as the consumers see it.
    """
    code = new_partner_code()
    async with factory() as session:
        data = OrganisationCreate(
            name=f"基准测试伙伴{code}", role=_ROLES[kind], uscc=new_uscc(), places=[locode] if locode else []
        )
        created = await accounts.create_organisation(session, data=data)
        organisation = await session.get(Organisation, created.id)
        assert organisation is not None
        await register_partner(
            session,
            code=code,
            kind=kind,
            name="LOGINK" if kind is PartnerKind.NODE else f"Terminal {locode}",
            organisation=organisation,
            locode=locode,
            message_format="edifact" if kind is PartnerKind.TERMINAL else "json",
        )
        await session.commit()
        return await load_partner(session, code)


@contextmanager
def partner_topology(amqp_url: str, codes: Sequence[str]) -> Iterator[None]:
    """Declare the exchanges and the queues of ``codes``; delete those queues afterwards."""
    declare_partner_topology(amqp_url, codes, retry_ms=RETRY_DELAY_MS)
    try:
        yield
    finally:
        connection = pika.BlockingConnection(connection_parameters(amqp_url))
        try:
            channel = connection.channel()
            for code in codes:
                for queue in (inbound_queue(code), outbound_queue(code)):
                    for name in (queue, dead_letter_queue(queue), retry_queue(queue)):
                        channel.queue_delete(name)
        finally:
            connection.close()


# --- raw pika: the references ----------------------------------------------------------------------


@dataclass(frozen=True)
class RawMessage:
    """A message to publish as it is: id, type, waybill and body."""

    message_id: str
    message_type: str
    correlation_id: str
    body: bytes
    content_type: str = "application/json"


def _properties(message: RawMessage) -> pika.BasicProperties:
    """The properties the relay gives a message (persistent, id, type, time, schema version)."""
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        message_id=message.message_id,
        type=message.message_type,
        correlation_id=message.correlation_id,
        content_type=message.content_type,
        timestamp=int(time.time()),
        headers={"schema-version": 1},
    )


class _RawConfirms:
    """A confirm-mode channel on the asyncio loop that tracks only the highest confirmed tag."""

    def __init__(self, amqp_url: str) -> None:
        self.parameters = connection_parameters(amqp_url)
        self.connection: AsyncioConnection | None = None
        self.channel: Any = None
        self.confirmed = 0
        self.nacked = 0
        self.returned = 0
        self.wanted = 0
        self.reached: asyncio.Future[None] | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()

        def on_channel(channel: Any) -> None:
            self.channel = channel
            channel.add_on_return_callback(self._on_return)
            channel.confirm_delivery(self._on_confirm, callback=lambda _frame: opened.set_result(None))

        self.connection = AsyncioConnection(
            self.parameters,
            on_open_callback=lambda connection: connection.channel(on_open_callback=on_channel),
            on_open_error_callback=lambda _c, error: opened.set_exception(ConnectionError(str(error))),
            custom_ioloop=loop,
        )
        await asyncio.wait_for(opened, 10)

    def _on_return(self, *_args: Any) -> None:
        self.returned += 1

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        if not isinstance(method, pika.spec.Basic.Ack):
            self.nacked += 1
        self.confirmed = max(self.confirmed, method.delivery_tag)
        if self.reached is not None and not self.reached.done() and self.confirmed >= self.wanted:
            self.reached.set_result(None)

    async def publish_batch(self, exchange: str, routing_key: str, batch: Sequence[RawMessage]) -> None:
        """Publish ``batch`` and wait until the broker has confirmed its last message."""
        for message in batch:
            self.channel.basic_publish(exchange, routing_key, message.body, _properties(message), mandatory=True)
        self.wanted += len(batch)
        self.reached = asyncio.get_running_loop().create_future()
        if self.confirmed < self.wanted:
            await asyncio.wait_for(self.reached, 60)

    async def close(self) -> None:
        if self.connection is not None and not self.connection.is_closed:
            closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.connection.add_on_close_callback(lambda _c, _r: closed.done() or closed.set_result(None))
            self.connection.close()
            await asyncio.wait_for(closed, 5)


async def publish_raw(
    amqp_url: str, exchange: str, routing_key: str, messages: Sequence[RawMessage], *, batch_size: int
) -> tuple[float, int]:
    """Publish ``messages`` with confirms, ``batch_size`` at a time, on one AsyncioConnection channel.

    Returns:
        Seconds from the first publish to the last confirm (the connection is opened before), and
        how many messages the broker nacked or returned.
    """
    publisher = _RawConfirms(amqp_url)
    await publisher.open()
    try:
        started = time.perf_counter()
        for first in range(0, len(messages), batch_size):
            await publisher.publish_batch(exchange, routing_key, messages[first : first + batch_size])
        elapsed = time.perf_counter() - started
    finally:
        await publisher.close()
    return elapsed, publisher.nacked + publisher.returned


class _SharedCount:
    """A count several threads add to; ``done`` is set when it reaches ``target``."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.value = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def add(self, count: int) -> None:
        with self.lock:
            self.value += count
            if self.value >= self.target:
                self.done.set()


def _consume_thread(amqp_url: str, queue: str, batch_size: int, shared: _SharedCount) -> None:
    """Take messages in batches with a prefetch of twice the batch, acknowledging each batch at once."""
    connection = pika.BlockingConnection(connection_parameters(amqp_url))
    try:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=batch_size * 2)
        pending, last_tag = 0, 0
        for method, _properties, _body in channel.consume(queue, inactivity_timeout=0.05):
            if method is not None:
                pending, last_tag = pending + 1, method.delivery_tag
            if pending and (pending >= batch_size or method is None):
                channel.basic_ack(last_tag, multiple=True)
                shared.add(pending)
                pending = 0
            if shared.done.is_set():
                break
        channel.cancel()
    finally:
        connection.close()


def consume_raw(amqp_url: str, queue: str, *, count: int, batch_size: int, threads: int) -> float:
    """Consume ``count`` messages from ``queue`` with ``threads`` blocking connections, doing nothing with them.

    Returns:
        Seconds from starting the threads to the last batch acknowledged.
    """
    shared = _SharedCount(count)
    started = time.perf_counter()
    workers = [
        threading.Thread(target=_consume_thread, args=(amqp_url, queue, batch_size, shared), daemon=True)
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    shared.done.wait(600)
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join(30)
    return elapsed


# --- what a queue holds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueCheck:
    """Messages found on a queue, by AMQP message id, against those expected."""

    expected: int
    received: int
    distinct: int
    missing: int
    unexpected: int

    @property
    def exactly_once(self) -> bool:
        """Every expected message arrived once, and nothing else."""
        return self.received == self.expected == self.distinct and not self.missing and not self.unexpected

    def line(self, name: str) -> str:
        """One line for the report."""
        verdict = "ok, each exactly once" if self.exactly_once else "NOT exactly once"
        return (
            f"{name}: expected {self.expected}, received {self.received}, distinct ids {self.distinct}, "
            f"missing {self.missing}, unexpected {self.unexpected}: {verdict}"
        )


def check_queue(amqp_url: str, queue: str, expected_ids: set[str], *, idle_s: float = 2.0) -> QueueCheck:
    """Take everything from ``queue`` (until it stays empty for ``idle_s``) and count it by message id."""
    seen: Counter[str] = Counter()
    connection = pika.BlockingConnection(connection_parameters(amqp_url))
    try:
        channel = connection.channel()
        channel.basic_qos(prefetch_count=2000)
        last_tag = acked = 0
        for method, properties, _body in channel.consume(queue, inactivity_timeout=idle_s):
            if method is None:
                break
            seen[properties.message_id or ""] += 1
            last_tag = method.delivery_tag
            if last_tag - acked >= 1000:
                channel.basic_ack(last_tag, multiple=True)
                acked = last_tag
        if last_tag > acked:
            channel.basic_ack(last_tag, multiple=True)
        channel.cancel()
    finally:
        connection.close()
    return QueueCheck(
        expected=len(expected_ids),
        received=sum(seen.values()),
        distinct=len(seen),
        missing=len(expected_ids - seen.keys()),
        unexpected=len(seen.keys() - expected_ids),
    )


# --- report ----------------------------------------------------------------------------------------


def cpu_seconds() -> float:
    """User and system CPU seconds of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Rate:
    """A measured run: how many things in how long, and the CPU this process used meanwhile."""

    name: str
    count: int
    seconds: float
    cpu_s: float
    unit: str = "msgs"

    @property
    def per_second(self) -> float:
        """Throughput."""
        return self.count / self.seconds if self.seconds > 0 else 0.0


def print_rates(rates: Sequence[Rate], *, measured: Rate, reference: Rate, aim_per_s: float) -> None:
    """Print one line per run, then the ratio of ``measured`` to ``reference`` and whether the aim is met."""
    print()
    print(f"{'run':<34} {'count':>7} {'seconds':>8} {'per second':>11}  {'CPU of this process':>20}")
    for rate in rates:
        share = 100.0 * rate.cpu_s / rate.seconds if rate.seconds else 0.0
        print(
            f"{rate.name:<34} {rate.count:>7} {rate.seconds:>8.2f} {rate.per_second:>8.0f} {rate.unit + '/s':<8}"
            f" {rate.cpu_s:>6.2f} s ({share:3.0f}% of a core)"
        )
    ratio = measured.per_second / reference.per_second if reference.per_second else 0.0
    verdict = "met" if measured.per_second >= aim_per_s else "NOT met"
    print(f"ratio {measured.name} / {reference.name}: {ratio:.3f}")
    print(f"aim >= {aim_per_s:,.0f} {measured.unit}/s: {verdict} ({measured.per_second:,.0f}/s)")
