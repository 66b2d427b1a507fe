"""Event subscriptions: signing, enqueueing, and the sender's deliveries, retries and claims."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import sqlalchemy as sa

from accounts.schemas import Principal
from core.db import utcnow
from tests.conftest import Org
from tests.factories import waybill_body
from waybill import service, subscriptions
from waybill.models import EventSubscription, SubscriptionDelivery
from waybill.schemas import WaybillCreate
from waybill.subscription_schemas import SubscriptionCreate

NOWHERE = "http://127.0.0.1:9/callbacks"  # the discard port: nothing listens, connections are refused


class Receiver:
    """A shipper's callback endpoint on 127.0.0.1, answering with the statuses it is given."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [204])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/freight/callbacks"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient() as client:
        yield client


async def issue(session_factory: Any, shipper: Org) -> tuple[int, str]:
    async with session_factory() as session:
        waybill, _ = await service.create_waybill(
            session, principal=shipper.principal, data=msgspec.convert(waybill_body(), WaybillCreate)
        )
        await session.commit()
        row = await service.load_waybill_for(session, principal=shipper.principal, number=waybill.number)
        assert row.id is not None
        return row.id, waybill.number


async def subscribe(
    session_factory: Any, principal: Principal, number: str, url: str, event_types: list[str] | None = None
) -> tuple[uuid.UUID, str]:
    async with session_factory() as session:
        created = await subscriptions.create_subscription(
            session,
            principal=principal,
            number=number,
            data=SubscriptionCreate(callback_url=url, event_types=event_types or []),
        )
        await session.commit()
        return created.subscription.id, created.secret


async def enqueue(session_factory: Any, waybill_id: int, event_type: str = "departed") -> tuple[uuid.UUID, int]:
    event_id = uuid.uuid4()
    async with session_factory() as session:
        queued = await subscriptions.enqueue_deliveries(
            session,
            waybill_id=waybill_id,
            event_id=event_id,
            event_type=event_type,
            payload={"event_type": event_type, "event_time": utcnow(), "place": {"locode": "CNSHK"}},
        )
        await session.commit()
    return event_id, queued


async def deliveries_of(session_factory: Any, event_id: uuid.UUID) -> list[SubscriptionDelivery]:
    async with session_factory() as session:
        rows = await session.scalars(sa.select(SubscriptionDelivery).where(SubscriptionDelivery.event_id == event_id))
        return list(rows)


# --- signing ----------------------------------------------------------------------------------


def test_a_signature_verifies_with_its_secret_and_not_with_another() -> None:
    body = b'{"event_type":"departed"}'
    header = subscriptions.sign_delivery(body, secret="whsec_right", timestamp=1_800_000_000)

    assert header.startswith("t=1800000000,v1=")
    assert subscriptions.verify_signature(body, header, secret="whsec_right", now=1_800_000_010)
    assert not subscriptions.verify_signature(body, header, secret="whsec_wrong", now=1_800_000_010)
    assert not subscriptions.verify_signature(body + b" ", header, secret="whsec_right", now=1_800_000_010)


def test_an_old_signature_is_refused_as_a_replay() -> None:
    header = subscriptions.sign_delivery(b"{}", secret="whsec_right", timestamp=1_800_000_000)
    assert not subscriptions.verify_signature(b"{}", header, secret="whsec_right", now=1_800_000_000 + 301)


def test_during_a_rotation_both_secrets_sign() -> None:
    header = subscriptions.sign_delivery(
        b"{}", secret="whsec_new", timestamp=1_800_000_000, previous_secret="whsec_old"
    )

    assert header.count("v1=") == 2
    for secret in ("whsec_new", "whsec_old"):
        assert subscriptions.verify_signature(b"{}", header, secret=secret, now=1_800_000_000)


