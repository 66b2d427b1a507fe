"""HTTP load benchmark: transport events and the journey timeline on ``freight serve`` and PostgreSQL.

Run from the repository root::

    uv run python bench/events.py [--duration S] [--connections N] [--workers W] [--rounds R]

The driver (sharing ``bench/_harness.py`` with ``bench/waybills.py``) creates a throw-away database,
a shipper and the carrier of the example waybill's first leg, starts the server, issues pools of
waybills, and measures with wrk, in each round: the trivial endpoint ``GET /health/live``, single
events (``POST /v1/waybills/{number}/events``, ``bench/post_event.lua``), batches of events
(``POST /v1/waybills/{number}/events/batch``) and the timeline of a waybill holding 200 events
(``GET /v1/waybills/{number}/timeline``, ``bench/get_timeline.lua``). It prints a table per round
and the median round of each figure with its ratio to the trivial endpoint, writes
``bench/results/events-<timestamp>.json``, and exits non-zero if any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from _harness import (
    BENCH_DIR,
    REPO_ROOT,
    BenchConfig,
    Target,
    WrkResult,
    add_common_arguments,
    benchmark_database,
    check,
    common_config,
    create_org,
    ensure_wrk,
    http_json,
    machine_info,
    print_noise_and_failures,
    print_table,
    run_main,
    run_wrk,
    running_server,
    scratch_directory,
    timestamp,
    write_json,
)

from api.examples import CREATE_WAYBILL_EXAMPLE

POST_SCRIPT = BENCH_DIR / "post_event.lua"
GET_SCRIPT = BENCH_DIR / "get_timeline.lua"
SHIPPER_USCC = CREATE_WAYBILL_EXAMPLE["consignor"]["uscc"]
SHIPPER_NAME = CREATE_WAYBILL_EXAMPLE["consignor"]["name"]
CARRIER = CREATE_WAYBILL_EXAMPLE["legs"][0]["carrier"]
"""The carrier named on leg 1 of the example waybill: the reporter of every event."""
REF_PLACEHOLDER = "@EXTERNAL_REF@"
TIME_PLACEHOLDER = "@EVENT_TIME@"
ISSUING_THREADS = 8
TRAILER = {"trailer_plate": "粤E2386挂", "container_number": "CSQU3054383"}
TERMINAL = {"locode": "CNFOS", "name": "佛山北滘港集装箱码头"}
EVENT_TEMPLATES: list[dict[str, Any]] = [
    {"event_type": "gate_in", "place": TERMINAL, "equipment": TRAILER},
    {"event_type": "loaded", "place": TERMINAL, "equipment": TRAILER},
    {"event_type": "discharged", "place": TERMINAL, "equipment": TRAILER},
    {"event_type": "gate_out", "place": TERMINAL, "equipment": TRAILER},
    {"event_type": "arrived", "place": {"latitude": 22.9402, "longitude": 113.2381}, "source": "gnss"},
    {"event_type": "delay", "delay_minutes": 15, "remarks": "闸口排队"},
]
"""Leg-1 event types a leg's carrier may always report; each gets a unique external_ref and a past time."""


@dataclass(frozen=True)
class EventsConfig:
    """What to run: the shared load and server shape, and the shape of the event workload."""

    bench: BenchConfig
    batch_size: int
    waybills: int
    """Waybills per pool; every measured ingestion run gets a fresh pool."""
    timeline_events: int
    batch_connections: int
    """Connections of the batch runs: fewer than ``--connections``, lest a batch wait longer than a run."""


@dataclass(frozen=True)
class Parties:
    """API keys of the shipper (issues waybills, reads the timeline) and of the leg-1 carrier (reports)."""

    shipper: str
    carrier: str


@dataclass
class Round:
    """The four wrk runs of one round, and how many events the ingestion runs recorded."""

    trivial: WrkResult
    single: WrkResult
    batch: WrkResult
    timeline: WrkResult
    single_recorded: int
    batch_recorded: int


