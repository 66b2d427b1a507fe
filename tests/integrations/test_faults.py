"""Fault tests of the partner exchange, on the real RabbitMQ and PostgreSQL.

A stream of 10,000 outbound messages (outbox → ``freight relay`` → the partner's queue) and 10,000
inbound ones (the node's e-waybill acknowledgements → ``freight consume`` → one waybill change each),
with malformed messages mixed in, runs while the broker is restarted, or while the relay and the
consumer are killed and started again. Afterwards every message has been delivered and applied
exactly once: counted on both sides, not assumed.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pika
import pika.exceptions
import pytest
import sqlalchemy as sa
from sqlmodel import col

from integrations.models import InboxMessage
from integrations.outbox import stage_message
from integrations.schemas import PartnerKind
from integrations.topology import INBOUND_EXCHANGE, dead_letter_queue, inbound_queue, outbound_queue
from tests.integrations.conftest import AMQP_URL, RETRY_MS, issued_waybill, new_container_number
from waybill.models import WaybillChange

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

ROOT = Path(__file__).resolve().parents[2]
OUTBOUND = 10_000
INBOUND = 10_000
MALFORMED = 20
WAYBILLS = 100


def _freight(command: str, *args: str, database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FREIGHT_PARTNER_AMQP_URL": AMQP_URL,
        "FREIGHT_PARTNER_RETRY_MS": str(RETRY_MS),
        "FREIGHT_LOG_JSON": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("FREIGHT_AMQP_URL", None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", command, *args, "--database-url", database_url],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ack_message(number: str) -> tuple[str, bytes]:
    ref = str(uuid.uuid4())
    envelope = {
        "senderCode": "LOGINK",
        "recipientCode": "CN44FREIGHT",
        "documentName": "EWAYBILL_ACK",
        "messageRef": ref,
        "timestamp": datetime.now(UTC).isoformat(),
        "body": {"waybillNumber": number, "accepted": True, "inReplyTo": str(uuid.uuid4())},
    }
    return ref, msgspec.json.encode(envelope)


class PartnerSide:
    """The node as the test plays it: sends its messages until each is confirmed, and counts what it receives."""

    def __init__(self, code: str, messages: list[tuple[str | None, bytes]]) -> None:
        self.code = code
        self.messages = messages
        self.published = 0
        """Publish attempts, including those repeated after the broker went away."""
        self.confirmed = 0
        self.received: collections.Counter[str] = collections.Counter()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._send_all, daemon=True),
            threading.Thread(target=self._receive, daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)

    def _send_all(self) -> None:
        """Publish each message with a confirm; after a lost connection, send the unconfirmed one again."""
        position = 0
        while position < len(self.messages) and not self.stop.is_set():
            try:
                connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
                channel = connection.channel()
                channel.confirm_delivery()
                while position < len(self.messages):
                    message_id, body = self.messages[position]
                    self.published += 1
                    channel.basic_publish(
                        INBOUND_EXCHANGE,
                        self.code,
                        body,
                        pika.BasicProperties(delivery_mode=2, message_id=message_id, content_type="application/json"),
                        mandatory=True,
                    )
                    position += 1
                    self.confirmed += 1
                connection.close()
            except (pika.exceptions.AMQPError, OSError):
                time.sleep(0.5)

    def _receive(self) -> None:
        """Take our messages from the partner's queue, acknowledging each after counting it."""
        while not self.stop.is_set():
            try:
                connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
                channel = connection.channel()
                channel.basic_qos(prefetch_count=500)
                for method, properties, _body in channel.consume(outbound_queue(self.code), inactivity_timeout=0.2):
                    if method is not None:
                        self.received[properties.message_id] += 1
                        channel.basic_ack(method.delivery_tag)
                    if self.stop.is_set():
                        break
                connection.close()
            except (pika.exceptions.AMQPError, OSError):
                time.sleep(0.5)


