"""How fast the carriers' dispatch pages answer, and how long the Plan button takes, on PostgreSQL.

Seeds a throw-away database in-process with a carrier, a page user of it and a generated drop-and-hook
day (``dispatch.solver.generator.generate_day`` stored by ``dispatch.demo_day.store_day``: ``--tractors``
tractors with their drivers, 2.5 trailers a tractor, ``--moves`` open moves); then starts ``freight serve``
(with no AMQP URL, so that each web worker runs the planning job in-process), signs the dispatcher in
through the sign-in form, presses the Plan button (``POST /carrier/plans``), polls the plan's progress
until it is done, accepts the plan when it breaks no rule, and times sequential GETs of the dispatch pages
(fleet board, moves, plans, the plan with its Gantt chart and map, the live board, a run sheet and its
PDF, the driver's page) beside ``GET /health/live`` in the same run, interleaved, so that every figure
also reads as a ratio to the trivial endpoint.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, user ``postgres``, trust auth)::

    uv run python bench/dispatch_pages.py --tractors 40 --moves 150 --time-limit 30 --requests 30
"""

# ruff: noqa: E402 (the imports below come after moving bench/ to the end of the module path)

from __future__ import annotations

import sys
from pathlib import Path

_BENCH_DIR = str(Path(__file__).resolve().parent)
if _BENCH_DIR in sys.path:
    # Run as a script, bench/ comes first on the path, where bench/dispatch (the solver benchmarks) hides the
    # project's dispatch package: look bench/'s modules (_harness, regulator_pages) up last instead.
    sys.path.remove(_BENCH_DIR)
    sys.path.append(_BENCH_DIR)

import argparse
import asyncio
import dataclasses
import os
import re
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from _harness import (
    BenchConfig,
    Database,
    Target,
    benchmark_database,
    create_org,
    machine_info,
    run_main,
    running_server,
    scratch_directory,
    timestamp,
    write_json,
)
from regulator_pages import (
    LOCAL,
    PASSWORD,
    Endpoint,
    Timing,
    _point_settings_at,
    measure,
    new_uscc,
    report,
    sign_in,
    timing_records,
)

from accounts import service as accounts
from accounts.schemas import OrganisationRole
from accounts.users import create_user
from core.db import create_engine, create_session_factory
from core.settings import load_settings
from dispatch.demo_day import demo_day_start, store_day
from dispatch.plan_models import DispatchPlan
from dispatch.solver.generator import generate_day

CARRIER_NAME = "广州穗港甩挂运输有限公司"
POLL_SECONDS = 0.5
HORIZON_HOURS = 24


# --- seeding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """What the seeding made."""

    username: str
    start: datetime
    """When the generated day starts (aware)."""
    rows: dict[str, int]
    """Rows stored by kind: places, drivers, tractors, trailers, moves."""
    seconds: float


async def seed(args: argparse.Namespace, database: Database, carrier_uscc: str) -> Seeded:
    """Store the generated day and a page user as the carrier's (made by ``freight orgs create``)."""
    _point_settings_at(database)
    engine = create_engine(load_settings())
    factory = create_session_factory(engine)
    start = demo_day_start(datetime.now(UTC))
    started = time.perf_counter()
    try:
        day = generate_day(tractors=args.tractors, moves=args.moves, seed=7, trailers_per_tractor=2.5, start=start)
        async with factory() as session, session.begin():
            carrier = await accounts.organisation_by_uscc(session, carrier_uscc, role=OrganisationRole.CARRIER)
            if carrier is None:
                raise RuntimeError(f"no carrier with USCC {carrier_uscc}")
            rows = await store_day(session, carrier_id=carrier.id, problem=day)
            username = f"dispatcher-{secrets.token_hex(3)}"
            await create_user(
                session, organisation_id=carrier.id, username=username, display_name="调度员", password=PASSWORD
            )
    finally:
        await engine.dispose()
    return Seeded(username=username, start=start, rows=rows, seconds=round(time.perf_counter() - started, 2))


# --- the Plan button ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRun:
    """One press of the Plan button, from the POST to the finished plan (and its acceptance)."""

    path: str
    """The plan page's path, ``/carrier/plans/<id>``."""
    wall_s: float
    """From sending the form to the progress answering a final status."""
    progress: dict[str, Any]
    """The last progress answer: status, elapsed_s, time_limit_s, tractors, deadhead_km, unassigned."""
    polls: int
    feasible: bool
    accepted: bool
    job_s: dict[str, float] | None = None
    """From the plan row: ``queued`` (created to started) and ``solving`` (started to finished) seconds."""


def _csrf_form(client: httpx.Client, **fields: str) -> dict[str, str]:
    return {**fields, "_csrf_token": client.cookies["freight_csrf"]}