# --- command line ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> EventsConfig:
    """Read the command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The benchmark configuration.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, duration=10)
    parser.add_argument("--batch-size", type=int, default=50, help="events per batch request (default 50, max 500)")
    parser.add_argument(
        "--batch-connections", type=int, default=8, help="concurrent connections of the batch runs (default 8)"
    )
    parser.add_argument("--waybills", type=int, default=200, help="waybills per ingestion pool (default 200)")
    parser.add_argument("--timeline-events", type=int, default=200, help="events of the timeline waybill (default 200)")
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= 500:
        parser.error("--batch-size must be 1 to 500")
    if args.batch_connections < args.threads:
        parser.error("--batch-connections must be at least --threads")
    if args.waybills < 1 or args.timeline_events < 1:
        parser.error("--waybills and --timeline-events must be at least 1")
    return EventsConfig(
        bench=common_config(parser, args),
        batch_size=args.batch_size,
        waybills=args.waybills,
        timeline_events=args.timeline_events,
        batch_connections=args.batch_connections,
    )


# --- events and waybills ----------------------------------------------------------------------------


def base_epoch() -> int:
    """Start of the event times: three days ago, so that a day of per-event seconds stays in the past."""
    return int((datetime.now(UTC) - timedelta(days=3)).timestamp())


def event_template(index: int) -> dict[str, Any]:
    """Event body number ``index`` (in turn over ``EVENT_TEMPLATES``), on leg 1, with placeholders."""
    template = EVENT_TEMPLATES[index % len(EVENT_TEMPLATES)]
    return {"leg": 1, "event_time": TIME_PLACEHOLDER, **template, "external_ref": REF_PLACEHOLDER}


def write_templates(directory: Path) -> Path:
    """Write the event templates for ``post_event.lua``, one JSON object a line.

    Returns:
        The file's path.
    """
    path = directory / "events.jsonl"
    lines = (
        json.dumps(event_template(i), ensure_ascii=False, separators=(",", ":")) for i in range(len(EVENT_TEMPLATES))
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_numbers(directory: Path, name: str, numbers: Sequence[str]) -> Path:
    """Write waybill numbers for ``post_event.lua``, one a line.

    Returns:
        The file's path.
    """
    path = directory / f"{name}.txt"
    path.write_text("\n".join(numbers) + "\n", encoding="utf-8")
    return path


def make_event(index: int, external_ref: str, when: datetime) -> dict[str, Any]:
    """A filled-in event body, as ``post_event.lua`` makes them.

    Args:
        index: Which template to use (in turn).
        external_ref: Unique reference of the event.
        when: Event time (in the past).

    Returns:
        The event body.
    """
    text = json.dumps(event_template(index), ensure_ascii=False)
    text = text.replace(REF_PLACEHOLDER, external_ref).replace(TIME_PLACEHOLDER, when.isoformat())
    event: dict[str, Any] = json.loads(text)
    return event


def issue_waybill(target: Target, key: str) -> str:
    """Issue one waybill (the documented example, a unique reference) and return its number.

    Raises:
        RuntimeError: the server did not answer 201.
    """
    body = {**CREATE_WAYBILL_EXAMPLE, "shipper_reference": f"EV-{secrets.token_hex(6).upper()}"}
    status, answer = http_json("POST", f"{target.base_url}/v1/waybills", key, body)
    if status != 201:
        raise RuntimeError(f"POST /v1/waybills answered {status}: {answer}")
    number: str = answer["number"]
    return number


def issue_waybills(target: Target, key: str, count: int) -> list[str]:
    """Issue ``count`` waybills, a few at a time (setup, not measured).

    Returns:
        Their numbers.
    """
    with ThreadPoolExecutor(max_workers=ISSUING_THREADS) as pool:
        return list(pool.map(lambda _: issue_waybill(target, key), range(count)))


def timeline_waybill(target: Target, parties: Parties, config: EventsConfig) -> str:
    """Issue a waybill and give it ``config.timeline_events`` events, in batches.

    Returns:
        Its number.

    Raises:
        RuntimeError: a batch failed, or the timeline does not show every event.
    """
    number = issue_waybill(target, parties.shipper)
    start, tag = datetime.fromtimestamp(base_epoch(), UTC), f"t{secrets.token_hex(3)}"
    events = [make_event(i, f"{tag}-{i}", start + timedelta(minutes=i)) for i in range(config.timeline_events)]
    url = f"{target.base_url}/v1/waybills/{number}/events/batch"
    for first in range(0, len(events), config.batch_size):
        status, answer = http_json("POST", url, parties.carrier, {"events": events[first : first + config.batch_size]})
        if status != 201:
            raise RuntimeError(f"POST /v1/waybills/{number}/events/batch answered {status}: {answer}")
    status, answer = http_json("GET", f"{target.base_url}/v1/waybills/{number}/timeline", parties.shipper)
    if status != 200 or len(answer["events"]) != config.timeline_events:
        raise RuntimeError(f"the timeline of {number} is not as expected ({status}): {str(answer)[:500]}")
    return number


async def _recorded_events(database_url: str, numbers: Sequence[str]) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM transport_event e JOIN waybill w ON w.id = e.waybill_id WHERE w.number = ANY($1)",
            list(numbers),
        )
        return count
    finally:
        await connection.close()


def recorded_events(database_url: str, numbers: Sequence[str]) -> int:
    """How many events the waybills ``numbers`` hold, read from the database."""
    return asyncio.run(_recorded_events(database_url, numbers))


# --- the runs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Everything the measured runs need: server, keys, files and the timeline waybill."""

    config: EventsConfig
    wrk: str
    target: Target
    database_url: str
    parties: Parties
    templates: Path
    scratch: Path
    timeline_number: str


