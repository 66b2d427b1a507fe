"""HTTP load benchmark: GNSS positions stored per second through ``POST /v1/positions`` on PostgreSQL.

Run from the repository root::

    uv run python bench/positions.py [--duration S] [--connections N] [--workers W] [--rounds R] [--batch N]

The driver (sharing ``bench/_harness.py`` with ``bench/waybills.py`` and ``bench/events.py``) creates a
throw-away database and a carrier, starts the server, warms up, and measures with wrk, in each round:
the trivial endpoint ``GET /health/live``, then batches of ``--batch`` fixes (``bench/post_positions.lua``,
every fix a new plate/time pair, so that each is really inserted). After each positions run it counts
the run's rows in ``vehicle_position`` and checks them against requests × batch and the ``stored``
figures of the answers. It prints a table per round and the median round with positions/s, p99 and
the ratio to the trivial endpoint, writes ``bench/results/positions-<timestamp>.json``, and exits
non-zero if any request failed or a count is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
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

POST_SCRIPT = BENCH_DIR / "post_positions.lua"
CARRIER = CREATE_WAYBILL_EXAMPLE["legs"][0]["carrier"]
"""The carrier named on leg 1 of the example waybill: the reporter of every fix."""
AIM_POSITIONS_PER_S = 5_000.0
"""The product's aim for position ingestion (reported, not asserted)."""
BASE_AGE = timedelta(hours=6)
"""Fix times start this long ago and advance one second per ``--vehicles`` fixes of a wrk thread."""


@dataclass(frozen=True)
class PositionsConfig:
    """What to run: the shared load and server shape, and the shape of the batches."""

    bench: BenchConfig
    batch: int
    vehicles: int
    """Plates per wrk thread; a batch holds batch / vehicles consecutive seconds of each."""


@dataclass
class Ingest:
    """One positions run: wrk's result and the counts that check it."""

    result: WrkResult
    run_tag: str
    rows: int
    """Rows of this run's plates in ``vehicle_position`` afterwards."""
    stored_answered: int
    """Sum of the ``stored`` figures of the 2xx answers wrk received."""
    sent: int
    """Requests the Lua script built (those in flight when wrk stopped included)."""


@dataclass
class Round:
    """The trivial run and the positions run of one round."""

    trivial: WrkResult
    positions: Ingest


# --- command line ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> PositionsConfig:
    """Read the command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The benchmark configuration.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, duration=10)
    parser.set_defaults(connections=8)
    parser.add_argument("--batch", type=int, default=500, help="fixes per request (default 500, max 5000)")
    parser.add_argument("--vehicles", type=int, default=200, help="plates per wrk thread (default 200)")
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 5_000:
        parser.error("--batch must be 1 to 5000")
    if not 1 <= args.vehicles <= 9_999:
        parser.error("--vehicles must be 1 to 9999")
    return PositionsConfig(bench=common_config(parser, args), batch=args.batch, vehicles=args.vehicles)


# --- the database -----------------------------------------------------------------------------------


async def _count_rows(database_url: str, run_tag: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM vehicle_position WHERE plate LIKE $1 || '%'", run_tag
        )
        return count
    finally:
        await connection.close()


def count_rows(database_url: str, run_tag: str) -> int:
    """Rows of the plates of the run ``run_tag`` in ``vehicle_position``."""
    return asyncio.run(_count_rows(database_url, run_tag))


async def _partitions(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'vehicle_position'::regclass ORDER BY c.relname"
        )
        counts = {}
        for row in rows:
            counts[row["relname"]] = await connection.fetchval(f'SELECT count(*) FROM "{row["relname"]}"')
        return counts
    finally:
        await connection.close()


def partitions(database_url: str) -> dict[str, int]:
    """The partitions of ``vehicle_position`` and their row counts (empty on an unpartitioned table)."""
    return asyncio.run(_partitions(database_url))


# --- the runs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """Everything the measured runs need."""

    config: PositionsConfig
    wrk: str
    target: Target
    database_url: str
    carrier: str


def ingest(work: Workload, name: str, seconds: int) -> Ingest:
    """Post batches of new fixes for ``seconds`` with wrk, then count the run's rows.

    Returns:
        The run and its counts.
    """
    run_tag = f"粤{name[0].upper()}{secrets.token_hex(2)}"
    base_epoch = int((datetime.now(UTC) - BASE_AGE).timestamp())
    script_args = [work.carrier, run_tag, str(work.config.batch), str(work.config.vehicles), str(base_epoch)]
    result = run_wrk(work.wrk, work.config.bench, work.target, name, "/v1/positions", seconds, POST_SCRIPT, script_args)
    stored = re.search(r"^lua_stored: (\d+)", result.output, re.MULTILINE)
    sent = re.search(r"^lua_requests: (\d+)", result.output, re.MULTILINE)
    return Ingest(
        result=result,
        run_tag=run_tag,
        rows=count_rows(work.database_url, run_tag),
        stored_answered=int(stored[1]) if stored else 0,
        sent=int(sent[1]) if sent else 0,
    )


def smoke_test(work: Workload) -> None:
    """Post one small batch of two new fixes and check the answer and the table (not measured).

    Raises:
        RuntimeError: the answer is not 200 or the two rows are not in the table.
    """
    when = datetime.now(UTC) - timedelta(minutes=10)
    tag = f"粤S{secrets.token_hex(2)}"
    fixes = [
        {"plate": f"{tag}1", "time": (when + timedelta(seconds=30 * i)).isoformat(), "lat": 22.93, "lon": 113.21}
        for i in range(2)
    ]
    status, answer = http_json("POST", f"{work.target.base_url}/v1/positions", work.carrier, {"positions": fixes})
    rows = count_rows(work.database_url, tag)
    print(f"smoke test: POST /v1/positions of 2 new fixes answered {status} {answer}; {rows} rows stored", flush=True)
    if status != 200 or rows != 2:
        raise RuntimeError(f"POST /v1/positions answered {status}: {answer}, and {rows} of 2 rows are stored")
    if answer != {"received": 2, "stored": 2}:
        print("note: the answer's `stored` is not the number of new rows; the check below relies on the table")


def measure_round(work: Workload) -> Round:
    """One round: the trivial endpoint, then the positions."""
    duration = work.config.bench.duration
    trivial = run_wrk(work.wrk, work.config.bench, work.target, "GET /health/live", "/health/live", duration)
    return Round(trivial, ingest(work, f"POST positions ({work.config.batch})", duration))


# --- report -----------------------------------------------------------------------------------------


def count_problems(config: PositionsConfig, run: Ingest) -> list[str]:
    """What is wrong with a run's counts: every acknowledged fix must be a new row, and no more than sent."""
    acknowledged = (run.result.requests - run.result.failed) * config.batch
    problems = []
    if run.stored_answered != acknowledged:
        problems.append(f"answers said stored {run.stored_answered}, expected {acknowledged}")
    if not acknowledged <= run.rows <= run.sent * config.batch:
        problems.append(f"{run.rows} rows, expected {acknowledged} to {run.sent * config.batch}")
    return problems


