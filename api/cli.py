"""The ``freight`` command: serve the API, migrate, manage organisations, run the demo."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from accounts.schemas import OrganisationCreate, OrganisationRead
from core.cli import database_option, set_database
from core.logging import configure_logging
from core.settings import get_settings
from integrations.cli import consume, partners, relay, simulate
from integrations.edifact.cli import edi

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from accounts.users import PageUser
    from api.demo_exchange import DemoExchange

__all__ = ("main",)


@click.group()
def main() -> None:
    """Freight e-waybill and drop-and-hook platform."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=int, help="Server processes (PostgreSQL only).")
@database_option
def serve(host: str, port: int, workers: int, database_url: str | None) -> None:
    """Migrate the database to the newest schema, then serve the HTTP API."""
    set_database(database_url)
    settings = get_settings()
    from core.migrate import upgrade_database

    upgrade_database(settings.database_url)
    _run_server(host, port, workers if not settings.database_url.startswith("sqlite") else 1)


def _run_server(host: str, port: int, workers: int) -> None:
    """Serve ``create_app`` with Granian: its HTTP and socket work runs in Rust threads, which on a
    two-core machine leaves noticeably more of the interpreter to the application (docs/decisions/0006)."""
    from granian import Granian
    from granian.constants import Interfaces

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    Granian(
        "api.app:create_app",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        log_dictconfig=_GRANIAN_LOGGING,
    ).serve()


# Granian's own loggers hand their records to the root logger, which renders them like ours.
_GRANIAN_LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {name: {"handlers": [], "propagate": True} for name in ("_granian", "granian.access")},
}


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@database_option
def db_upgrade(revision: str, database_url: str | None) -> None:
    """Apply the migrations up to REVISION."""
    set_database(database_url)
    from core.migrate import upgrade_database

    upgrade_database(get_settings().database_url, revision)
    click.echo(f"database at {revision}")


@main.group()
def orgs() -> None:
    """Organisations and their API keys."""


@orgs.command("create")
@click.option("--name", required=True, help="Registered name, e.g. 佛山顺通甩挂运输有限公司.")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["shipper", "carrier", "port", "customs", "regulator", "admin"]),
)
@click.option("--uscc", required=True, help="Unified social credit code (18 characters).")
@click.option("--place", "places", multiple=True, help="UN/LOCODE where a port or customs office acts (repeatable).")
@database_option
def orgs_create(name: str, role: str, uscc: str, places: tuple[str, ...], database_url: str | None) -> None:
    """Create an organisation; its new API key is the last line printed (shown once)."""
    set_database(database_url)
    import msgspec

    try:
        data = msgspec.convert(
            {"name": name, "role": role, "uscc": uscc.strip().upper(), "places": [p.upper() for p in places]},
            OrganisationCreate,
        )
    except msgspec.ValidationError as exc:
        raise click.BadParameter(str(exc)) from None
    organisation, key = asyncio.run(_create_organisation(data))
    click.echo(f"organisation {organisation.id} {organisation.role.value} {organisation.uscc} {organisation.name}")
    click.echo("API key (shown once, store it now):")
    click.echo(key)


async def _create_organisation(data: OrganisationCreate) -> tuple[OrganisationRead, str]:
    from accounts import service
    from core.db import create_engine, create_session_factory
    from core.errors import DomainError
    from core.migrate import upgrade_database

    settings = get_settings()
    await asyncio.to_thread(upgrade_database, settings.database_url)
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            try:
                organisation = await service.create_organisation(session, data=data)
            except DomainError as exc:
                raise click.ClickException(exc.detail) from None
            key = await service.issue_api_key(session, organisation_id=organisation.id, label="cli")
            await session.commit()
            return organisation, key.key
    finally:
        await engine.dispose()


@orgs.command("revoke-key")
@click.argument("organisation_id", type=click.UUID)
@click.argument("key_id", type=click.UUID)
@database_option
def orgs_revoke_key(organisation_id: uuid.UUID, key_id: uuid.UUID, database_url: str | None) -> None:
    """Revoke an API key of an organisation."""
    set_database(database_url)

    async def revoke() -> None:
        from accounts import service
        from core.db import create_engine, create_session_factory
        from core.errors import DomainError

        engine = create_engine(get_settings())
        try:
            async with create_session_factory(engine)() as session:
                try:
                    await service.revoke_api_key(session, organisation_id=organisation_id, key_id=key_id)
                except DomainError as exc:
                    raise click.ClickException(exc.detail) from None
                await session.commit()
        finally:
            await engine.dispose()

    asyncio.run(revoke())
    click.echo(f"revoked {key_id}")


