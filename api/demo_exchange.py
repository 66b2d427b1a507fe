"""The demo's live partner exchange: relay, consumers and simulated partners, in a process of their own.

The exchange runs in a spawned child process, not in threads of the demo's process: the web server
forks its worker from the demo's process, and a fork taken while other threads hold locks (SQLite,
logging, pika) leaves the worker waiting on them for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import threading
from multiprocessing.synchronize import Event as ProcessEvent

import msgspec
import pika
import pika.exceptions

from core.logging import configure_logging
from core.settings import Settings
from integrations.amqp import DEFAULT_URL, connection_parameters
from integrations.partners import PartnerInfo
from integrations.runner import ConsumerGroup, declare_partner_topology, relay_and_deliver, start_consumers
from integrations.schemas import PartnerKind
from integrations.simulate import NodeSimulator, PortSimulator, Simulator, start_simulators

__all__ = ("DemoExchange", "reachable_amqp_url")

_SPAWN = multiprocessing.get_context("spawn")

GATE_IN_DELAY_S = 5.0
"""Seconds from a pre-advice to the truck's gate-in at the simulated terminal."""
LOAD_DELAY_S = 10.0
"""Seconds from the gate-in to the container's loading on the barge."""
POSITION_INTERVAL_S = 5.0
"""Seconds between the simulated node's position reports."""


def reachable_amqp_url(settings: Settings, *, timeout_s: float = 1.0) -> str | None:
    """The partner broker (``FREIGHT_PARTNER_AMQP_URL``, ``FREIGHT_AMQP_URL``, else the local one) if it answers."""
    url = settings.partner_amqp_url or settings.amqp_url or DEFAULT_URL
    parameters = connection_parameters(url)
    parameters.socket_timeout = timeout_s
    parameters.stack_timeout = timeout_s * 2
    parameters.blocked_connection_timeout = timeout_s
    try:
        pika.BlockingConnection(parameters).close()
    except (pika.exceptions.AMQPError, OSError):
        return None
    return url


class DemoExchange:
    """The demo's partner exchange in a child process, started and stopped with the demo."""

    def __init__(self, settings: Settings, amqp_url: str, partners: list[PartnerInfo]) -> None:
        self._stop = _SPAWN.Event()
        self._process = _SPAWN.Process(
            target=_run_exchange, args=(settings, amqp_url, partners, self._stop), name="demo-exchange", daemon=True
        )

    def start(self) -> None:
        """Start the child process (it declares the topology, then runs until :meth:`close`)."""
        self._process.start()

    def close(self, timeout_s: float = 20.0) -> None:
        """Stop the exchange (what was not acknowledged is delivered again next time)."""
        self._stop.set()
        self._process.join(timeout_s)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


def _run_exchange(settings: Settings, amqp_url: str, partners: list[PartnerInfo], stop: ProcessEvent) -> None:
    """The child process: run the exchange until the demo sets ``stop``."""
    configure_logging(level=settings.log_level, json=settings.log_json)
    exchange = ExchangeThreads(settings, amqp_url, partners)
    exchange.start()
    try:
        stop.wait()
    finally:
        exchange.close()


class ExchangeThreads:
    """Relay, consumers and simulators of the demo's partners, in threads started and stopped together."""

    def __init__(self, settings: Settings, amqp_url: str, partners: list[PartnerInfo]) -> None:
        self.settings = msgspec.structs.replace(settings, partner_amqp_url=amqp_url)
        self.amqp_url = amqp_url
        self.partners = partners
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._consumers: ConsumerGroup | None = None
        self._relay_loop = asyncio.new_event_loop()
        self._relay_stop = asyncio.Event()

    def start(self) -> None:
        """Declare the topology, then start the relay, the consumers and a simulator per partner."""
        codes = [p.code for p in self.partners]
        declare_partner_topology(self.amqp_url, codes, retry_ms=self.settings.partner_retry_ms)
        relay = threading.Thread(target=self._run_relay, name="demo-relay", daemon=True)
        relay.start()
        self._threads.append(relay)
        self._consumers = start_consumers(self.settings, self.partners)
        self._threads.extend(start_simulators(self.simulators(), self._stop))

    def simulators(self) -> list[Simulator]:
        """A port simulator per terminal and a node simulator, with the demo's short delays."""
        simulators: list[Simulator] = []
        for partner in self.partners:
            if partner.kind is PartnerKind.TERMINAL and partner.locode:
                port = PortSimulator(
                    partner.code, partner.locode, self.amqp_url, GATE_IN_DELAY_S, LOAD_DELAY_S, partner.message_format
                )
                simulators.append(port)
            elif partner.kind is PartnerKind.NODE:
                simulators.append(NodeSimulator(partner.code, self.amqp_url, POSITION_INTERVAL_S))
        return simulators

    def _run_relay(self) -> None:
        try:
            self._relay_loop.run_until_complete(relay_and_deliver(self.settings, self._relay_stop))
        finally:
            self._relay_loop.close()

    def close(self, timeout_s: float = 15.0) -> None:
        """Stop every thread (what was not acknowledged is delivered again next time)."""
        self._stop.set()
        with contextlib.suppress(RuntimeError):  # the relay's loop has already closed
            self._relay_loop.call_soon_threadsafe(self._relay_stop.set)
        if self._consumers is not None:
            self._consumers.close(timeout_s)
        for thread in self._threads:
            thread.join(timeout_s)
