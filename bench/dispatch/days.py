"""Plan generated Pearl River Delta days with the greedy dispatcher and the OR-Tools planner; compare them.

Usage::

    uv run python -m bench.dispatch.days                                  # 50x200, 150x600, 300x1000
    uv run python -m bench.dispatch.days --sizes 50x200 --time-limit 20
    uv run python -m bench.dispatch.days --large --time-limit 120 --json  # adds 300x2000

Each size ``TxM`` is a day of ``T`` tractors and ``M`` moves from
:func:`dispatch.solver.generator.generate_day` (``--seed``). Both plans are checked with
:func:`dispatch.solver.plan_check.find_plan_violations`. The aim of the OR-Tools planner is at least
25 % less deadhead than the greedy plan with no more late moves; the figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from typing import Any

import msgspec

from bench.dispatch import cpu_seconds
from dispatch.solver.generator import generate_day
from dispatch.solver.greedy import plan_greedy
from dispatch.solver.matrix import TravelMatrix, great_circle_matrix
from dispatch.solver.plan_check import find_plan_violations, late_moves
from dispatch.solver.problem import Plan, Problem

__all__ = ("DEFAULT_SIZES", "DayResult", "PlannerResult", "format_markdown", "main", "parse_sizes", "plan_day")

DEFAULT_SIZES = ((50, 200), (150, 600), (300, 1000))
LARGE_SIZE = (300, 2000)
DEADHEAD_AIM_PCT = 25.0
"""The OR-Tools plan should have at least this much less deadhead than the greedy one."""

Planner = Callable[[Problem, TravelMatrix], Plan]


class PlannerResult(msgspec.Struct, kw_only=True, frozen=True):
    """One planner's figures on one day."""

    planner: str
    tractors_used: int
    deadhead_km: float
    km: float
    late_moves: int
    unassigned: int
    violations: int
    wall_s: float
    cpu_s: float
    first_violations: tuple[str, ...] = ()


