"""HTTP load benchmark: issue waybills against ``freight serve`` on PostgreSQL with wrk.

Run from the repository root::

    uv run python bench/waybills.py [--duration S] [--connections N] [--workers W] [--threads T]

The driver creates a throw-away PostgreSQL database and a shipper organisation, starts the server,
warms it up, then measures with wrk (Debian's, installed when missing) first the trivial JSON
endpoint ``GET /health/live`` and then ``POST /v1/waybills`` (``bench/create_waybill.lua``). It
prints a table, writes ``bench/results/waybills-<timestamp>.json``, and exits non-zero if any
request failed. The server is stopped and the database dropped whatever happens.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

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

LUA_SCRIPT = BENCH_DIR / "create_waybill.lua"
REFERENCE_PLACEHOLDER = "@SHIPPER_REFERENCE@"
SHIPPER_USCC = "91440606MA4W8K2L7M"
AIM_WAYBILLS_PER_S = 1000.0
AIM_P99_MS = 100.0


def parse_args(argv: list[str] | None = None) -> BenchConfig:
    """Read the command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The benchmark configuration.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, duration=15)
    return common_config(parser, parser.parse_args(argv))


def create_shipper(database_url: str) -> str:
    """Create the shipper organisation (which also migrates the database).

    Args:
        database_url: URL of the benchmark database.

    Returns:
        The organisation's API key.
    """
    return create_org(database_url, name="佛山顺德华美电器有限公司", role="shipper", uscc=SHIPPER_USCC)


def write_body(directory: Path) -> Path:
    """Write the request body of ``CREATE_WAYBILL_EXAMPLE`` with a placeholder for the reference.

    Args:
        directory: Where to put ``body.json``.

    Returns:
        The file's path.
    """
    body = {**CREATE_WAYBILL_EXAMPLE, "shipper_reference": REFERENCE_PLACEHOLDER}
    path = directory / "body.json"
    path.write_text(json.dumps(body, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


# --- report -----------------------------------------------------------------------------------------


def print_report(config: BenchConfig, trivial: WrkResult, waybills: WrkResult) -> None:
    """Print the compact results table."""
    print_table(config, (trivial, waybills))
    print(f"waybills/s ÷ trivial req/s = {waybills.per_second / trivial.per_second:.3f}")
    aim = waybills.per_second >= AIM_WAYBILLS_PER_S and waybills.p99_ms < AIM_P99_MS
    print(f"aim ≥ {AIM_WAYBILLS_PER_S:.0f} waybills/s with p99 < {AIM_P99_MS:.0f} ms: {'met' if aim else 'not met'}")
    print_noise_and_failures((trivial, waybills))


def write_result(config: BenchConfig, trivial: WrkResult, waybills: WrkResult) -> Path:
    """Write the run as JSON to ``bench/results/waybills-<timestamp>.json``.

    Returns:
        The file's path.
    """
    stamp = timestamp()
    document: dict[str, Any] = {
        "timestamp": stamp,
        "machine": machine_info(),
        "config": {k: v for k, v in asdict(config).items() if k != "postgres_url"},
        "trivial": asdict(trivial),
        "waybills": asdict(waybills),
        "waybills_per_trivial": waybills.per_second / trivial.per_second,
        "aim": {"waybills_per_s": AIM_WAYBILLS_PER_S, "p99_ms": AIM_P99_MS},
    }
    return write_json("waybills", stamp, document)


# --- the run ----------------------------------------------------------------------------------------


def measure(config: BenchConfig, wrk: str, target: Target, body: Path, key: str) -> int:
    """Warm up, then measure the trivial endpoint and waybill issuing; report both.

    Args:
        config: Load shape.
        wrk: Path of the wrk executable.
        target: The server under load.
        body: The request body file with the reference placeholder.
        key: The shipper's API key.

    Returns:
        The exit status: 0, or 1 if any measured request failed.
    """
    run_tag = secrets.token_hex(3)
    print(f"warm-up: {config.warmup}s of waybills", flush=True)
    warmup = run_wrk(
        wrk, config, target, "warm-up", "/v1/waybills", config.warmup, LUA_SCRIPT, [str(body), key, f"w{run_tag}"]
    )
    check(warmup)
    rounds: list[tuple[WrkResult, WrkResult]] = []
    for index in range(1, config.rounds + 1):
        print(
            f"round {index}/{config.rounds}: GET /health/live, then POST /v1/waybills, {config.duration}s each",
            flush=True,
        )
        trivial = run_wrk(wrk, config, target, "GET /health/live", "/health/live", config.duration)
        waybills = run_wrk(
            wrk,
            config,
            target,
            "POST /v1/waybills",
            "/v1/waybills",
            config.duration,
            LUA_SCRIPT,
            [str(body), key, f"m{run_tag}r{index}"],
        )
        print_report(config, trivial, waybills)
        print(f"result: {write_result(config, trivial, waybills).relative_to(REPO_ROOT)}")
        rounds.append((trivial, waybills))
    if len(rounds) > 1:
        print_median(rounds)
    return 1 if any(trivial.failed or waybills.failed for trivial, waybills in rounds) else 0


def print_median(rounds: list[tuple[WrkResult, WrkResult]]) -> None:
    """Print the round with the median waybill throughput: the figure to report on a noisy machine."""
    ordered = sorted(rounds, key=lambda pair: pair[1].per_second)
    trivial, waybills = ordered[len(ordered) // 2]
    print()
    print(
        f"median of {len(rounds)} rounds: {waybills.per_second:.0f} waybills/s (p50 {waybills.p50_ms:.1f} ms, "
        f"p99 {waybills.p99_ms:.1f} ms) beside {trivial.per_second:.0f} req/s for GET /health/live, "
        f"ratio {waybills.per_second / trivial.per_second:.3f}; waybills/s range "
        f"{ordered[0][1].per_second:.0f}-{ordered[-1][1].per_second:.0f}"
    )


def run(config: BenchConfig) -> int:
    """Set everything up, measure, and tear everything down.

    Args:
        config: What to run.

    Returns:
        The exit status.
    """
    wrk = ensure_wrk()
    with benchmark_database(config.postgres_url) as database, scratch_directory() as scratch:
        key = create_shipper(database.url)
        body = write_body(scratch)
        with running_server(config, database, scratch) as target:
            return measure(config, wrk, target, body, key)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    return run_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