async def _wait(condition: Callable[[], Awaitable[bool]], timeout_s: float, what: Callable[[], Awaitable[str]]) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out: {await what()}")


@pytest.fixture
def node_stream(client: Any, shipper: Any, make_partner: Any, session_factory: Any) -> dict[str, Any]:
    """Set up the partner, the waybills, 10,000 outbox rows and 10,000 (+ malformed) inbound messages."""
    holder: dict[str, Any] = {}

    async def prepare() -> dict[str, Any]:
        node = await make_partner(PartnerKind.NODE)
        numbers = [await issued_waybill(client, shipper, container=new_container_number()) for _ in range(WAYBILLS)]
        staged: set[str] = set()
        for start in range(0, OUTBOUND, 1000):
            async with session_factory() as session:
                for i in range(start, start + 1000):
                    row = stage_message(
                        session,
                        destination=node.code,
                        message_type="journey.status",
                        correlation_id=numbers[i % WAYBILLS],
                        body=msgspec.json.encode({"n": i}),
                    )
                    staged.add(str(row.message_id))
                await session.commit()
        inbound: list[tuple[str | None, bytes]] = [_ack_message(numbers[i % WAYBILLS]) for i in range(INBOUND)]
        for k in range(MALFORMED):
            inbound.insert((k + 1) * INBOUND // (MALFORMED + 1), (None, f"<garbage {k}>".encode()))
        return {"node": node, "numbers": numbers, "staged": staged, "inbound": inbound}

    holder["prepare"] = prepare
    return holder


async def _applied(session_factory: Any, consumer: str) -> dict[str, int]:
    async with session_factory() as session:
        rows = await session.execute(
            sa.select(col(InboxMessage.outcome), sa.func.count())
            .where(col(InboxMessage.consumer) == consumer)
            .group_by(col(InboxMessage.outcome))
        )
        return {outcome: int(count) for outcome, count in rows.all()}


async def _changes_per_reference(session_factory: Any, refs: set[str]) -> collections.Counter[str]:
    async with session_factory() as session:
        details = await session.scalars(
            sa.select(col(WaybillChange.detail)).where(col(WaybillChange.action) == "node_accepted")
        )
        return collections.Counter(d["message_ref"] for d in details if d.get("message_ref") in refs)


async def _run_stream(
    stream: dict[str, Any],
    *,
    database_url: str,
    session_factory: Any,
    tmp_path: Path,
    fault: Callable[[dict[str, subprocess.Popen[bytes]], PartnerSide], None],
) -> dict[str, int]:
    node = stream["node"]
    partner = PartnerSide(node.code, stream["inbound"])
    log = tmp_path / "freight.log"
    processes = {
        "relay": _freight("relay", "--no-callbacks", "--batch-size", "500", database_url=database_url, log=log),
        "consume": _freight("consume", "--partner", node.code, database_url=database_url, log=log),
    }
    refs = {ref for ref, _ in stream["inbound"] if ref is not None}
    consumer = f"node:{node.code}"

    async def started() -> bool:
        return len(partner.received) >= OUTBOUND // 10 and partner.confirmed >= INBOUND // 10

    async def not_started() -> str:
        return f"stream did not start: received {len(partner.received)}, confirmed {partner.confirmed}"

    async def done() -> bool:
        applied = await _applied(session_factory, consumer)
        return (
            set(partner.received) >= stream["staged"]
            and applied.get("applied", 0) >= INBOUND
            and applied.get("dead_lettered", 0) >= MALFORMED
        )

    async def not_done() -> str:
        return (
            f"received {len(set(partner.received) & stream['staged'])}/{OUTBOUND}, "
            f"inbox {await _applied(session_factory, consumer)}; log:\n" + log.read_text(errors="replace")[-3000:]
        )

    try:
        partner.start()
        await _wait(started, 120, not_started)
        await asyncio.to_thread(fault, processes, partner)
        await _wait(done, 240, not_done)
        await asyncio.sleep(1.0)  # anything still in flight would show up as a duplicate application below
        applied = await _applied(session_factory, consumer)
        changes = await _changes_per_reference(session_factory, refs)
    finally:
        partner.close()
        for process in processes.values():
            _stop(process)
    dead = _drain_dead_letters(inbound_queue(node.code))
    ours = {m: n for m, n in partner.received.items() if m in stream["staged"]}
    counts = {
        "outbound_sent": OUTBOUND,
        "outbound_delivered": len(ours),
        "outbound_deliveries": sum(ours.values()),
        "outbound_duplicates_suppressed": sum(ours.values()) - len(ours),
        "inbound_sent": INBOUND + MALFORMED,
        "inbound_publishes": partner.published,
        "inbound_applied": applied.get("applied", 0),
        "inbound_changes": sum(changes.values()),
        "inbound_applied_twice": sum(1 for n in changes.values() if n > 1),
        "dead_lettered": len({body for _, body in dead}),
        "dead_letter_copies": len(dead),
    }
    print("\n" + ", ".join(f"{k}={v}" for k, v in counts.items()))
    assert counts["outbound_delivered"] == OUTBOUND
    assert counts["inbound_applied"] == INBOUND
    assert counts["inbound_changes"] == INBOUND
    assert counts["inbound_applied_twice"] == 0
    assert len(changes) == INBOUND
    assert applied.get("dead_lettered") == MALFORMED
    # Dead letters are kept at least once: a consumer killed between publishing one and acknowledging
    # the original publishes it again; each malformed message is there, with its reason.
    assert {body for _, body in dead} == {f"<garbage {k}>".encode() for k in range(MALFORMED)}
    assert all(p.headers["x-freight-reason"].startswith("unreadable:") for p, _ in dead)
    return counts


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


async def test_a_broker_restart_mid_stream_loses_nothing_and_applies_nothing_twice(
    node_stream: Any, database_url: str, session_factory: Any, tmp_path: Path
) -> None:
    stream = await node_stream["prepare"]()

    def restart_broker(_processes: dict[str, subprocess.Popen[bytes]], _partner: PartnerSide) -> None:
        _rabbitmqctl("stop_app")
        time.sleep(2)
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")

    counts = await _run_stream(
        stream, database_url=database_url, session_factory=session_factory, tmp_path=tmp_path, fault=restart_broker
    )
    assert counts["inbound_publishes"] >= INBOUND + MALFORMED


async def test_killing_the_relay_and_the_consumer_mid_batch_loses_nothing_and_applies_nothing_twice(
    node_stream: Any, database_url: str, session_factory: Any, tmp_path: Path
) -> None:
    stream = await node_stream["prepare"]()
    log = tmp_path / "freight.log"

    def kill_and_restart(processes: dict[str, subprocess.Popen[bytes]], partner: PartnerSide) -> None:
        # The relay and the consumer work in batches of hundreds: killed while the stream is in full flow,
        # each dies in the middle of one (rows leased or messages applied but not yet acknowledged).
        while len(partner.received) < OUTBOUND // 5 or partner.confirmed < INBOUND // 5:
            time.sleep(0.01)
        for name in ("relay", "consume"):
            processes[name].send_signal(signal.SIGKILL)
            processes[name].wait()
        processes["relay"] = _freight("relay", "--no-callbacks", database_url=database_url, log=log)
        processes["consume"] = _freight("consume", "--partner", stream["node"].code, database_url=database_url, log=log)

    await _run_stream(
        stream,
        database_url=database_url,
        session_factory=session_factory,
        tmp_path=tmp_path,
        fault=kill_and_restart,
    )


def _drain_dead_letters(queue: str) -> list[tuple[Any, bytes]]:
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    try:
        channel = connection.channel()
        dead = []
        while True:
            method, properties, body = channel.basic_get(dead_letter_queue(queue), auto_ack=True)
            if method is None:
                return dead
            dead.append((properties, body))
    finally:
        connection.close()