def test_backoff_grows_and_is_capped() -> None:
    delays = [subscriptions.backoff_delay(n).total_seconds() for n in range(1, 12)]
    assert 24 <= delays[0] <= 30
    assert all(later > earlier for earlier, later in itertools.pairwise(delays[:9]))
    assert max(delays) <= subscriptions.BACKOFF_CAP_S


# --- enqueueing -------------------------------------------------------------------------------


async def test_enqueue_respects_the_event_type_filter_and_inactive_subscriptions(
    session_factory: Any, shipper: Org
) -> None:
    waybill_id, number = await issue(session_factory, shipper)
    every, _ = await subscribe(session_factory, shipper.principal, number, NOWHERE)
    arrivals, _ = await subscribe(session_factory, shipper.principal, number, NOWHERE, ["arrived"])
    stopped, _ = await subscribe(session_factory, shipper.principal, number, NOWHERE)
    async with session_factory() as session:
        await subscriptions.deactivate_subscription(
            session, principal=shipper.principal, number=number, subscription_id=stopped
        )
        await session.commit()

    departed, queued = await enqueue(session_factory, waybill_id, "departed")
    assert queued == 1
    assert {d.subscription_id for d in await deliveries_of(session_factory, departed)} == {every}

    arrived, queued = await enqueue(session_factory, waybill_id, "arrived")
    assert queued == 2
    rows = await deliveries_of(session_factory, arrived)
    assert {d.subscription_id for d in rows} == {every, arrivals}
    assert rows[0].payload["event_id"] == str(arrived)
    assert rows[0].payload["waybill_number"] == number
    assert rows[0].payload["event"]["event_time"].endswith("Z")
    for subscription_id in (every, arrivals):
        async with session_factory() as session:
            await subscriptions.deactivate_subscription(
                session, principal=shipper.principal, number=number, subscription_id=subscription_id
            )
            await session.commit()
    assert {d.status for d in await deliveries_of(session_factory, arrived)} == {"failed"}


async def test_nothing_is_queued_without_subscriptions(session_factory: Any, shipper: Org) -> None:
    waybill_id, _ = await issue(session_factory, shipper)
    _, queued = await enqueue(session_factory, waybill_id)
    assert queued == 0


# --- sending ----------------------------------------------------------------------------------


