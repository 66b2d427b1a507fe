"""The PDPTW solver and its independent feasibility checker, on Li & Lim instances."""

from __future__ import annotations

import pytest

from dispatch.solver.check import find_violations, total_distance
from dispatch.solver.lilim import PdptwInstance, parse_lilim
from dispatch.solver.pdptw import PdptwSearch, portfolio, solve_pdptw
from tests.dispatch.conftest import load_lilim

# Depot at the origin, open [0, 100]; request A: 1 -> 2, request B: 3 -> 4, capacity 15.
TWO_REQUESTS = """\
2\t15\t1
0\t0\t0\t0\t0\t100\t0\t0\t0
1\t10\t0\t10\t0\t100\t0\t0\t2
2\t20\t0\t-10\t0\t100\t0\t1\t0
3\t10\t10\t10\t0\t100\t0\t0\t4
4\t20\t10\t-10\t0\t100\t0\t3\t0
"""


@pytest.fixture
def two_requests() -> PdptwInstance:
    return parse_lilim(TWO_REQUESTS, name="two-requests")


def test_checker_accepts_one_route_per_request(two_requests: PdptwInstance) -> None:
    assert find_violations(two_requests, [[1, 2], [3, 4]]) == []
    assert total_distance(two_requests, [[1, 2], [3, 4]]) == pytest.approx(40 + 200**0.5 + 10 + 500**0.5)


def test_checker_rejects_a_delivery_before_its_pickup(two_requests: PdptwInstance) -> None:
    assert any("before its pickup" in problem for problem in find_violations(two_requests, [[2, 1], [3, 4]]))


def test_checker_rejects_a_pickup_delivered_on_another_route(two_requests: PdptwInstance) -> None:
    violations = find_violations(two_requests, [[1, 4], [3, 2]])
    assert any("on another route" in problem for problem in violations)


def test_checker_rejects_a_load_above_capacity(two_requests: PdptwInstance) -> None:
    violations = find_violations(two_requests, [[1, 3, 2, 4]])
    assert any("exceeds capacity 15" in problem for problem in violations)


def test_checker_rejects_a_missing_request(two_requests: PdptwInstance) -> None:
    violations = find_violations(two_requests, [[1, 2]])
    assert "node 3 is visited 0 times, not once" in violations


def test_checker_rejects_a_late_arrival(two_requests: PdptwInstance) -> None:
    tight = parse_lilim(TWO_REQUESTS.replace("2\t20\t0\t-10\t0\t100", "2\t20\t0\t-10\t0\t15"), name="tight")
    assert find_violations(tight, [[1, 2], [3, 4]]) == ["route 1: arrives at node 2 at 20.00, after its due time 15"]


def test_checker_rejects_a_route_back_after_the_depot_closes(two_requests: PdptwInstance) -> None:
    short_day = parse_lilim(TWO_REQUESTS.replace("0\t0\t0\t0\t0\t100", "0\t0\t0\t0\t0\t45", 1), name="short-day")
    violations = find_violations(short_day, [[1, 3, 4, 2]])
    assert any("back at the depot" in problem for problem in violations)


def test_checker_waits_for_a_window_to_open(two_requests: PdptwInstance) -> None:
    late_open = parse_lilim(TWO_REQUESTS.replace("1\t10\t0\t10\t0\t100", "1\t10\t0\t10\t60\t100"), name="late-open")
    assert find_violations(late_open, [[1, 2], [3, 4]]) == []


def test_solver_serves_both_requests_of_a_tiny_instance_with_one_vehicle(two_requests: PdptwInstance) -> None:
    solution = solve_pdptw(two_requests, time_limit_s=1)
    assert solution.vehicles == 1
    assert solution.unserved == ()
    assert find_violations(two_requests, solution.routes) == []
    assert solution.distance == pytest.approx(total_distance(two_requests, solution.routes))


def test_portfolio_varies_the_first_solution_and_the_seed() -> None:
    variants = portfolio(PdptwSearch(), seed=7, size=3)
    assert [seed for seed, _ in variants] == [7, 8, 9]
    assert [search.first_solution for _, search in variants] == [
        "PARALLEL_CHEAPEST_INSERTION",
        "LOCAL_CHEAPEST_INSERTION",
        "PARALLEL_CHEAPEST_INSERTION",
    ]


def test_solver_with_two_workers_returns_the_best_complete_plan(two_requests: PdptwInstance) -> None:
    solution = solve_pdptw(two_requests, time_limit_s=1, workers=2)
    assert solution.vehicles == 1
    assert solution.unserved == ()
    assert find_violations(two_requests, solution.routes) == []


@pytest.mark.parametrize(
    "search",
    [PdptwSearch(routes_removed=2), PdptwSearch(iterated_local_search=True), PdptwSearch(attempt_share=0.2)],
    ids=["two-routes-removed", "ruin-and-recreate", "short-attempts"],
)
def test_solver_variants_serve_both_requests_with_one_vehicle(two_requests: PdptwInstance, search: PdptwSearch) -> None:
    solution = solve_pdptw(two_requests, time_limit_s=1, search=search)
    assert solution.vehicles == 1
    assert solution.unserved == ()
    assert find_violations(two_requests, solution.routes) == []


def test_solver_reaches_the_best_known_fleet_on_lc101(lc101: PdptwInstance) -> None:
    solution = solve_pdptw(lc101, time_limit_s=5)
    assert find_violations(lc101, solution.routes) == []
    assert solution.vehicles == 10  # best known: 10 vehicles, 828.94
    assert solution.distance == pytest.approx(total_distance(lc101, solution.routes))


@pytest.mark.parametrize("name", ["lr101", "lrc101"])
def test_solver_finds_a_complete_feasible_plan_on_a_tight_window_instance(name: str) -> None:
    instance = load_lilim(name)
    solution = solve_pdptw(instance, time_limit_s=5)
    assert solution.unserved == ()
    assert find_violations(instance, solution.routes) == []
    assert solution.vehicles <= instance.vehicle_count
