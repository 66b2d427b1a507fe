"""Solve Li & Lim PDPTW instances with ``solve_pdptw`` and compare with the best-known solutions.

Usage::

    uv run python -m bench.dispatch.lilim --time-limit 30 --workers 1            # all 56 100-task instances
    uv run python -m bench.dispatch.lilim --time-limit 2 lc101 lr101 'lrc2??'
    uv run python -m bench.dispatch.lilim --time-limit 60 LR1_2_1 'lc1_2_*' --json

Instance arguments are file-name globs in the data directory, case-insensitive (``LR1_2_1`` is
``lr1_2_1.txt``); without any, the 56 instances of 100 tasks. Every solution is checked with
:func:`dispatch.solver.check.find_violations`. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from bench.dispatch import cpu_seconds
from dispatch.solver.check import find_violations
from dispatch.solver.experiment import DEFAULT_DATA_DIR, read_best_known
from dispatch.solver.lilim import PdptwInstance, read_lilim
from dispatch.solver.pdptw import solve_pdptw

__all__ = ("HUNDRED_TASKS", "InstanceResult", "Totals", "format_markdown", "main", "solve_instance", "totals")

HUNDRED_TASKS = ("lc1??", "lc2??", "lr1??", "lr2??", "lrc1??", "lrc2??")
"""Globs of the 56 instances with 100 tasks (lc101 ... lrc208)."""


class InstanceResult(msgspec.Struct, kw_only=True, frozen=True):
    """One instance solved and checked, next to its best-known solution."""

    instance: str
    vehicles: int
    distance: float
    bks_vehicles: int | None
    bks_distance: float | None
    unserved: int
    violations: int
    cpu_s: float
    wall_s: float

    @property
    def feasible(self) -> bool:
        """Every request served and the checker found nothing."""
        return self.unserved == 0 and self.violations == 0

    @property
    def vehicle_gap(self) -> int | None:
        """Vehicles above the best-known solution (negative: fewer)."""
        return None if self.bks_vehicles is None else self.vehicles - self.bks_vehicles

    @property
    def distance_gap_pct(self) -> float | None:
        """Distance above the best-known one, in %; only meaningful at the best-known vehicle count."""
        if self.bks_distance is None or not self.bks_distance or self.vehicle_gap != 0:
            return None
        return 100 * (self.distance - self.bks_distance) / self.bks_distance


class Totals(msgspec.Struct, kw_only=True, frozen=True):
    """The figures over the instances solved; vehicle and distance figures over the feasible ones only.

    A solution that leaves requests unserved may use fewer vehicles than the best-known one, so
    counting it would flatter the total.
    """

    instances: int
    feasible: int
    vehicles: int
    bks_vehicles: int
    vehicles_ratio: float
    vehicles_above_pct: float
    at_bks_vehicles: int
    mean_distance_gap_pct_at_bks_vehicles: float | None
    cpu_s: float


def solve_instance(path: Path, *, time_limit_s: float, seed: int, workers: int) -> InstanceResult:
    """Solve and check one instance (in this process, with ``workers`` portfolio processes)."""
    instance = read_lilim(path)
    best_known = read_best_known(path.parent).get(instance.name)
    cpu_start, wall_start = cpu_seconds(), time.monotonic()
    solution = solve_pdptw(instance, time_limit_s=time_limit_s, seed=seed, workers=workers)
    cpu_s, wall_s = cpu_seconds() - cpu_start, time.monotonic() - wall_start
    return InstanceResult(
        instance=instance.name,
        vehicles=solution.vehicles,
        distance=solution.distance,
        bks_vehicles=best_known[0] if best_known else None,
        bks_distance=best_known[1] if best_known else None,
        unserved=len(solution.unserved),
        violations=len(_violations_besides_unserved(instance, solution.routes)),
        cpu_s=cpu_s,
        wall_s=wall_s,
    )


def _violations_besides_unserved(instance: PdptwInstance, routes: tuple[tuple[int, ...], ...]) -> list[str]:
    """The checker's findings, less the "visited 0 times" of requests left unserved (counted apart)."""
    return [text for text in find_violations(instance, routes) if not text.endswith("visited 0 times, not once")]