def ingest(work: Workload, name: str, numbers: list[str], batch_size: int, seconds: int) -> tuple[WrkResult, int]:
    """Post events to the waybills ``numbers`` for ``seconds`` with wrk, single (batch size 0) or in batches.

    Returns:
        wrk's result, and how many events those waybills hold afterwards.
    """
    run_tag = f"{name.split()[0][:1]}{secrets.token_hex(4)}"
    script_args = [
        str(work.templates),
        str(write_numbers(work.scratch, run_tag, numbers)),
        work.parties.carrier,
        run_tag,
        str(batch_size),
        str(base_epoch()),
        str(work.config.bench.threads),
    ]
    bench = work.config.bench
    if batch_size:
        bench = replace(bench, connections=work.config.batch_connections)
    result = run_wrk(work.wrk, bench, work.target, name, "/v1/waybills", seconds, POST_SCRIPT, script_args)
    return result, recorded_events(work.database_url, numbers)


def timeline(work: Workload) -> WrkResult:
    """Load the timeline of the waybill with many events for ``--duration`` seconds."""
    path = f"/v1/waybills/{work.timeline_number}/timeline"
    name = f"GET timeline ({work.config.timeline_events} ev)"
    return run_wrk(
        work.wrk,
        work.config.bench,
        work.target,
        name,
        path,
        work.config.bench.duration,
        GET_SCRIPT,
        [work.parties.shipper],
    )


def warm_up(work: Workload, pool: list[str]) -> None:
    """Post single events, then batches, for ``--warmup`` seconds each (not measured).

    Raises:
        RuntimeError: a request failed.
    """
    seconds = work.config.bench.warmup
    if seconds <= 0:
        return
    print(f"warm-up: {seconds}s of single events, then {seconds}s of batches", flush=True)
    check(ingest(work, "warm-up single", pool, 0, seconds)[0])
    check(ingest(work, "warm-up batch", pool, work.config.batch_size, seconds)[0])


def measure_round(work: Workload, single_pool: list[str], batch_pool: list[str]) -> Round:
    """One round: the trivial endpoint, single events, batches, then the timeline."""
    duration, batch_size = work.config.bench.duration, work.config.batch_size
    trivial = run_wrk(work.wrk, work.config.bench, work.target, "GET /health/live", "/health/live", duration)
    single, single_recorded = ingest(work, "POST events (single)", single_pool, 0, duration)
    batch, batch_recorded = ingest(work, f"POST events/batch ({batch_size})", batch_pool, batch_size, duration)
    return Round(trivial, single, batch, timeline(work), single_recorded, batch_recorded)


