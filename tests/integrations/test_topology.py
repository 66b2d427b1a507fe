"""The topology: declared twice without change; quorum queues; poison messages and parked ones go where they should."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest

from integrations.runner import declare_partner_topology
from integrations.topology import (
    DEAD_EXCHANGE,
    DELIVERY_LIMIT,
    INBOUND_EXCHANGE,
    RETRY_EXCHANGE,
    dead_letter_queue,
    inbound_queue,
    outbound_queue,
    retry_queue,
)
from tests.integrations.conftest import AMQP_URL, RETRY_MS


@pytest.fixture
def code(amqp_channel: Any) -> Iterator[str]:
    code = f"topo{uuid.uuid4().hex[:8]}"
    declare_partner_topology(AMQP_URL, [code], retry_ms=RETRY_MS)
    yield code
    for queue in (inbound_queue(code), outbound_queue(code)):
        for name in (queue, dead_letter_queue(queue), retry_queue(queue)):
            amqp_channel.queue_delete(name)


def _queue_types(prefix: str) -> dict[str, str]:
    listed = subprocess.run(
        ["rabbitmqctl", "list_queues", "name", "type", "--formatter", "json", "--quiet"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {q["name"]: q["type"] for q in json.loads(listed.stdout) if q["name"].startswith(prefix)}


def test_declaring_again_changes_nothing_and_every_queue_is_a_quorum_queue(code: str) -> None:
    declare_partner_topology(AMQP_URL, [code], retry_ms=RETRY_MS)

    types = _queue_types(f"freight.to.{code}") | _queue_types(f"freight.from.{code}")

    expected = {
        name
        for queue in (inbound_queue(code), outbound_queue(code))
        for name in (queue, dead_letter_queue(queue), retry_queue(queue))
    }
    assert set(types) == expected
    assert set(types.values()) == {"quorum"}


def test_a_message_that_keeps_failing_is_dead_lettered_after_the_delivery_limit(code: str, amqp_channel: Any) -> None:
    queue = inbound_queue(code)
    amqp_channel.basic_publish(
        INBOUND_EXCHANGE, code, b"poison", pika.BasicProperties(delivery_mode=2, message_id="p1"), mandatory=True
    )

    deliveries = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        method, _, _ = amqp_channel.basic_get(queue)
        if method is None:
            if deliveries > DELIVERY_LIMIT:
                break
            time.sleep(0.05)
            continue
        deliveries += 1
        amqp_channel.basic_reject(method.delivery_tag, requeue=True)  # a consumer that crashes on it

    assert deliveries == DELIVERY_LIMIT + 1
    _, properties, body = _get_eventually(amqp_channel, dead_letter_queue(queue))
    assert body == b"poison"
    assert properties.message_id == "p1"
    assert properties.headers["x-death"][0]["reason"] == "delivery_limit"
    assert properties.headers["x-death"][0]["exchange"] == INBOUND_EXCHANGE


def test_a_parked_message_comes_back_to_its_queue_after_the_retry_delay(code: str, amqp_channel: Any) -> None:
    queue = inbound_queue(code)
    started = time.monotonic()
    amqp_channel.basic_publish(
        RETRY_EXCHANGE, queue, b"later", pika.BasicProperties(delivery_mode=2, message_id="r1"), mandatory=True
    )

    _, properties, body = _get_eventually(amqp_channel, queue)

    assert body == b"later"
    assert time.monotonic() - started >= RETRY_MS / 1000 * 0.9
    assert amqp_channel.queue_declare(retry_queue(queue), passive=True).method.message_count == 0
    assert DEAD_EXCHANGE not in str(properties.headers.get("x-death", ""))


def _get_eventually(channel: Any, queue: str, timeout_s: float = 10.0) -> tuple[Any, Any, bytes]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is not None:
            return method, properties, body
        time.sleep(0.05)
    raise AssertionError(f"nothing arrived on {queue}")