class DayResult(msgspec.Struct, kw_only=True, frozen=True):
    """The greedy plan and, when the planner is there, the OR-Tools plan of one generated day."""

    tractors: int
    moves: int
    seed: int
    greedy: PlannerResult
    solver: PlannerResult | None = None

    @property
    def name(self) -> str:
        return f"{self.tractors}x{self.moves}"

    @property
    def deadhead_change_pct(self) -> float | None:
        """The solver's deadhead relative to greedy's, in % (negative: less)."""
        if self.solver is None or not self.greedy.deadhead_km:
            return None
        return 100 * (self.solver.deadhead_km - self.greedy.deadhead_km) / self.greedy.deadhead_km


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"50x200,300x1000"`` → ``[(50, 200), (300, 1000)]``."""
    sizes = []
    for part in text.split(","):
        tractors, _, moves = part.strip().lower().partition("x")
        if not (tractors.isdigit() and moves.isdigit()):
            raise argparse.ArgumentTypeError(f"a size is TRACTORSxMOVES, like 50x200, not {part!r}")
        sizes.append((int(tractors), int(moves)))
    return sizes


def measure(name: str, planner: Planner, problem: Problem, matrix: TravelMatrix) -> PlannerResult:
    """Run one planner, time it (wall and CPU), check its plan and read its figures."""
    cpu_start, wall_start = cpu_seconds(), time.monotonic()
    plan = planner(problem, matrix)
    cpu_s, wall_s = cpu_seconds() - cpu_start, time.monotonic() - wall_start
    violations = find_plan_violations(problem, plan, matrix)
    return PlannerResult(
        planner=name,
        tractors_used=len([run for run in plan.runs if run.moves]),
        deadhead_km=sum(run.deadhead_km for run in plan.runs),
        km=sum(run.km for run in plan.runs),
        late_moves=len(late_moves(problem, plan)),
        unassigned=len(plan.unassigned),
        violations=len(violations),
        wall_s=wall_s,
        cpu_s=cpu_s,
        first_violations=tuple(violations[:3]),
    )


def load_solver(time_limit_s: float, seed: int) -> Planner | None:
    """The OR-Tools planner as a ``Planner``, or None when ``dispatch.solver.dropandhook`` is missing."""
    try:
        module: Any = importlib.import_module("dispatch.solver.dropandhook")
    except ModuleNotFoundError as error:
        if error.name != "dispatch.solver.dropandhook":
            raise
        return None

    def solve(problem: Problem, matrix: TravelMatrix) -> Plan:
        # The search's own plan, not the greedy plan the solver returns when the search ends behind it.
        settings = module.SolverSettings(keep_greedy_if_better=False)
        plan: Plan = module.solve(
            problem, time_limit_s=time_limit_s, seed=seed, initial=None, matrix=matrix, settings=settings
        )
        return plan

    return solve


def plan_day(tractors: int, moves: int, *, seed: int, solver: Planner | None) -> DayResult:
    """Generate one day and plan it with greedy and, if given, the solver."""
    problem = generate_day(tractors=tractors, moves=moves, seed=seed)
    matrix = great_circle_matrix(problem.places, problem.matrix)
    greedy = measure("greedy", plan_greedy, problem, matrix)
    planned = measure("or-tools", solver, problem, matrix) if solver is not None else None
    return DayResult(tractors=tractors, moves=moves, seed=seed, greedy=greedy, solver=planned)


def format_markdown(days: list[DayResult], *, time_limit_s: float, solver_missing: bool) -> str:
    """One row per day and planner, then the comparison line of each day."""
    lines = [
        "| day | planner | tractors | deadhead km | km | late | unassigned | check | wall s | CPU s |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for day in days:
        for result in (day.greedy, day.solver):
            if result is not None:
                check = "ok" if result.violations == 0 else f"{result.violations} violations"
                lines.append(
                    f"| {day.name} | {result.planner} | {result.tractors_used} | {result.deadhead_km:.0f} | "
                    f"{result.km:.0f} | {result.late_moves} | {result.unassigned} | {check} | "
                    f"{result.wall_s:.1f} | {result.cpu_s:.1f} |"
                )
    lines.append("")
    if solver_missing:
        lines.append("Note: dispatch.solver.dropandhook is missing; greedy figures only.")
    for day in days:
        lines += [f"- {line}" for line in _comparison(day, time_limit_s=time_limit_s)]
        lines += [
            f"  - {day.name} {r.planner}: {text}" for r in (day.greedy, day.solver) if r for text in r.first_violations
        ]
    return "\n".join(lines)


def _comparison(day: DayResult, *, time_limit_s: float) -> list[str]:
    change = day.deadhead_change_pct
    if day.solver is None or change is None:
        return []
    ratio = day.solver.deadhead_km / day.greedy.deadhead_km
    more_late = day.solver.late_moves - day.greedy.late_moves
    more_unassigned = day.solver.unassigned - day.greedy.unassigned
    # Less deadhead only counts when the solver plans at least as many moves (leaving moves out is no saving).
    aim = "met" if -change >= DEADHEAD_AIM_PCT and more_late <= 0 and more_unassigned <= 0 else "not met"
    sign = "−" if change < 0 else "+"
    return [
        f"{day.name} (seed {day.seed}, {time_limit_s:g} s): deadhead {sign}{abs(change):.1f} % vs greedy "
        f"(ratio solver/greedy {ratio:.3f}), late moves {day.solver.late_moves} vs {day.greedy.late_moves}, "
        f"unassigned {day.solver.unassigned} vs {day.greedy.unassigned}, tractors {day.solver.tractors_used} vs "
        f"{day.greedy.tractors_used}; aim (≥ {DEADHEAD_AIM_PCT:g} % less deadhead, no more late and no more "
        f"unassigned moves) {aim}"
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes", type=parse_sizes, help="comma-separated TRACTORSxMOVES (default 50x200,150x600,300x1000)"
    )
    parser.add_argument("--large", action="store_true", help="add the 300x2000 day")
    parser.add_argument("--time-limit", type=float, default=60.0, help="OR-Tools seconds per day (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="generator and solver seed")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    return parser


def main() -> None:
    args = _parser().parse_args()
    sizes = list(args.sizes or DEFAULT_SIZES) + ([LARGE_SIZE] if args.large else [])
    solver = load_solver(args.time_limit, args.seed)
    days = [plan_day(tractors, moves, seed=args.seed, solver=solver) for tractors, moves in sizes]
    if args.json:
        print(msgspec.json.encode({"time_limit_s": args.time_limit, "days": days}).decode())
    else:
        print(format_markdown(days, time_limit_s=args.time_limit, solver_missing=solver is None))


if __name__ == "__main__":
    main()