# --- report -----------------------------------------------------------------------------------------


def figures(config: EventsConfig, result: Round) -> dict[str, float]:
    """The headline figures of a round and their ratios to the trivial endpoint."""
    trivial = result.trivial.per_second
    batch_events = result.batch.per_second * config.batch_size
    return {
        "trivial_req_per_s": trivial,
        "single_events_per_s": result.single.per_second,
        "batch_events_per_s": batch_events,
        "batch_req_per_s": result.batch.per_second,
        "timeline_req_per_s": result.timeline.per_second,
        "single_per_trivial": result.single.per_second / trivial,
        "batch_events_per_trivial": batch_events / trivial,
        "batch_req_per_trivial": result.batch.per_second / trivial,
        "timeline_per_trivial": result.timeline.per_second / trivial,
    }


def _latency(result: WrkResult) -> str:
    return f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"


def _recorded_note(result: WrkResult, recorded: int, per_request: int, pool: int) -> str:
    acknowledged = result.requests * per_request
    note = f"{recorded} events recorded ({recorded / pool:.0f} per waybill), {acknowledged} acknowledged by wrk"
    return note + ("  <- fewer than acknowledged: replayed?" if recorded < acknowledged else "")


def print_round(config: EventsConfig, result: Round) -> None:
    """Print a round's table, its figures and ratios, and any failure."""
    runs = (result.trivial, result.single, result.batch, result.timeline)
    print_table(config.bench, runs, name_width=26)
    f = figures(config, result)
    print(
        f"single events:  {f['single_events_per_s']:8.1f} events/s ({_latency(result.single)}), "
        f"÷ trivial = {f['single_per_trivial']:.3f}; "
        + _recorded_note(result.single, result.single_recorded, 1, config.waybills)
    )
    print(
        f"batch events:   {f['batch_events_per_s']:8.1f} events/s = {f['batch_req_per_s']:.1f} req/s × "
        f"{config.batch_size} on {config.batch_connections} connections ({_latency(result.batch)}), "
        f"÷ trivial = {f['batch_events_per_trivial']:.3f} "
        f"(req/s ÷ trivial = {f['batch_req_per_trivial']:.3f}); "
        + _recorded_note(result.batch, result.batch_recorded, config.batch_size, config.waybills)
    )
    print(
        f"timeline:       {f['timeline_req_per_s']:8.1f} req/s ({_latency(result.timeline)}), "
        f"÷ trivial = {f['timeline_per_trivial']:.3f}"
    )
    print_noise_and_failures(runs)