def _see_other(answer: httpx.Response, what: str) -> str:
    """The 303's Location, or raise with the answer."""
    if answer.status_code != 303 or "location" not in answer.headers:
        raise RuntimeError(f"{what}: {answer.status_code} {answer.text[:500]}")
    return urlsplit(answer.headers["location"]).path


def press_plan(client: httpx.Client, *, start: datetime, time_limit: float, accept: bool) -> PlanRun:
    """Ask for a plan through the form, poll its progress every half second until it ends, then accept it."""
    form = _csrf_form(
        client,
        start=start.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M"),
        horizon_hours=str(HORIZON_HOURS),
        time_limit_s=f"{time_limit:g}",
    )
    started = time.perf_counter()
    path = _see_other(client.post("/carrier/plans", data=form), "POST /carrier/plans")
    polls = 0
    while True:
        polls += 1
        answer = client.get(f"{path}/progress")
        answer.raise_for_status()
        progress: dict[str, Any] = answer.json()
        if progress["status"] not in {"queued", "running"}:
            break
        time.sleep(POLL_SECONDS)
    wall = time.perf_counter() - started
    if progress["status"] != "done":
        raise RuntimeError(f"the plan ended {progress['status']}: {progress.get('error')}")
    page = client.get(path)
    page.raise_for_status()
    feasible = 'id="feasible"' in page.text
    if accept and feasible:
        _see_other(client.post(f"{path}/accept", data=_csrf_form(client)), f"POST {path}/accept")
    return PlanRun(path, round(wall, 2), progress, polls, feasible, accept and feasible)


async def job_seconds(plan_path: str) -> dict[str, float]:
    """How long the plan waited in the queue and how long its job ran, from the plan row's timestamps."""
    engine = create_engine(load_settings())
    try:
        async with create_session_factory(engine)() as session:
            row = await session.get(DispatchPlan, uuid.UUID(plan_path.rsplit("/", 1)[1]))
    finally:
        await engine.dispose()
    if row is None or row.started_at is None or row.finished_at is None:
        raise RuntimeError(f"{plan_path}: no finished plan row")
    return {
        "queued": round((row.started_at - row.created_at).total_seconds(), 2),
        "solving": round((row.finished_at - row.started_at).total_seconds(), 2),
    }


def print_plan(plan: PlanRun, time_limit: float) -> None:
    """The Plan button's wall time beside the time limit, where the time went, and the plan's figures."""
    figures = plan.progress
    print(
        f"\nPlan button: {plan.wall_s:.1f} s from POST to done for a {time_limit:g} s time limit "
        f"(× {plan.wall_s / time_limit:.2f}; {plan.polls} polls; last progress at {figures['elapsed_s']} s)",
    )
    if plan.job_s:
        print(f"plan row: {plan.job_s['queued']:.2f} s queued, {plan.job_s['solving']:.2f} s from started to finished")
    print(
        f"plan: {figures['tractors']} tractors, {figures['deadhead_km']} deadhead km, "
        f"{figures['unassigned']} unassigned moves; "
        f"{'feasible' if plan.feasible else 'BREAKS RULES'}, {'accepted' if plan.accepted else 'not accepted'}",
        flush=True,
    )


# --- the pages ----------------------------------------------------------------------------------

_TRACTOR = re.compile(r'data-tractor="(\d+)"')
_DRIVER_LINK = re.compile(r'id="driver-link".*?href="([^"]+)"', re.DOTALL)


def run_pages(client: httpx.Client, plan: PlanRun) -> list[Endpoint]:
    """A run sheet, its PDF and the driver's page of the first tractor with a run in the accepted plan."""
    if not plan.accepted:
        print("the plan was not accepted: no run sheet, PDF or driver page to time", flush=True)
        return []
    tractor = _TRACTOR.search(client.get(plan.path).text)
    if tractor is None:
        raise RuntimeError(f"{plan.path} shows no tractor with a run")
    sheet = f"/carrier/runs/{plan.path.rsplit('/', 1)[1]}/{tractor[1]}"
    page = client.get(sheet)
    page.raise_for_status()
    driver = _DRIVER_LINK.search(page.text)
    if driver is None:
        raise RuntimeError(f"{sheet} shows no driver link")
    return [
        Endpoint("GET run sheet", sheet),
        Endpoint("GET run sheet PDF", f"{sheet}/pdf"),
        Endpoint("GET driver page", urlsplit(driver[1]).path),
    ]


