"""Background jobs on dramatiq: the broker, our defaults, and the workers that run them.

Declare a job with :func:`job` in a domain's ``tasks.py``; it takes JSON arguments (ids as strings),
opens what it needs itself and runs async service code through :func:`run_async`::

    @job(queue_name="dispatch", time_limit_s=300)
    def plan_dispatch(plan_id: str) -> None:
        run_async(_plan_dispatch(uuid.UUID(plan_id)))


    async def _plan_dispatch(plan_id: uuid.UUID) -> None:
        async with job_session() as session:
            ...
            await session.commit()

Enqueue from a request handler after the transaction that made the rows has committed (the worker
must find them): ``await enqueue(state.broker, plan_dispatch, str(plan.id))``.

``configure_broker(settings)`` makes the broker: RabbitMQ with publisher confirms when
``FREIGHT_AMQP_URL`` is set (``freight worker`` runs the jobs), else an in-memory broker whose
worker the web app starts at startup. Every job registered so far is declared on every broker made,
so several brokers with different settings live side by side in one process (tests). Failed jobs
are retried with exponential backoff, then dead-lettered: RabbitMQ moves them to ``<queue>.XQ``,
where they stay for 7 days. Time limits and backoffs stay below RabbitMQ's consumer timeout
(30 minutes by default), after which the server takes an unacknowledged message back and delivers
it again. See docs/decisions/0013-background-jobs.md.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import signal
import time
import weakref
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from inspect import iscoroutinefunction
from typing import Any, Generic, ParamSpec, TypeVar

import dramatiq
import structlog
from dramatiq import Broker, Message, MessageProxy, Worker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import create_engine, create_session_factory
from core.settings import Settings, get_settings

__all__ = (
    "DEFAULT_TIME_LIMIT_S",
    "IN_PROCESS_WORKER_THREADS",
    "JOB_MODULES",
    "MAX_BACKOFF_S",
    "MAX_RETRIES",
    "MAX_TIME_LIMIT_S",
    "MIN_BACKOFF_S",
    "Job",
    "configure_broker",
    "enqueue",
    "job",
    "job_session",
    "job_settings",
    "run_async",
    "run_worker",
    "start_in_process_worker",
    "start_worker",
    "stop_in_process_worker",
    "stop_worker",
)

P = ParamSpec("P")
T = TypeVar("T")

JOB_MODULES: tuple[str, ...] = ("dispatch.tasks",)
"""Modules that declare the platform's jobs, imported by ``configure_broker`` so that the web app and
``freight worker`` know the same jobs (``dispatch.tasks`` joins when the planning job lands)."""

RABBITMQ_CONSUMER_TIMEOUT_S = 1800.0
"""RabbitMQ's default ``consumer_timeout``: a delivery not acknowledged by then is taken back."""
MAX_TIME_LIMIT_S = RABBITMQ_CONSUMER_TIMEOUT_S / 2
"""Longest time limit or backoff a job may ask for. A message can wait in the worker's prefetch buffer
behind one running job before it starts, and a retried message is held unacknowledged until it is
due, so both must fit in the consumer timeout with room to spare."""
DEFAULT_TIME_LIMIT_S = 600.0
"""A job running longer is interrupted (and retried). Blocking C code (a solver) is interrupted only
when it returns, so give such code its own, shorter limit."""
MAX_RETRIES = 5
"""Retries after the first attempt, then the message is dead-lettered."""
MIN_BACKOFF_S = 15.0
"""Delay before the first retry; each further retry waits twice as long (times a random 1-2)."""
MAX_BACKOFF_S = 600.0
"""Upper bound of a retry's delay."""
IN_PROCESS_WORKER_THREADS = 2
"""Threads of the worker that each web server process runs when no RabbitMQ is configured."""
IN_PROCESS_STOP_TIMEOUT_S = 30.0
"""How long the web app waits at shutdown for in-process jobs that are running to finish."""

_QUEUE_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9._-]*")
_log = structlog.get_logger("core.jobs")