def _median_round(rounds: list[Round], key: str, config: EventsConfig) -> Round:
    ordered = sorted(rounds, key=lambda r: figures(config, r)[key])
    return ordered[len(ordered) // 2]


def median_summary(config: EventsConfig, rounds: list[Round]) -> dict[str, Any]:
    """For each endpoint, the round with its median throughput: figures, latency and ratio to trivial."""
    summary: dict[str, Any] = {}
    parts = {
        "trivial": ("trivial_req_per_s", "trivial", None),
        "single": ("single_events_per_s", "single", "single_per_trivial"),
        "batch": ("batch_events_per_s", "batch", "batch_events_per_trivial"),
        "timeline": ("timeline_req_per_s", "timeline", "timeline_per_trivial"),
    }
    for part, (key, attribute, ratio) in parts.items():
        chosen = _median_round(rounds, key, config)
        result: WrkResult = getattr(chosen, attribute)
        values = [figures(config, r)[key] for r in rounds]
        summary[part] = {
            "per_second": figures(config, chosen)[key],
            "req_per_s": result.per_second,
            "p50_ms": result.p50_ms,
            "p99_ms": result.p99_ms,
            "ratio_to_trivial": figures(config, chosen)[ratio] if ratio else 1.0,
            "trivial_of_that_round": chosen.trivial.per_second,
            "range": [min(values), max(values)],
            "median_of_rounds": statistics.median(values),
        }
    return summary


def print_median(config: EventsConfig, summary: dict[str, Any], rounds: int) -> None:
    """Print the median-round figures: what to report."""
    print()
    print(f"median of {rounds} round(s), each figure from the round with its median throughput:")
    labels = {
        "trivial": "GET /health/live req/s",
        "single": "single events/s",
        "batch": f"batch events/s ({config.batch_size}/request)",
        "timeline": f"timeline ({config.timeline_events} events) req/s",
    }
    for part, label in labels.items():
        s = summary[part]
        extra = f" = {s['req_per_s']:.1f} req/s" if part == "batch" else ""
        print(
            f"  {label:<34} {s['per_second']:9.1f}{extra}  p50 {s['p50_ms']:.1f} ms  p99 {s['p99_ms']:.1f} ms  "
            f"÷ trivial {s['ratio_to_trivial']:.3f}  (range {s['range'][0]:.0f}-{s['range'][1]:.0f})"
        )


def write_result(config: EventsConfig, rounds: list[Round], summary: dict[str, Any]) -> Path:
    """Write every round and the median summary to ``bench/results/events-<timestamp>.json``.

    Returns:
        The file's path.
    """
    stamp = timestamp()
    bench = {k: v for k, v in asdict(config.bench).items() if k != "postgres_url"}
    document: dict[str, Any] = {
        "timestamp": stamp,
        "machine": machine_info(),
        "config": {
            **bench,
            "batch_size": config.batch_size,
            "batch_connections": config.batch_connections,
            "waybills": config.waybills,
            "timeline_events": config.timeline_events,
        },
        "median": summary,
        "rounds": [{**asdict(r), "figures": figures(config, r)} for r in rounds],
    }
    return write_json("events", stamp, document)


# --- the run ----------------------------------------------------------------------------------------


def measure(work: Workload) -> int:
    """Issue the waybill pools, warm up, run the rounds, and report.

    Returns:
        The exit status: 0, or 1 if any measured request failed.
    """
    config = work.config
    pools_needed = 1 + 2 * config.bench.rounds
    print(f"issuing {pools_needed} pools of {config.waybills} waybills", flush=True)
    started = time.monotonic()
    numbers = issue_waybills(work.target, work.parties.shipper, pools_needed * config.waybills)
    pools = [numbers[i * config.waybills : (i + 1) * config.waybills] for i in range(pools_needed)]
    print(f"issued {len(numbers)} waybills in {time.monotonic() - started:.1f}s", flush=True)
    warm_up(work, pools[0])
    rounds: list[Round] = []
    for index in range(1, config.bench.rounds + 1):
        print(
            f"round {index}/{config.bench.rounds}: GET /health/live, POST events, POST events/batch, "
            f"GET timeline, {config.bench.duration}s each",
            flush=True,
        )
        rounds.append(measure_round(work, pools[2 * index - 1], pools[2 * index]))
        print_round(config, rounds[-1])
    summary = median_summary(config, rounds)
    print_median(config, summary, len(rounds))
    print(f"result: {write_result(config, rounds, summary).relative_to(REPO_ROOT)}")
    failed = any(run.failed for r in rounds for run in (r.trivial, r.single, r.batch, r.timeline))
    return 1 if failed else 0


def run(config: EventsConfig) -> int:
    """Set everything up, measure, and tear everything down.

    Args:
        config: What to run.

    Returns:
        The exit status.
    """
    wrk = ensure_wrk()
    with benchmark_database(config.bench.postgres_url) as database, scratch_directory() as scratch:
        parties = Parties(
            shipper=create_org(database.url, name=SHIPPER_NAME, role="shipper", uscc=SHIPPER_USCC),
            carrier=create_org(database.url, name=CARRIER["name"], role="carrier", uscc=CARRIER["uscc"]),
        )
        with running_server(config.bench, database, scratch) as target:
            print(f"timeline waybill: {config.timeline_events} events in batches of {config.batch_size}", flush=True)
            work = Workload(
                config=config,
                wrk=wrk,
                target=target,
                database_url=database.url,
                parties=parties,
                templates=write_templates(scratch),
                scratch=scratch,
                timeline_number=timeline_waybill(target, parties, config),
            )
            return measure(work)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    return run_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
