"""``freight relay``, ``freight consume``, ``freight partners`` and ``freight simulate``: the partner exchange."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from core.cli import database_option, set_database
from core.logging import configure_logging
from core.settings import Settings, get_settings
from integrations.topology import outbound_queue

if TYPE_CHECKING:
    from integrations.simulate import Simulator

__all__ = ("consume", "partners", "relay", "simulate")


def _prepared_settings(database_url: str | None) -> Settings:
    set_database(database_url)
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    from core.migrate import upgrade_database

    upgrade_database(settings.database_url)
    return settings


def _stop_on_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())


@click.command()
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 5000))
@click.option("--no-callbacks", is_flag=True, help="Leave shippers' callbacks to another relay.")
@database_option
def relay(batch_size: int, no_callbacks: bool, database_url: str | None) -> None:
    """Publish the outbox to partners over RabbitMQ and deliver shippers' callbacks, until SIGINT/SIGTERM."""
    settings = _prepared_settings(database_url)
    from integrations.runner import declare_partner_topology, load_partners, partner_amqp_url, relay_and_deliver

    codes = [p.code for p in asyncio.run(load_partners(settings))]
    declare_partner_topology(partner_amqp_url(settings), codes, retry_ms=settings.partner_retry_ms)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        totals = await relay_and_deliver(settings, stop, callbacks=not no_callbacks, batch_size=batch_size)
        click.echo(
            f"relay stopped: {totals.published} published, {totals.refused} refused, {totals.reconnects} reconnects"
        )

    asyncio.run(run())


@click.command()
@click.option("--partner", "codes", multiple=True, help="Consume only this partner's queue (repeatable).")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 32), help="Threads per queue.")
@database_option
def consume(codes: tuple[str, ...], threads: int, database_url: str | None) -> None:
    """Apply partners' messages (terminal EDIFACT, national-node envelopes) until SIGINT/SIGTERM."""
    settings = _prepared_settings(database_url)
    from integrations.runner import declare_partner_topology, load_partners, partner_amqp_url, start_consumers

    chosen = asyncio.run(load_partners(settings, codes))
    if not chosen:
        raise click.ClickException("no partners registered: add one with `freight partners add`")
    declare_partner_topology(partner_amqp_url(settings), [p.code for p in chosen], retry_ms=settings.partner_retry_ms)
    group = start_consumers(settings, chosen, threads_per_queue=threads)
    _stop_on_signals(group.stop)
    click.echo(f"consuming {', '.join(p.code for p in chosen)} ({threads} thread(s) each); Ctrl-C stops")
    while not group.stop.is_set():
        time.sleep(0.5)
    group.close()
    totals = group.totals()
    click.echo(
        f"consumer stopped: {totals.received} received, {totals.applied} applied, {totals.duplicates} duplicates, "
        f"{totals.parked} parked, {totals.dead_lettered} dead-lettered"
    )


@click.group()
def partners() -> None:
    """Partners of the exchange: container terminals, customs offices, the national node."""


@partners.command("add")
@click.argument("code")
@click.option("--kind", type=click.Choice(["terminal", "customs", "node"]), required=True)
@click.option("--name", required=True, help="The partner's name (for the node: its recipient code).")
@click.option("--organisation", "organisation_uscc", required=True, help="USCC of the organisation it acts as.")
@click.option("--locode", default=None, help="UN/LOCODE of a terminal or customs office.")
@click.option("--format", "message_format", type=click.Choice(["json", "edifact"]), default="json", show_default=True)
@database_option
def partners_add(
    code: str,
    kind: str,
    name: str,
    organisation_uscc: str,
    locode: str | None,
    message_format: str,
    database_url: str | None,
) -> None:
    """Register (or update) partner CODE; its queues are declared when the relay or a consumer starts."""
    settings = _prepared_settings(database_url)

    async def add() -> None:
        from accounts.service import organisation_by_uscc
        from core.db import create_engine, create_session_factory
        from integrations.partners import register_partner
        from integrations.schemas import PartnerKind

        engine = create_engine(settings)
        try:
            async with create_session_factory(engine)() as session:
                organisation = await organisation_by_uscc(session, organisation_uscc)
                if organisation is None:
                    raise click.ClickException(f"no organisation with USCC {organisation_uscc}")
                await register_partner(
                    session,
                    code=code,
                    kind=PartnerKind(kind),
                    name=name,
                    organisation=organisation,
                    locode=locode,
                    message_format=message_format,
                )
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(add())
    click.echo(f"partner {code} registered")


@partners.command("list")
@database_option
def partners_list(database_url: str | None) -> None:
    """List the active partners."""
    settings = _prepared_settings(database_url)
    from integrations.runner import load_partners

    for partner in asyncio.run(load_partners(settings)):
        click.echo(
            f"{partner.code:<10} {partner.kind.value:<9} {partner.locode or '-':<6} {partner.message_format:<8} "
            f"{partner.name} (as {partner.principal.name})"
        )


@click.group()
def simulate() -> None:
    """Play partners over RabbitMQ for the demo and tests: a container terminal, the national node."""


def _simulate(simulator_of: Callable[[str | None], Simulator], code: str) -> None:
    """Declare ``code``'s queues, then run the simulator until SIGINT/SIGTERM."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    from integrations.runner import declare_partner_topology, partner_amqp_url
    from integrations.simulate import start_simulators

    url = partner_amqp_url(settings)
    declare_partner_topology(url, [code], retry_ms=settings.partner_retry_ms)
    simulator = simulator_of(url)
    stop = threading.Event()
    _stop_on_signals(stop)
    threads = start_simulators([simulator], stop)
    click.echo(f"simulating partner {code} on {outbound_queue(code)}; Ctrl-C stops")
    while not stop.is_set():
        time.sleep(0.5)
    for thread in threads:
        thread.join(30)
    stats = simulator.stats
    click.echo(
        f"simulator stopped: {stats.received} received, {stats.duplicates} duplicates, {stats.rejected} rejected, "
        f"{stats.published} published"
    )


@simulate.command("port")
@click.option("--locode", required=True, help="UN/LOCODE of the terminal, e.g. CNSHK.")
@click.option("--code", default=None, help="Partner code (default: the LOCODE in lower case).")
@click.option("--arrival-delay", "arrival_delay_s", default=5.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--load-delay", "load_delay_s", default=10.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--format", "fmt", type=click.Choice(["edifact", "json"]), default="edifact", show_default=True)
def simulate_port(locode: str, code: str | None, arrival_delay_s: float, load_delay_s: float, fmt: str) -> None:
    """A terminal: gate-in (CODECO) after each pre-advice, then loading (COARRI) of a container."""
    from integrations.simulate import PortSimulator

    locode = locode.upper()
    partner = code or locode.lower()
    _simulate(lambda url: PortSimulator(partner, locode, url, arrival_delay_s, load_delay_s, fmt), partner)


@simulate.command("node")
@click.option("--code", default="node", show_default=True, help="Partner code of the node.")
@click.option("--position-interval", "position_interval_s", default=5.0, show_default=True, type=click.FloatRange(0.1))
def simulate_node(code: str, position_interval_s: float) -> None:
    """The national node: accepts each e-waybill and streams its road vehicles' positions."""
    from integrations.simulate import NodeSimulator

    _simulate(lambda url: NodeSimulator(code, url, position_interval_s), code)