class Job(Generic[P]):
    """A background job: a plain function that workers run from messages. Made by :func:`job`."""

    __slots__ = ("fn", "name", "options", "priority", "queue_name")

    def __init__(
        self, fn: Callable[P, None], *, name: str, queue_name: str, priority: int, options: Mapping[str, Any]
    ) -> None:
        self.fn = fn
        """The function itself."""
        self.name = name
        """The actor name carried by the messages (stable: renaming it strands queued messages)."""
        self.queue_name = queue_name
        self.priority = priority
        self.options = dict(options)
        """dramatiq actor options (retries, backoff, time limit in milliseconds)."""

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> None:
        """Run the job here and now, without a broker."""
        self.fn(*args, **kwargs)

    def message(self, *args: P.args, **kwargs: P.kwargs) -> Message[None]:
        """The message that runs this job with these (JSON) arguments."""
        return Message(queue_name=self.queue_name, actor_name=self.name, args=args, kwargs=kwargs, options={})

    def send(self, broker: Broker, /, *args: P.args, **kwargs: P.kwargs) -> Message[None]:
        """Enqueue the job on ``broker``, blocking until RabbitMQ confirms it; from async code use :func:`enqueue`."""
        return broker.enqueue(self.message(*args, **kwargs))

    def __repr__(self) -> str:
        return f"Job({self.name!r}, queue_name={self.queue_name!r})"


_jobs: dict[str, Job[Any]] = {}
_brokers: weakref.WeakSet[Broker] = weakref.WeakSet()
_booted: weakref.WeakSet[Broker] = weakref.WeakSet()


def job(
    *,
    queue_name: str = "default",
    name: str | None = None,
    priority: int = 0,
    max_retries: int | None = None,
    min_backoff_s: float | None = None,
    max_backoff_s: float | None = None,
    time_limit_s: float | None = None,
    throws: tuple[type[Exception], ...] = (),
) -> Callable[[Callable[P, None]], Job[P]]:
    """Declare a background job; unset options take the platform's defaults (``MAX_RETRIES`` ...).

    Args:
        queue_name: RabbitMQ queue of its messages; workers may be limited to some queues.
        name: Actor name in the messages (default: the function's name; unique in the platform).
        priority: Order among messages a worker holds (lower first).
        max_retries: Retries after the first attempt before the message is dead-lettered.
        min_backoff_s: Delay before the first retry (doubling, with jitter, afterwards).
        max_backoff_s: Upper bound of a retry's delay (at most ``MAX_TIME_LIMIT_S``).
        time_limit_s: The job is interrupted and retried after this long (at most ``MAX_TIME_LIMIT_S``).
        throws: Exceptions that fail the message at once, without retries (bad input, a missing row).

    Registering is the only thing declaring a job does at import time; no broker is needed then.
    """
    if not _QUEUE_NAME.fullmatch(queue_name):
        raise ValueError(f"invalid queue name {queue_name!r}")
    for label, value in (("time_limit_s", time_limit_s), ("max_backoff_s", max_backoff_s)):
        if value is not None and not 0 < value <= MAX_TIME_LIMIT_S:
            raise ValueError(f"{label} must be in (0, {MAX_TIME_LIMIT_S:g}] to stay below RabbitMQ's consumer timeout")
    options: dict[str, Any] = {}
    if max_retries is not None:
        options["max_retries"] = max_retries
    if min_backoff_s is not None:
        options["min_backoff"] = _ms(min_backoff_s)
    if max_backoff_s is not None:
        options["max_backoff"] = _ms(max_backoff_s)
    if time_limit_s is not None:
        options["time_limit"] = _ms(time_limit_s)
    if throws:
        options["throws"] = throws

    def register(fn: Callable[P, None]) -> Job[P]:
        if iscoroutinefunction(fn):
            raise TypeError(f"{fn.__qualname__}: a job is a plain function; run async code in it with run_async()")
        declared = Job(fn, name=name or fn.__name__, queue_name=queue_name, priority=priority, options=options)
        if declared.name in _jobs:
            raise ValueError(f"a job named {declared.name!r} is already declared")
        _jobs[declared.name] = declared
        for broker in list(_brokers):
            _declare(broker, declared)
        return declared

    return register


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _declare(broker: Broker, declared: Job[Any]) -> None:
    dramatiq.Actor(
        declared.fn,
        broker=broker,
        actor_name=declared.name,
        queue_name=declared.queue_name,
        priority=declared.priority,
        options=dict(declared.options),
    )


