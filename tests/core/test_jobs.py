"""Background jobs: RabbitMQ workers, retries and dead letters, the in-process default, ``freight worker``.

RabbitMQ comes from ``FREIGHT_TEST_AMQP_URL`` (default: the local server). The demo jobs below use
queues named after this test session, deleted at the end; the workers consume only those queues.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pika
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from dramatiq import Broker, Message, Worker, WorkerThread
from dramatiq.brokers.stub import StubBroker
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.models import Organisation
from accounts.schemas import OrganisationCreate, OrganisationRole
from api.app import create_app
from api.cli import main
from core.db import create_engine
from core.jobs import (
    configure_broker,
    enqueue,
    job,
    job_session,
    run_async,
    start_worker,
    stop_worker,
)
from tests.conftest import settings_for
from tests.factories import new_uscc

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("FREIGHT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
QUEUE_PREFIX = f"freight_test_{uuid.uuid4().hex[:10]}"
WORK_QUEUE = f"{QUEUE_PREFIX}_work"
FAILING_QUEUE = f"{QUEUE_PREFIX}_failing"
SLOW_QUEUE = f"{QUEUE_PREFIX}_slow"

T = TypeVar("T")


@job(queue_name=WORK_QUEUE)
def register_carrier(name: str, uscc: str) -> None:
    """Demo job: writes an organisation row through the accounts service, on the job's own session."""
    run_async(_register_carrier(name, uscc))


async def _register_carrier(name: str, uscc: str) -> None:
    async with job_session() as session:
        data = OrganisationCreate(name=name, role=OrganisationRole.CARRIER, uscc=uscc, places=[])
        await accounts.create_organisation(session, data=data)
        await session.commit()


@job(queue_name=FAILING_QUEUE, max_retries=2, min_backoff_s=0.05, max_backoff_s=0.2)
def record_attempt_and_fail(attempts_file: str) -> None:
    """Demo job: notes each attempt in a file, then fails."""
    with open(attempts_file, "a") as attempts:
        attempts.write("attempt\n")
    raise RuntimeError("the national node is unreachable")


@job(queue_name=SLOW_QUEUE, time_limit_s=1, max_retries=0)
def wait_for_a_silent_partner() -> None:
    """Demo job: waits a minute on "the network", with a one-second time limit."""
    run_async(asyncio.sleep(60))


async def eventually(probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 30) -> T:
    """The first truthy result of ``probe``, polled until ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {timeout_s} s")
        await asyncio.sleep(0.05)


def organisation_probe(database_url: str, uscc: str) -> Callable[[], Awaitable[str | None]]:
    """Reads the name of the organisation with ``uscc``, if there is one yet."""

    async def probe() -> str | None:
        engine = create_engine(settings_for(database_url))
        try:
            async with AsyncSession(engine) as session:
                organisation = await session.scalar(sa.select(Organisation).where(Organisation.uscc == uscc))
                return None if organisation is None else organisation.name
        finally:
            await engine.dispose()

    return probe


def queue_counts(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str) -> tuple[int, int, int]:
    """Ready messages in ``queue``, its delay queue and its dead-letter queue."""
    return tuple(  # type: ignore[return-value]
        channel.queue_declare(queue=name, passive=True).method.message_count
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ")
    )


@pytest.fixture(scope="module")
def amqp_channel() -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    """A channel of the tests' own; at the end it deletes every queue of this session."""
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    yield connection.channel()
    channel = connection.channel()
    for queue in (WORK_QUEUE, FAILING_QUEUE, SLOW_QUEUE):
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(queue=name)
    connection.close()


@pytest.fixture
def rabbitmq_broker(
    migrated: dict[str, str], amqp_channel: pika.adapters.blocking_connection.BlockingChannel
) -> Iterator[Broker]:
    """The broker of a deployment with RabbitMQ and PostgreSQL."""
    broker = configure_broker(settings_for(migrated["postgresql"], FREIGHT_AMQP_URL=AMQP_URL))
    yield broker
    broker.close()


@pytest.fixture
def rabbitmq_worker(rabbitmq_broker: Broker) -> Iterator[Worker]:
    """A worker started as ``freight worker`` starts it, on this session's queues only."""
    worker = start_worker(rabbitmq_broker, threads=2, queues=[WORK_QUEUE, FAILING_QUEUE])
    yield worker
    stop_worker(worker, timeout_s=10)