def endpoints(client: httpx.Client, plan: PlanRun) -> list[Endpoint]:
    """The pages to time, the reference first."""
    return [
        Endpoint("GET /health/live (reference)", "/health/live"),
        Endpoint("GET /carrier (fleet board)", "/carrier"),
        Endpoint("GET /carrier/moves", "/carrier/moves"),
        Endpoint("GET /carrier/moves?status=planned", "/carrier/moves?status=planned"),
        Endpoint("GET /carrier/plans", "/carrier/plans"),
        Endpoint("GET plan page (Gantt, map)", plan.path),
        Endpoint("GET plan progress (JSON)", f"{plan.path}/progress"),
        Endpoint("GET /carrier/live (board version)", "/carrier/live"),
        *run_pages(client, plan),
    ]


# --- running ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Seed, serve, sign in, press Plan, measure, report; 0 when every request answered as expected."""
    os.environ.pop("FREIGHT_AMQP_URL", None)  # the web workers then run the planning job in-process
    config = BenchConfig(
        duration=0,
        connections=1,
        workers=args.workers,
        threads=1,
        warmup=args.warmup,
        rounds=1,
        timeout=60,
        pool_size=args.pool_size,
        postgres_url=args.postgres.rstrip("/"),
    )
    with benchmark_database(config.postgres_url) as database, scratch_directory() as scratch:
        carrier_uscc = new_uscc("440100")
        create_org(database.url, name=CARRIER_NAME, role="carrier", uscc=carrier_uscc)
        seeded = asyncio.run(seed(args, database, carrier_uscc))
        print(
            f"stored a generated day starting {seeded.start.astimezone(LOCAL):%Y-%m-%d %H:%M} Beijing time: "
            + ", ".join(f"{count} {kind}" for kind, count in seeded.rows.items())
            + f" in {seeded.seconds:.1f} s",
            flush=True,
        )
        with (
            running_server(config, database, scratch) as target,
            httpx.Client(base_url=target.base_url, timeout=60.0, follow_redirects=False) as client,
        ):
            sign_in(client, seeded.username)
            plan = press_plan(client, start=seeded.start, time_limit=args.time_limit, accept=not args.no_accept)
            plan = dataclasses.replace(plan, job_s=asyncio.run(job_seconds(plan.path)))
            print_plan(plan, args.time_limit)
            timings = measure(client, endpoints(client, plan), requests=args.requests, warmup=args.warmup)
        return finish(args, config, target, seeded, plan, timings)


def finish(
    args: argparse.Namespace,
    config: BenchConfig,
    target: Target,
    seeded: Seeded,
    plan: PlanRun,
    timings: Sequence[Timing],
) -> int:
    """Print the table and write the JSON result."""
    reference = timings[0]
    print(
        f"\nfreight serve --workers {config.workers}; {args.requests} sequential GETs of each endpoint, interleaved, "
        f"after {args.warmup} warm-up rounds, on {os.cpu_count()} cores; {seeded.rows['tractors']} tractors, "
        f"{seeded.rows['moves']} moves"
    )
    report(timings, reference=reference)
    document = {
        "benchmark": "dispatch_pages",
        "machine": machine_info(),
        "server": {"workers": config.workers, "pool_size": config.pool_size, "base_url": target.base_url},
        "data": {"rows": seeded.rows, "day_start": seeded.start.isoformat(), "seeding_seconds": seeded.seconds},
        "plan": {
            "time_limit_s": args.time_limit,
            "horizon_hours": HORIZON_HOURS,
            "wall_s": plan.wall_s,
            "wall_to_time_limit": round(plan.wall_s / args.time_limit, 3),
            "progress": plan.progress,
            "job_s": plan.job_s,
            "feasible": plan.feasible,
            "accepted": plan.accepted,
        },
        "requests_per_endpoint": args.requests,
        "warmup_rounds": args.warmup,
        "endpoints": timing_records(timings, reference=reference),
    }
    path = write_json("dispatch_pages", timestamp(), document)
    print(f"results written to {path}")
    return 0


def main() -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--tractors", type=int, default=40, help="tractors of the generated day (default 40)")
    parser.add_argument("--moves", type=int, default=150, help="moves of the generated day (default 150)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="the plan's time limit in s (default 30)")
    parser.add_argument("--no-accept", action="store_true", help="do not accept the plan (no run sheets then)")
    parser.add_argument("--requests", type=int, default=30, help="timed GETs of each endpoint (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds before measuring (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="freight serve --workers (default 2)")
    parser.add_argument("--pool-size", type=int, default=None, help="FREIGHT_DATABASE_POOL_SIZE for the server")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("FREIGHT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without database (default: $FREIGHT_BENCH_POSTGRES or postgres@127.0.0.1:5432)",
    )
    args = parser.parse_args()
    if args.tractors < 1 or args.moves < 1 or args.requests < 1 or not 1 <= args.time_limit <= 300:
        parser.error("--tractors, --moves and --requests must be positive, --time-limit between 1 and 300")
    return run_main(run, args)


if __name__ == "__main__":
    sys.exit(main())