_job_settings: ContextVar[Settings | None] = ContextVar("freight_job_settings", default=None)
_job_deadline: ContextVar[float | None] = ContextVar("freight_job_deadline", default=None)


class _JobContext(Middleware):
    """Hands the broker's settings and the time limit to the running job, and binds it to log lines."""

    def __init__(self, settings: Settings, *, default_time_limit_ms: int) -> None:
        self.settings = settings
        self.default_time_limit_ms = default_time_limit_ms

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        actor = broker.get_actor(message.actor_name)
        limit_ms = message.options.get("time_limit") or actor.options.get("time_limit", self.default_time_limit_ms)
        _job_settings.set(self.settings)
        _job_deadline.set(time.monotonic() + limit_ms / 1000)
        structlog.contextvars.bind_contextvars(job=message.actor_name, job_message_id=message.message_id)

    def after_process_message(
        self,
        broker: Broker,
        message: MessageProxy,
        *,
        result: Any | None = None,
        exception: BaseException | None = None,
    ) -> None:
        _job_settings.set(None)
        _job_deadline.set(None)
        structlog.contextvars.unbind_contextvars("job", "job_message_id")

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)


def configure_broker(settings: Settings) -> Broker:
    """A broker for ``settings`` with every job declared on it; no connection is made yet.

    RabbitMQ (publisher confirms on) when ``settings.amqp_url`` is set, else an in-memory broker for
    the in-process worker. The broker also becomes dramatiq's global broker, so that dramatiq helpers
    that fall back on ``dramatiq.get_broker()`` never make dramatiq's own default broker; our functions
    all take the broker explicitly, so brokers made for other settings in the same process keep working.
    """
    for module in JOB_MODULES:
        importlib.import_module(module)
    time_limit_ms = _ms(DEFAULT_TIME_LIMIT_S)
    middleware: list[Middleware] = [
        AgeLimit(),
        TimeLimit(time_limit=time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(max_retries=MAX_RETRIES, min_backoff=_ms(MIN_BACKOFF_S), max_backoff=_ms(MAX_BACKOFF_S)),
        CurrentMessage(),
        _JobContext(settings, default_time_limit_ms=time_limit_ms),
    ]
    broker: Broker
    if settings.amqp_url:
        broker = RabbitmqBroker(url=settings.amqp_url, confirm_delivery=True, middleware=middleware)
    else:
        broker = StubBroker(middleware=middleware)
    for declared in _jobs.values():
        _declare(broker, declared)
    _brokers.add(broker)
    dramatiq.set_broker(broker)
    return broker


async def enqueue(broker: Broker, job: Job[P], /, *args: P.args, **kwargs: P.kwargs) -> Message[None]:
    """Enqueue ``job`` from async code (a request handler), publishing on a thread off the event loop.

    Call it after the transaction that wrote what the job reads has committed.
    """
    message = job.message(*args, **kwargs)
    return await asyncio.to_thread(broker.enqueue, message)


def job_settings() -> Settings:
    """The settings of the broker running the current job (outside a job: the process settings)."""
    return _job_settings.get() or get_settings()


@asynccontextmanager
async def job_session() -> AsyncIterator[AsyncSession]:
    """A database session for the running job, on an engine of its own that is disposed on exit.

    The job commits; what it does not commit is rolled back.
    """
    engine = create_engine(job_settings())
    try:
        async with create_session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run async service code from a job (a worker thread, which has no event loop) and return its result.

    Each call runs ``coro`` on a fresh event loop (``asyncio.run``), so nothing bound to a loop (database
    engines, HTTP clients) may outlive the call: open them inside ``coro``, as :func:`job_session` does.
    Inside a job, ``coro`` is cancelled at the job's time limit (``TimeoutError``), so that a job waiting
    on the network is stopped too: dramatiq's own limit cannot interrupt a thread blocked in a system call.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_within_deadline(coro, _job_deadline.get()))
    coro.close()
    raise RuntimeError("run_async() was called from a running event loop: await the coroutine instead")


async def _within_deadline(coro: Coroutine[Any, Any, T], deadline: float | None) -> T:
    if deadline is None:
        return await coro
    async with asyncio.timeout(deadline - time.monotonic()):
        return await coro


def start_worker(broker: Broker, *, threads: int, queues: Collection[str] | None = None) -> Worker:
    """Start a dramatiq worker for ``broker`` on threads of this process (all job queues unless ``queues``)."""
    if broker not in _booted:
        # What dramatiq's own command does once per process: starts the time-limit watchdog thread.
        broker.emit_after("process_boot")
        _booted.add(broker)
    worker = Worker(broker, queues=set(queues) if queues else None, worker_threads=threads)
    worker.start()
    return worker


def stop_worker(worker: Worker, *, timeout_s: float = MAX_TIME_LIMIT_S) -> None:
    """Stop taking messages, let running jobs finish (up to ``timeout_s``), hand prefetched ones back."""
    worker.stop(timeout=_ms(timeout_s))
    # dramatiq leaves the worker's hook on the broker; without this, a later queue would get a consumer
    # thread of the stopped worker.
    worker.broker.middleware = [m for m in worker.broker.middleware if getattr(m, "worker", None) is not worker]


def start_in_process_worker(broker: Broker) -> Worker:
    """Start the worker that runs jobs inside a web server process (the embedded default)."""
    worker = start_worker(broker, threads=IN_PROCESS_WORKER_THREADS)
    _log.info("in-process job worker started", threads=IN_PROCESS_WORKER_THREADS, queues=_queues_of(worker))
    return worker


def stop_in_process_worker(worker: Worker) -> None:
    """Stop the in-process worker (blocking: running jobs may finish) and close its broker.

    Jobs still queued are lost with the process: they live in its memory only.
    """
    stop_worker(worker, timeout_s=IN_PROCESS_STOP_TIMEOUT_S)
    broker = worker.broker
    if isinstance(broker, StubBroker):
        lost = sum(queue.unfinished_tasks for queue in broker.queues.values())
        if lost:
            _log.warning("jobs lost at shutdown", jobs=lost)
    broker.close()


def run_worker(broker: Broker, *, threads: int, queues: Collection[str] | None = None) -> None:
    """Run jobs from ``broker`` until SIGINT or SIGTERM (``freight worker``); call from the main thread.

    The first signal stops taking messages and lets running jobs finish (up to ``MAX_TIME_LIMIT_S``;
    give the process manager's stop timeout at least as much), handing prefetched messages back to
    RabbitMQ. A second signal exits at once; RabbitMQ then delivers the unfinished jobs again.
    """
    # The handler only appends to a list: a handler that takes a lock (logging, threading.Event)
    # deadlocks when the signal arrives while the main thread holds that lock.
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        if received:
            raise SystemExit(128 + signum)
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker = start_worker(broker, threads=threads, queues=queues)
        _log.info("worker started", threads=threads, queues=_queues_of(worker))
        while not received:
            time.sleep(0.2)
        _log.info("worker stopping", signal=signal.Signals(received[0]).name)
        stop_worker(worker)
        _log.info("worker stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        broker.close()


def _queues_of(worker: Worker) -> list[str]:
    declared = worker.broker.get_declared_queues()
    return sorted(declared & worker.consumer_whitelist if worker.consumer_whitelist else declared)