@main.group()
def users() -> None:
    """People who sign in to the web pages."""


@users.command("create")
@click.option("--organisation", "uscc", required=True, help="USCC of the organisation the person acts for.")
@click.option("--username", required=True, help="Sign-in name (3–64 letters, digits, '.', '_', '-', '@').")
@click.option("--name", "display_name", required=True, help="Name shown on the pages, e.g. 值班员 李敏.")
@click.password_option(help="Password (at least 8 characters); asked for when not given.")
@database_option
def users_create(uscc: str, username: str, display_name: str, password: str, database_url: str | None) -> None:
    """Create a person who signs in to the pages for an organisation."""
    set_database(database_url)
    from core.errors import DomainError

    try:
        user = asyncio.run(_create_user(uscc.strip().upper(), username, display_name, password))
    except DomainError as exc:
        raise click.ClickException(exc.detail) from None
    click.echo(f"user {user.username} ({user.display_name}) signs in for {user.organisation_name} ({user.role.value})")


async def _create_user(uscc: str, username: str, display_name: str, password: str) -> PageUser:
    from accounts import service
    from accounts.users import create_user
    from core.db import create_engine, create_session_factory
    from core.errors import NotFoundError
    from core.settings import get_settings

    engine = create_engine(get_settings())
    try:
        async with create_session_factory(engine)() as session:
            organisation = await service.organisation_by_uscc(session, uscc)
            if organisation is None:
                raise NotFoundError(f"no organisation with USCC {uscc}")
            user = await create_user(
                session,
                organisation_id=organisation.id,
                username=username,
                display_name=display_name,
                password=password,
            )
            await session.commit()
            return user
    finally:
        await engine.dispose()


@asynccontextmanager
async def _migrated_engine() -> AsyncIterator[AsyncEngine]:
    """For a long-running command: logging set up, the database migrated, an engine disposed of at the end."""
    from core.db import create_engine
    from core.migrate import upgrade_database

    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    await asyncio.to_thread(upgrade_database, settings.database_url)
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


@main.group()
def deliveries() -> None:
    """Signed callbacks to event subscriptions."""


@deliveries.command("run")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option("--interval", default=5.0, show_default=True, type=float, help="Seconds between runs.")
@database_option
def deliveries_run(once: bool, interval: float, database_url: str | None) -> None:
    """Send due callback deliveries, retrying failures with backoff (`freight relay` does this too)."""
    set_database(database_url)

    async def run() -> None:
        import httpx

        from core.db import create_session_factory
        from waybill.subscriptions import deliver_due

        async with _migrated_engine() as engine, httpx.AsyncClient() as client:
            while True:
                report = await deliver_due(create_session_factory(engine), client=client)
                if once:
                    click.echo(
                        f"attempted {report.attempted}: {report.succeeded} succeeded, "
                        f"{report.retrying} to retry, {report.failed} failed"
                    )
                    return
                if report.attempted == 0:
                    await asyncio.sleep(interval)

    asyncio.run(run())


@main.group()
def monitor() -> None:
    """Dangerous-goods vehicle monitoring."""


@monitor.command("run")
@click.option("--once", is_flag=True, help="Evaluate the vehicles once, then exit.")
@click.option("--interval", default=30.0, show_default=True, type=float, help="Seconds between runs.")
@click.option(
    "--thresholds",
    "thresholds_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Thresholds, expressways and zones as JSON (default: monitoring/data/prd_zones.json).",
)
@database_option
def monitor_run(once: bool, interval: float, thresholds_path: Path | None, database_url: str | None) -> None:
    """Evaluate recent vehicle positions against the alert rules and record the alerts.

    Each round looks at the vehicles that reported in the last 15 minutes and at every dangerous-goods
    road leg under way. The demo runs its own monitor, which also knows its routes.
    """
    set_database(database_url)
    import msgspec

    from monitoring.config import load_thresholds, prd_thresholds

    try:
        thresholds = load_thresholds(thresholds_path) if thresholds_path else prd_thresholds()
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise click.ClickException(f"{thresholds_path}: {exc}") from None

    async def run() -> None:
        from core.db import create_session_factory
        from monitoring.flows import monitor_positions

        async with _migrated_engine() as engine:
            while True:
                async with create_session_factory(engine)() as session:
                    report = await monitor_positions(session, thresholds=thresholds)
                    await session.commit()
                if once:
                    click.echo(
                        f"evaluated {report.vehicles} vehicles: {report.alerts} alerts, "
                        f"{report.opened} new, {report.updated} updated"
                    )
                    return
                await asyncio.sleep(interval)

    asyncio.run(run())