def totals(results: list[InstanceResult]) -> Totals:
    """Vehicles against the best-known total, the distance gap where the vehicle count is best-known."""
    known = [result for result in results if result.bks_vehicles is not None and result.feasible]
    vehicles = sum(result.vehicles for result in known)
    bks_vehicles = sum(result.bks_vehicles or 0 for result in known)
    gaps = [gap for result in known if (gap := result.distance_gap_pct) is not None]
    return Totals(
        instances=len(results),
        feasible=sum(result.feasible for result in results),
        vehicles=vehicles,
        bks_vehicles=bks_vehicles,
        vehicles_ratio=vehicles / bks_vehicles if bks_vehicles else 0.0,
        vehicles_above_pct=100 * (vehicles - bks_vehicles) / bks_vehicles if bks_vehicles else 0.0,
        at_bks_vehicles=sum(result.vehicle_gap == 0 for result in known),
        mean_distance_gap_pct_at_bks_vehicles=sum(gaps) / len(gaps) if gaps else None,
        cpu_s=sum(result.cpu_s for result in results),
    )


def format_markdown(results: list[InstanceResult], summary: Totals) -> str:
    """A Markdown table, one row per instance, and the totals below it."""
    lines = [
        "| instance | veh | distance | BKS veh | BKS distance | veh gap | dist gap % | CPU s | wall s | check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        gap = result.vehicle_gap
        distance_gap = result.distance_gap_pct
        lines.append(
            f"| {result.instance} | {result.vehicles} | {result.distance:.2f} | {_or_dash(result.bks_vehicles)} | "
            f"{_or_dash(result.bks_distance, '.2f')} | {_or_dash(gap, '+d')} | {_or_dash(distance_gap, '.2f')} | "
            f"{result.cpu_s:.1f} | {result.wall_s:.1f} | {_check(result)} |"
        )
    mean_gap = summary.mean_distance_gap_pct_at_bks_vehicles
    lines += [
        "",
        f"- feasible (all served, checker clean): {summary.feasible}/{summary.instances}",
        f"- vehicles on the feasible instances: {summary.vehicles} vs best-known {summary.bks_vehicles} "
        f"(ratio {summary.vehicles_ratio:.3f}, {summary.vehicles_above_pct:+.1f} %)",
        f"- at best-known vehicle count: {summary.at_bks_vehicles}/{summary.instances}; mean distance gap there: "
        + ("n/a" if mean_gap is None else f"{mean_gap:+.2f} %"),
        f"- CPU: {summary.cpu_s:.1f} s in total",
    ]
    return "\n".join(lines)


def _or_dash(value: float | None, spec: str = "") -> str:
    return "—" if value is None else format(value, spec)


def _check(result: InstanceResult) -> str:
    if result.feasible:
        return "ok"
    parts = [f"{result.violations} violations"] if result.violations else []
    parts += [f"{result.unserved} unserved"] if result.unserved else []
    return ", ".join(parts)


def instance_paths(patterns: list[str], data_dir: Path) -> list[Path]:
    """The instance files matching the globs (lower-cased), sorted by name."""
    found = {path for pattern in patterns for path in data_dir.glob(f"{pattern.lower().removesuffix('.txt')}.txt")}
    return sorted(found, key=lambda path: path.stem)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("patterns", nargs="*", help="instance globs, e.g. lc101 'lr1??' LR1_2_1 (default: 56 x 100)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance (default 30)")
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1, help="solve_pdptw portfolio processes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="instances solved at once (default 1, cleanest timing)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    return parser


def main() -> None:
    args = _parser().parse_args()
    paths = instance_paths(args.patterns or list(HUNDRED_TASKS), args.data_dir)
    if not paths:
        raise SystemExit(f"no instance in {args.data_dir} matches {args.patterns or HUNDRED_TASKS}")
    options = {"time_limit_s": args.time_limit, "seed": args.seed, "workers": args.workers}
    if args.jobs <= 1:
        results = [solve_instance(path, **options) for path in paths]
    else:
        with ProcessPoolExecutor(max_workers=min(args.jobs, os.cpu_count() or 1)) as pool:
            results = list(pool.map(_solve_with, [(path, options) for path in paths]))
    summary = totals(results)
    if args.json:
        print(msgspec.json.encode({"results": results, "totals": summary}).decode())
    else:
        print(format_markdown(results, summary))


def _solve_with(job: tuple[Path, dict[str, float]]) -> InstanceResult:
    path, options = job
    return solve_instance(
        path, time_limit_s=options["time_limit_s"], seed=int(options["seed"]), workers=int(options["workers"])
    )


if __name__ == "__main__":
    main()