def figures(config: PositionsConfig, result: Round) -> dict[str, float]:
    """The headline figures of a round and their ratios to the trivial endpoint."""
    trivial = result.trivial.per_second
    positions = result.positions.result.per_second * config.batch
    return {
        "trivial_req_per_s": trivial,
        "positions_per_s": positions,
        "positions_req_per_s": result.positions.result.per_second,
        "positions_per_trivial": positions / trivial,
        "req_per_trivial": result.positions.result.per_second / trivial,
    }


def print_round(config: PositionsConfig, result: Round) -> None:
    """Print a round's table, its figures, the count check and any failure."""
    run = result.positions
    print_table(config.bench, (result.trivial, run.result), name_width=24)
    f = figures(config, result)
    print(
        f"positions: {f['positions_per_s']:9.1f} positions/s = {f['positions_req_per_s']:.1f} req/s × "
        f"{config.batch} (p50 {run.result.p50_ms:.1f} ms, p99 {run.result.p99_ms:.1f} ms), "
        f"÷ trivial = {f['positions_per_trivial']:.2f} (req/s ÷ trivial = {f['req_per_trivial']:.4f})"
    )
    acknowledged = (run.result.requests - run.result.failed) * config.batch
    problems = count_problems(config, run)
    print(
        f"check: {run.rows} rows of run {run.run_tag} in vehicle_position; {run.result.requests} requests "
        f"answered × {config.batch} = {acknowledged}; answers said stored {run.stored_answered}; "
        f"{run.sent} requests sent ({run.sent - run.result.requests} in flight at the end) -> "
        + ("OK" if not problems else "WRONG: " + "; ".join(problems))
    )
    print_noise_and_failures((result.trivial, run.result))