@main.command()
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1), help="Worker threads.")
@click.option("--queue", "queues", multiple=True, help="Run only this queue's jobs (repeatable; default: all).")
@database_option
def worker(threads: int, queues: tuple[str, ...], database_url: str | None) -> None:
    """Run background jobs from RabbitMQ (FREIGHT_AMQP_URL) until SIGINT or SIGTERM.

    Without FREIGHT_AMQP_URL the web app runs the jobs itself and no worker is needed.
    """
    set_database(database_url)
    settings = get_settings()
    if not settings.amqp_url:
        raise click.ClickException("FREIGHT_AMQP_URL is not set: `freight serve` runs the jobs in-process")
    configure_logging(level=settings.log_level, json=settings.log_json)
    from core.jobs import configure_broker, run_worker

    run_worker(configure_broker(settings), threads=threads, queues=queues or None)


@main.group()
def dispatch() -> None:
    """Drop-and-hook planning."""


@dispatch.command("solve")
@click.argument("problem", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "problem_format",
    type=click.Choice(["auto", "json", "lilim"]),
    default="auto",
    show_default=True,
    help="json: a drop-and-hook problem (dispatch.solver.problem.Problem); lilim: a Li & Lim PDPTW instance; "
    "auto: json for *.json files, lilim otherwise.",
)
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def dispatch_solve(problem: Path, problem_format: str, time_limit_s: float, seed: int, as_json: bool) -> None:
    """Solve PROBLEM and print the plan; every plan is checked by the independent checker first.

    A drop-and-hook problem prints, per tractor, its stops with arrival, service and departure times,
    its deadhead kilometres, then the moves left out with their reasons and a summary.

    For Li & Lim instances: Euclidean distances, travel time = distance, vehicles first, then
    distance (the SINTEF convention); routes list the instance's own node numbers.
    """
    if problem_format == "auto":
        problem_format = "json" if problem.suffix.lower() == ".json" else "lilim"
    if problem_format == "json":
        _solve_drop_and_hook(problem, time_limit_s=time_limit_s, seed=seed, as_json=as_json)
    else:
        _solve_lilim(problem, time_limit_s=time_limit_s, seed=seed, as_json=as_json)


def _solve_drop_and_hook(path: Path, *, time_limit_s: float, seed: int, as_json: bool) -> None:
    import msgspec

    from dispatch.solver.dropandhook import solve
    from dispatch.solver.matrix import matrix_for
    from dispatch.solver.plan_check import find_plan_violations
    from dispatch.solver.problem import Problem
    from dispatch.solver.report import format_plan

    try:
        problem = msgspec.json.decode(path.read_bytes(), type=Problem)
        matrix = matrix_for(problem.places, problem.matrix)
        plan = solve(problem, time_limit_s=time_limit_s, seed=seed, matrix=matrix)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    violations = find_plan_violations(problem, plan, matrix)
    if violations:
        raise click.ClickException("the plan fails the feasibility check: " + "; ".join(violations[:5]))
    click.echo(msgspec.json.encode(plan).decode() if as_json else format_plan(problem, plan))


def _solve_lilim(problem: Path, *, time_limit_s: float, seed: int, as_json: bool) -> None:
    import json

    from dispatch.solver.check import find_violations
    from dispatch.solver.lilim import read_lilim
    from dispatch.solver.pdptw import solve_pdptw

    try:
        instance = read_lilim(problem)
    except ValueError as exc:
        raise click.ClickException(f"{problem}: {exc}") from None
    solution = solve_pdptw(instance, time_limit_s=time_limit_s, seed=seed)
    violations = find_violations(instance, solution.routes)
    if violations and not solution.unserved:
        raise click.ClickException("the plan fails the feasibility check: " + "; ".join(violations[:5]))
    routes = [list(route) for route in solution.routes]
    if as_json:
        click.echo(
            json.dumps({"vehicles": solution.vehicles, "distance": round(solution.distance, 2), "routes": routes})
        )
    else:
        click.echo(f"{problem.name}: {solution.vehicles} vehicles, distance {solution.distance:.2f}")
        for index, route in enumerate(routes, start=1):
            click.echo(f"  route {index}: {' '.join(map(str, route))}")
    if solution.unserved:
        click.echo(f"unserved requests (pickup nodes): {' '.join(map(str, solution.unserved))}", err=True)
        raise SystemExit(2)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Seed and print the keys, then exit.")
