"""`freight dispatch solve --format lilim` prints a checked plan in the SINTEF convention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dispatch.solver.check import find_violations
from dispatch.solver.lilim import read_lilim
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
            "3",
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