def median_round(config: PositionsConfig, rounds: list[Round]) -> Round:
    """The round with the median positions/s."""
    ordered = sorted(rounds, key=lambda r: figures(config, r)["positions_per_s"])
    return ordered[len(ordered) // 2]


def summary(config: PositionsConfig, rounds: list[Round]) -> dict[str, Any]:
    """The median round's figures, and the range over the rounds."""
    chosen = median_round(config, rounds)
    values = [figures(config, r)["positions_per_s"] for r in rounds]
    trivial_values = [r.trivial.per_second for r in rounds]
    return {
        **figures(config, chosen),
        "positions_p50_ms": chosen.positions.result.p50_ms,
        "positions_p99_ms": chosen.positions.result.p99_ms,
        "trivial_p99_ms": chosen.trivial.p99_ms,
        "cpu": asdict(chosen.positions.result.cpu) if chosen.positions.result.cpu else None,
        "positions_per_s_range": [min(values), max(values)],
        "positions_per_s_median_of_rounds": statistics.median(values),
        "trivial_req_per_s_range": [min(trivial_values), max(trivial_values)],
        "aim_positions_per_s": AIM_POSITIONS_PER_S,
        "aim_met": figures(config, chosen)["positions_per_s"] >= AIM_POSITIONS_PER_S,
    }


def print_summary(config: PositionsConfig, s: dict[str, Any], rounds: int) -> None:
    """Print the median-round figures: what to report."""
    print()
    print(f"median of {rounds} round(s) (the round with the median positions/s):")
    print(
        f"  POST /v1/positions ({config.batch}/request)  {s['positions_per_s']:9.1f} positions/s "
        f"= {s['positions_req_per_s']:.1f} req/s  p50 {s['positions_p50_ms']:.1f} ms  "
        f"p99 {s['positions_p99_ms']:.1f} ms"
        f"  (range {s['positions_per_s_range'][0]:.0f}-{s['positions_per_s_range'][1]:.0f})"
    )
    print(
        f"  GET /health/live (same round)       {s['trivial_req_per_s']:9.1f} req/s  p99 {s['trivial_p99_ms']:.1f} ms"
        f"  (range {s['trivial_req_per_s_range'][0]:.0f}-{s['trivial_req_per_s_range'][1]:.0f})"
    )
    print(
        f"  ratio positions/s ÷ trivial req/s = {s['positions_per_trivial']:.2f}; "
        f"requests ÷ trivial = {s['req_per_trivial']:.4f}"
    )
    verdict = "met" if s["aim_met"] else "NOT met"
    print(f"  aim ≥ {AIM_POSITIONS_PER_S:,.0f} positions/s: {verdict}")


def write_result(config: PositionsConfig, rounds: list[Round], s: dict[str, Any], parts: dict[str, int]) -> str:
    """Write every round and the summary to ``bench/results/positions-<timestamp>.json``.

    Returns:
        The file's path relative to the repository.
    """
    stamp = timestamp()
    bench = {k: v for k, v in asdict(config.bench).items() if k != "postgres_url"}
    document: dict[str, Any] = {
        "timestamp": stamp,
        "machine": machine_info(),
        "config": {**bench, "batch": config.batch, "vehicles": config.vehicles},
        "median": s,
        "partitions": parts,
        "rounds": [
            {
                **asdict(r),
                "figures": figures(config, r),
                "count_problems": count_problems(config, r.positions),
            }
            for r in rounds
        ],
    }
    return str(write_json("positions", stamp, document).relative_to(REPO_ROOT))


# --- the run ----------------------------------------------------------------------------------------


def measure(work: Workload) -> int:
    """Warm up, run the rounds, check the counts and report.

    Returns:
        The exit status: 0, or 1 if any measured request failed or a count is wrong.
    """
    config = work.config
    smoke_test(work)
    if config.bench.warmup > 0:
        print(f"warm-up: {config.bench.warmup}s of positions", flush=True)
        warm = ingest(work, "warm-up", config.bench.warmup)
        check(warm.result)
        print(f"warm-up: {warm.result.per_second * config.batch:.0f} positions/s, {warm.rows} rows stored", flush=True)
    rounds: list[Round] = []
    for index in range(1, config.bench.rounds + 1):
        print(
            f"round {index}/{config.bench.rounds}: GET /health/live, POST /v1/positions, {config.bench.duration}s each",
            flush=True,
        )
        rounds.append(measure_round(work))
        print_round(config, rounds[-1])
    s = summary(config, rounds)
    print_summary(config, s, len(rounds))
    parts = partitions(work.database_url)
    print("partitions of vehicle_position (rows): " + ", ".join(f"{k} ({v})" for k, v in parts.items()))
    print(f"result: {write_result(config, rounds, s, parts)}")
    failed = any(r.trivial.failed or r.positions.result.failed for r in rounds)
    wrong = any(count_problems(config, r.positions) for r in rounds)
    return 1 if failed or wrong else 0


def run(config: PositionsConfig) -> int:
    """Set everything up, measure, and tear everything down.

    Args:
        config: What to run.

    Returns:
        The exit status.
    """
    wrk = ensure_wrk()
    with benchmark_database(config.bench.postgres_url) as database, scratch_directory() as scratch:
        carrier = create_org(database.url, name=CARRIER["name"], role="carrier", uscc=CARRIER["uscc"])
        with running_server(config.bench, database, scratch) as target:
            started = time.monotonic()
            work = Workload(config=config, wrk=wrk, target=target, database_url=database.url, carrier=carrier)
            status = measure(work)
            print(f"measured in {time.monotonic() - started:.0f}s")
            return status


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    return run_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