async def test_a_receiver_gets_the_delivery_and_verifies_it_from_the_raw_body(
    session_factory: Any, shipper: Org, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    waybill_id, number = await issue(session_factory, shipper)
    _, secret = await subscribe(session_factory, shipper.principal, number, receiver.url)
    event_id, _ = await enqueue(session_factory, waybill_id, "departed")

    report = await subscriptions.deliver_due(session_factory, client=http)

    assert report.succeeded >= 1
    [(headers, body)] = receiver.requests
    assert subscriptions.verify_signature(body, headers["X-Freight-Signature"], secret=secret, now=int(time.time()))
    assert headers["X-Freight-Event"] == "departed"
    assert headers["Content-Type"] == "application/json"
    assert msgspec.json.decode(body)["event_id"] == str(event_id)
    [delivery] = await deliveries_of(session_factory, event_id)
    assert headers["X-Freight-Delivery"] == str(delivery.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 204)
    assert delivery.delivered_at is not None


async def test_after_a_rotation_deliveries_carry_both_signatures_until_the_grace_period_ends(
    session_factory: Any, shipper: Org, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    waybill_id, number = await issue(session_factory, shipper)
    subscription_id, old_secret = await subscribe(session_factory, shipper.principal, number, receiver.url)
    async with session_factory() as session:
        rotated = await subscriptions.rotate_secret(
            session, principal=shipper.principal, number=number, subscription_id=subscription_id
        )
        await session.commit()
    assert rotated.secret != old_secret
    assert rotated.subscription.previous_secret_expires_at is not None

    await enqueue(session_factory, waybill_id)
    await subscriptions.deliver_due(session_factory, client=http)
    headers, body = receiver.requests[-1]
    signature = headers["X-Freight-Signature"]
    assert signature.count("v1=") == 2
    for secret in (rotated.secret, old_secret):
        assert subscriptions.verify_signature(body, signature, secret=secret, now=int(time.time()))

    later = utcnow() + subscriptions.SECRET_GRACE + timedelta(minutes=1)
    await enqueue(session_factory, waybill_id)
    await subscriptions.deliver_due(session_factory, client=http, now=later)
    headers, body = receiver.requests[-1]
    signature = headers["X-Freight-Signature"]
    assert signature.count("v1=") == 1
    t = int(later.timestamp())
    assert subscriptions.verify_signature(body, signature, secret=rotated.secret, now=t)
    assert not subscriptions.verify_signature(body, signature, secret=old_secret, now=t)


async def test_a_failing_receiver_gets_retries_further_apart_then_the_delivery_fails(
    session_factory: Any, shipper: Org, http: httpx.AsyncClient
) -> None:
    waybill_id, number = await issue(session_factory, shipper)
    with Receiver([500]) as failing:
        await subscribe(session_factory, shipper.principal, number, failing.url)
        event_id, _ = await enqueue(session_factory, waybill_id)
        now = utcnow()
        waits = []
        for attempt in range(1, 5):
            await subscriptions.deliver_due(session_factory, client=http, now=now, max_attempts=4)
            [delivery] = await deliveries_of(session_factory, event_id)
            assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (attempt, 500, "HTTP 500")
            if attempt < 4:
                assert delivery.status == "pending"
                waits.append(delivery.next_attempt_at - now)
                # Not due before its time ...
                await subscriptions.deliver_due(session_factory, client=http, now=now + waits[-1] / 2)
                assert len(failing.requests) == attempt
                now = delivery.next_attempt_at
        assert delivery.status == "failed"
        assert len(failing.requests) == 4
        assert waits[0] < waits[1] < waits[2]


async def test_an_unreachable_receiver_is_recorded_as_an_error(
    session_factory: Any, shipper: Org, http: httpx.AsyncClient
) -> None:
    waybill_id, number = await issue(session_factory, shipper)
    await subscribe(session_factory, shipper.principal, number, NOWHERE)
    event_id, _ = await enqueue(session_factory, waybill_id)

    await subscriptions.deliver_due(session_factory, client=http, max_attempts=1)

    [delivery] = await deliveries_of(session_factory, event_id)
    assert delivery.status == "failed"
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert "Connect" in delivery.last_error


async def test_two_senders_running_at_once_deliver_each_event_once(
    session_factory: Any, shipper: Org, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    waybill_id, number = await issue(session_factory, shipper)
    await subscribe(session_factory, shipper.principal, number, receiver.url)
    events = [(await enqueue(session_factory, waybill_id))[0] for _ in range(6)]

    await asyncio.gather(
        subscriptions.deliver_due(session_factory, client=http),
        subscriptions.deliver_due(session_factory, client=http),
    )

    delivered = [msgspec.json.decode(body)["event_id"] for _, body in receiver.requests]
    assert sorted(delivered) == sorted(str(e) for e in events)
    for event_id in events:
        [delivery] = await deliveries_of(session_factory, event_id)
        assert (delivery.status, delivery.attempts) == ("succeeded", 1)


async def test_a_subscription_row_keeps_the_secret_for_signing(session_factory: Any, shipper: Org) -> None:
    _, number = await issue(session_factory, shipper)
    subscription_id, secret = await subscribe(session_factory, shipper.principal, number, NOWHERE)
    async with session_factory() as session:
        row = await session.get(EventSubscription, subscription_id)
        assert row is not None
        assert row.secret == secret
        assert secret.startswith("whsec_")
        assert len(secret) >= 40


def test_the_sender_command_runs_once_and_reports(tmp_path: Path) -> None:
    env = {**os.environ, "FREIGHT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "FREIGHT_LOG_JSON": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "deliveries", "run", "--once"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "attempted 0: 0 succeeded, 0 to retry, 0 failed"