async def test_a_job_enqueued_on_rabbitmq_is_run_by_the_worker(
    rabbitmq_broker: Broker, rabbitmq_worker: Worker, migrated: dict[str, str]
) -> None:
    uscc = new_uscc()
    await enqueue(rabbitmq_broker, register_carrier, "佛山顺通甩挂运输有限公司", uscc)

    assert await eventually(organisation_probe(migrated["postgresql"], uscc)) == "佛山顺通甩挂运输有限公司"


async def test_a_job_that_always_fails_is_retried_then_dead_lettered(
    rabbitmq_broker: Broker,
    rabbitmq_worker: Worker,
    amqp_channel: pika.adapters.blocking_connection.BlockingChannel,
    tmp_path: Path,
) -> None:
    attempts = tmp_path / "attempts"
    sent = record_attempt_and_fail.send(rabbitmq_broker, str(attempts))

    async def dead_lettered() -> bool:
        return queue_counts(amqp_channel, FAILING_QUEUE) == (0, 0, 1)

    await eventually(dead_lettered)
    _, _, body = amqp_channel.basic_get(f"{FAILING_QUEUE}.XQ", auto_ack=True)
    assert body is not None
    dead = Message.decode(body)
    assert (dead.message_id, dead.options["retries"]) == (sent.message_id, 2)
    assert attempts.read_text().splitlines() == ["attempt"] * 3


async def test_without_rabbitmq_the_web_app_runs_jobs_in_process(migrated: dict[str, str]) -> None:
    app = create_app(settings_for(migrated["sqlite"]))
    uscc = new_uscc()
    async with AsyncTestClient(app=app):
        await enqueue(app.state.broker, register_carrier, "东莞虎门港集装箱码头有限公司", uscc)

        assert await eventually(organisation_probe(migrated["sqlite"], uscc)) == "东莞虎门港集装箱码头有限公司"


async def test_the_web_app_stops_its_in_process_worker_at_shutdown(migrated: dict[str, str]) -> None:
    app = create_app(settings_for(migrated["sqlite"]))
    async with AsyncTestClient(app=app):
        broker = app.state.broker
        assert isinstance(broker, StubBroker)

    assert not [t for t in threading.enumerate() if isinstance(t, WorkerThread) and t.broker is broker]


def test_a_job_waiting_on_the_network_is_stopped_at_its_time_limit() -> None:
    """dramatiq's time limit cannot interrupt a thread blocked in select(); run_async's deadline can."""
    broker = configure_broker(settings_for("sqlite://"))
    assert isinstance(broker, StubBroker)
    worker = start_worker(broker, threads=1, queues=[SLOW_QUEUE])
    try:
        started = time.monotonic()
        wait_for_a_silent_partner.send(broker)
        broker.join(SLOW_QUEUE, timeout=15_000, fail_fast=False)

        assert time.monotonic() - started < 10
        assert len(broker.dead_letters) == 1
    finally:
        stop_worker(worker, timeout_s=5)


def test_run_async_refuses_to_nest_in_a_running_event_loop() -> None:
    async def nested() -> None:
        run_async(asyncio.sleep(0))

    with pytest.raises(RuntimeError, match="running event loop"):
        asyncio.run(nested())


def test_freight_worker_help_lists_its_options() -> None:
    result = CliRunner().invoke(main, ["worker", "--help"])

    assert result.exit_code == 0, result.output
    assert "--threads" in result.output
    assert "--queue" in result.output


def _freight_worker(*args: str, amqp_url: str | None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "FREIGHT_AMQP_URL"}
    env |= {"FREIGHT_LOG_JSON": "false", "PYTHONUNBUFFERED": "1"}
    if amqp_url:
        env["FREIGHT_AMQP_URL"] = amqp_url
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_freight_worker_needs_rabbitmq() -> None:
    process = _freight_worker(amqp_url=None)
    output, _ = process.communicate(timeout=60)

    assert process.returncode == 1
    assert "FREIGHT_AMQP_URL is not set" in output


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_freight_worker_stops_gracefully_on_a_signal(stop_signal: signal.Signals) -> None:
    # A queue no job uses: this worker consumes nothing, so it cannot take anyone's messages.
    process = _freight_worker("--threads", "2", "--queue", f"{QUEUE_PREFIX}_idle", amqp_url=AMQP_URL)
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any("worker started" in line for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, "".join(lines) + output
    assert "worker stopped" in output
