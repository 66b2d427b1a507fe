"""`freight dispatch solve --format lilim` prints a checked plan in the SINTEF convention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec

from dispatch.solver.check import find_violations
from dispatch.solver.generator import generate_day
from dispatch.solver.lilim import read_lilim
from dispatch.solver.matrix import great_circle_matrix
from dispatch.solver.plan_check import find_plan_violations
from dispatch.solver.problem import Plan
from tests.dispatch.conftest import lilim_path

ROOT = Path(__file__).resolve().parents[2]


def test_solve_prints_vehicles_distance_and_routes_with_the_instances_node_numbers() -> None:
    path = lilim_path("lc101")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "dispatch",
            "solve",
            "--format",
            "lilim",
            str(path),
            "--time-limit",
            "8",  # lc101 is solved in under a second alone; the margin is for a machine busy with other work
            "--json",
        ],
        cwd=ROOT,
        env={**os.environ, "FREIGHT_LOG_JSON": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    instance = read_lilim(path)
    assert plan["vehicles"] == len(plan["routes"]) == 10
    assert sorted(node for route in plan["routes"] for node in route) == list(range(1, len(instance.nodes)))
    assert find_violations(instance, plan["routes"]) == []
    assert abs(plan["distance"] - 828.94) < 0.01


def test_a_broken_file_is_refused_with_a_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.txt"
    broken.write_text("25\t200\t1\n0\t40\t50\n")
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "dispatch", "solve", str(broken), "--time-limit", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "broken.txt" in result.stderr


def _solve(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "dispatch", "solve", *arguments],
        cwd=ROOT,
        env={**os.environ, "FREIGHT_LOG_JSON": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_drop_and_hook_problem_prints_a_checked_plan_as_json(tmp_path: Path) -> None:
    problem = generate_day(tractors=6, moves=20, seed=3)
    path = tmp_path / "day.json"
    path.write_bytes(msgspec.json.encode(problem))
    result = _solve(str(path), "--time-limit", "3", "--json")
    assert result.returncode == 0, result.stderr
    plan = msgspec.json.decode(result.stdout.encode(), type=Plan)
    assert find_plan_violations(problem, plan, great_circle_matrix(problem.places, problem.matrix)) == []
    assert plan.summary.moves_planned + plan.summary.moves_unassigned == len(problem.moves)


def test_a_drop_and_hook_plan_is_printed_per_tractor_with_times_and_reasons(tmp_path: Path) -> None:
    problem = generate_day(tractors=4, moves=16, seed=5)
    path = tmp_path / "day.json"
    path.write_bytes(msgspec.json.encode(problem))
    result = _solve(str(path), "--time-limit", "2")
    assert result.returncode == 0, result.stderr
    assert "tractors," in result.stdout.splitlines()[0]
    assert "Tractor " in result.stdout
    assert " arrive " in result.stdout
    assert " depart " in result.stdout


def test_a_problem_file_that_is_not_a_problem_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "day.json"
    path.write_text('{"start": "2026-11-23T06:00:00+08:00", "places": "nowhere"}')
    result = _solve(str(path), "--time-limit", "1")
    assert result.returncode != 0
    assert "day.json" in result.stderr
