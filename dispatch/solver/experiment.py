"""Run the PDPTW solver on Li & Lim instances and print a Markdown table against the best-known solutions.

Usage::

    uv run python -m dispatch.solver.experiment --time-limit 10 --config phased --jobs 2 lc101 'lr1??' 'lrc1??'

Instance arguments are file-name globs in the data directory (without ``.txt``). Every solution is
checked with :mod:`dispatch.solver.check`; a row with violations says so.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from dispatch.solver.check import find_violations
from dispatch.solver.lilim import read_lilim
from dispatch.solver.pdptw import PdptwSearch, solve_pdptw

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "routing" / "lilim"

CONFIGS: dict[str, PdptwSearch] = {
    "phased": PdptwSearch(),
    "phased-lci": PdptwSearch(first_solution="LOCAL_CHEAPEST_INSERTION"),
    "plain-pci": PdptwSearch(first_solution="PARALLEL_CHEAPEST_INSERTION", minimise_vehicles=False),
    "plain-pca": PdptwSearch(first_solution="PATH_CHEAPEST_ARC", minimise_vehicles=False),
    "phased-short": PdptwSearch(attempt_share=0.2),
    "phased-two": PdptwSearch(routes_removed=2),
    "phased-ils": PdptwSearch(iterated_local_search=True),
    "portfolio": PdptwSearch(),
    "portfolio-ils": PdptwSearch(iterated_local_search=True),
}
WORKERS: dict[str, int] = {"portfolio": 2, "portfolio-ils": 2}
"""Processes one run uses (``solve_pdptw(workers=...)``); 1 when not listed. Measure these with ``--jobs 1``."""


class Row(msgspec.Struct, kw_only=True, frozen=True):
    """One measured run."""

    instance: str
    config: str
    vehicles: int
    distance: float
    unserved: int
    violations: int
    cpu_s: float
    wall_s: float


def run_one(path: Path, config: str, time_limit_s: float, seed: int) -> Row:
    """Solve one instance with one configuration and check the result."""
    instance = read_lilim(path)
    cpu_start, wall_start = _cpu_time(), time.monotonic()
    solution = solve_pdptw(
        instance, time_limit_s=time_limit_s, seed=seed, search=CONFIGS[config], workers=WORKERS.get(config, 1)
    )
    cpu_s, wall_s = _cpu_time() - cpu_start, time.monotonic() - wall_start
    violations = find_violations(instance, solution.routes) if not solution.unserved else []
    return Row(
        instance=instance.name,
        config=config,
        vehicles=solution.vehicles,
        distance=solution.distance,
        unserved=len(solution.unserved),
        violations=len(violations),
        cpu_s=cpu_s,
        wall_s=wall_s,
    )


def _cpu_time() -> float:
    """CPU seconds of this process and its finished worker processes (a portfolio run's workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def read_best_known(data_dir: Path) -> dict[str, tuple[int, float]]:
    """``instance -> (vehicles, distance)`` from ``bks.csv``."""
    with (data_dir / "bks.csv").open(encoding="utf-8") as handle:
        return {row["instance"]: (int(row["vehicles"]), float(row["distance"])) for row in csv.DictReader(handle)}


def format_table(rows: list[Row], best_known: dict[str, tuple[int, float]]) -> str:
    """A Markdown table with gaps to the best-known solutions and a summary line per configuration."""
    lines = [
        "| instance | config | veh | distance | BKS veh | BKS distance | veh gap | dist gap % | unserved | check "
        "| CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for row in rows:
        bks_vehicles, bks_distance = best_known.get(row.instance, (0, 0.0))
        gap = 100 * (row.distance - bks_distance) / bks_distance if bks_distance else 0.0
        check = "ok" if row.violations == 0 and row.unserved == 0 else f"{row.violations} violations"
        lines.append(
            f"| {row.instance} | {row.config} | {row.vehicles} | {row.distance:.2f} | {bks_vehicles} | "
            f"{bks_distance:.2f} | {row.vehicles - bks_vehicles:+d} | {gap:.1f} | {row.unserved} | {check} | "
            f"{row.cpu_s:.1f} |"
        )
    for config in dict.fromkeys(row.config for row in rows):
        mine = [row for row in rows if row.config == config]
        at_bks = sum(row.vehicles <= best_known[row.instance][0] and row.unserved == 0 for row in mine)
        extra = sum(row.vehicles - best_known[row.instance][0] for row in mine)
        lines.append(f"\n{config}: {at_bks}/{len(mine)} at best-known vehicles, {extra:+d} vehicles in total")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="+", help="instance name globs, e.g. 'lc1??' lr101")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per run")
    parser.add_argument("--config", action="append", choices=sorted(CONFIGS), help="repeatable; default: phased")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs in parallel (one per core)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    paths = sorted({path for pattern in args.patterns for path in args.data_dir.glob(f"{pattern}.txt")})
    configs = args.config or ["phased"]
    jobs = [(path, config) for config in configs for path in paths]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, path, config, args.time_limit, args.seed) for path, config in jobs]
        rows = [future.result() for future in futures]
    print(format_table(rows, read_best_known(args.data_dir)))


if __name__ == "__main__":
    main()