@click.option("--no-partners", is_flag=True, help="Do not run the simulated partner exchange, even with RabbitMQ.")
@database_option
def demo(host: str, port: int, no_serve: bool, no_partners: bool, database_url: str | None) -> None:
    """Seed Pearl River Delta demo data, print API keys and URLs, then serve.

    When RabbitMQ answers (FREIGHT_PARTNER_AMQP_URL, FREIGHT_AMQP_URL or the local default), a
    simulated terminal and national node answer a freshly issued "live" waybill while the API serves.
    """
    set_database(database_url)
    settings = get_settings()
    from api.demo import DEMO_PASSWORD, seed_demo
    from core.migrate import upgrade_database

    upgrade_database(settings.database_url)
    keys = asyncio.run(seed_demo(settings))
    base = f"http://{host}:{port}"
    click.echo(f"Freight demo on {settings.database_url}")
    click.echo(f"  API docs (Swagger UI): {base}/schema/")
    click.echo(f"  OpenAPI document:      {base}/schema/openapi.json")
    click.echo(f"  Health:                {base}/health/ready   Metrics: {base}/metrics")
    click.echo(f"  Regulator's monitoring: {base}/login  (user regulator, password {DEMO_PASSWORD})")
    click.echo("API keys (new each run; earlier demo keys keep working until revoked):")
    for role, name, key in keys:
        click.echo(f"  {role:<10} {key}  {name}")
    shipper_key = next(key for role, _, key in keys if role == "shipper")
    click.echo("Try:")
    click.echo(f"  curl -s -H 'Authorization: Bearer {shipper_key}' {base}/v1/waybills")
    exchange = None if no_serve else _start_demo_exchange(no_partners=no_partners, base=base, shipper_key=shipper_key)
    from api.demo_dangerous_goods import DangerousGoodsTraffic, start_dangerous_goods_traffic

    traffic: DangerousGoodsTraffic | None = None
    try:
        traffic, first_run = start_dangerous_goods_traffic(settings, live=not no_serve)
        regulator_key = next(key for role, _, key in keys if role == "regulator")
        click.echo(
            f"Dangerous-goods traffic: {first_run.vehicles} tankers on Pearl River Delta roads, "
            f"{first_run.alerts} alerts" + ("" if no_serve else " (positions every 5 s, monitor every 15 s):")
        )
        click.echo(f"  curl -s -H 'Authorization: Bearer {regulator_key}' {base}/v1/alerts")
        sys.stdout.flush()
        if not no_serve:
            _run_server(host, port, 1)
    finally:
        if traffic is not None:
            traffic.close()
        if exchange is not None:
            exchange.close()


def _start_demo_exchange(*, no_partners: bool, base: str, shipper_key: str) -> DemoExchange | None:
    """Start the simulated partner exchange and issue the live waybill; ``None`` when it is off."""
    from api.demo_exchange import DemoExchange, reachable_amqp_url

    settings = get_settings()
    url = None if no_partners else reachable_amqp_url(settings)
    if url is None:
        reason = "--no-partners" if no_partners else "RabbitMQ not reachable"
        click.echo(f"Partner exchange off ({reason}): no simulated terminal or node.")
        return None
    from api.demo import issue_live_waybill, register_demo_partners

    configure_logging(level=settings.log_level, json=settings.log_json)
    partners = asyncio.run(register_demo_partners(settings))
    exchange = DemoExchange(settings, url, partners)
    exchange.start()
    number = asyncio.run(issue_live_waybill(settings))
    terminals = ", ".join(p.locode or p.code for p in partners if p.locode)
    click.echo(f"Partner exchange on: simulated terminals {terminals} and the national node, over RabbitMQ.")
    click.echo(f"Live waybill {number}: gate-in at Beijiao in ~5 s, loaded on the barge ~10 s later, node ack:")
    click.echo(f"  curl -s -H 'Authorization: Bearer {shipper_key}' {base}/v1/waybills/{number}/timeline")
    click.echo(f"  curl -s -H 'Authorization: Bearer {shipper_key}' {base}/v1/waybills/{number}/changes")
    return exchange


main.add_command(edi)
main.add_command(relay)
main.add_command(consume)
main.add_command(partners)
main.add_command(simulate)


if __name__ == "__main__":
    main()
