"""The PDPTW core: Li & Lim instances solved with OR-Tools routing, fewest vehicles first, then distance.

The search runs in three phases within one time limit:

1. **Construction**: the full fleet, a cheap insertion first solution (by default
   ``PARALLEL_CHEAPEST_INSERTION``) and a short local search.
2. **Vehicle minimisation**: drop the route serving the fewest requests, restart the local search
   from the remaining routes with one vehicle fewer and the dropped requests unperformed, and stop
   that attempt as soon as every request is served again. Repeat while it succeeds.
3. **Distance**: the rest of the time on the best fleet size, from the best solution found.

Every request is optional in the model, with a penalty above any fleet cost, so that OR-Tools always
has a solution to improve (tight windows make a complete first solution hard to find) and a request
that cannot be served is reported in ``unserved`` rather than lost.

Travel time equals Euclidean distance (SINTEF convention). OR-Tools needs integers, so times and
distances are scaled by ``SCALE``; travel times are rounded *up*, so a plan feasible in the model
is feasible in double precision, and the reported distance is recomputed as a float.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Literal, NamedTuple

import msgspec
from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

from dispatch.solver.lilim import PdptwInstance

__all__ = ("SCALE", "PdptwSearch", "PdptwSolution", "solve_pdptw")

SCALE = 1000
"""Integer units per distance (and time) unit in the OR-Tools model."""

FirstSolution = Literal[
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "GLOBAL_CHEAPEST_ARC",
    "PATH_CHEAPEST_ARC",
    "SAVINGS",
    "AUTOMATIC",
]
Metaheuristic = Literal["GUIDED_LOCAL_SEARCH", "SIMULATED_ANNEALING", "TABU_SEARCH", "GREEDY_DESCENT"]


class PdptwSearch(msgspec.Struct, kw_only=True, frozen=True):
    """How the search spends its time; the defaults are what worked best in docs/solver-notes.md."""

    first_solution: FirstSolution = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: Metaheuristic = "GUIDED_LOCAL_SEARCH"
    minimise_vehicles: bool = True
    """Run phase 2 (remove a route, re-insert its requests with one vehicle fewer)."""
    construction_share: float = 0.15
    """Share of the time limit for phase 1 (construction and a first local search)."""
    attempt_share: float = 0.5
    """Share of the remaining time one vehicle-removal attempt may use."""
    polish_share: float = 0.15
    """Share of the time limit kept back for phase 3 (distance only)."""
    routes_removed: int = 1
    """Routes emptied per removal attempt; the attempt keeps ``routes_removed - 1`` empty vehicles."""
    iterated_local_search: bool = False
    """Use OR-Tools' iterated local search (ruin-and-recreate perturbations) around the metaheuristic."""


class PdptwSolution(msgspec.Struct, kw_only=True, frozen=True):
    """A solution: routes as instance node ids in visiting order, without the depot."""

    vehicles: int
    distance: float
    routes: tuple[tuple[int, ...], ...]
    unserved: tuple[int, ...] = ()
    """Pickup ids of the requests no route serves (empty in a complete solution)."""
    vehicle_history: tuple[tuple[float, int], ...] = ()
    """``(seconds since start, vehicles)`` each time a complete solution with fewer vehicles was found."""


Routes = list[list[int]]


class _Model(NamedTuple):
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    drop_penalty: int


class _Costs(NamedTuple):
    distance: list[list[int]]
    """Scaled, rounded distances: the arc costs."""
    travel: list[list[int]]
    """Scaled service time at the origin plus travel time rounded up: the time transits."""
    vehicle_fixed_cost: int
    drop_penalty: int


def solve_pdptw(
    instance: PdptwInstance,
    *,
    time_limit_s: float,
    seed: int = 0,
    search: PdptwSearch | None = None,
    workers: int = 1,
) -> PdptwSolution:
    """Solve a PDPTW instance: fewest vehicles, then shortest total distance.

    Args:
        instance: the problem.
        time_limit_s: wall-clock budget for the whole search.
        seed: seeds the OR-Tools solver's random generator (used by randomised neighbourhoods). The
            routing search is otherwise deterministic, but a wall-clock limit cuts it at a point that
            depends on the machine, so only runs that finish their phases early repeat exactly.
        search: search settings; ``PdptwSearch()`` when omitted.
        workers: independent searches run in parallel processes (a portfolio, see
            ``portfolio``); the best result wins. 1 searches in this process.

    Returns:
        The best solution found; requests that no route serves are listed in ``unserved``.
    """
    search = search or PdptwSearch()
    if workers <= 1:
        return _solve_one(instance, time_limit_s, seed, search)
    variants = portfolio(search, seed=seed, size=workers)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_solve_one, instance, time_limit_s, *variant) for variant in variants]
        solutions = [future.result() for future in futures]
    return min(solutions, key=lambda solution: (len(solution.unserved), solution.vehicles, solution.distance))


def portfolio(search: PdptwSearch, *, seed: int, size: int) -> list[tuple[int, PdptwSearch]]:
    """``(seed, search)`` per worker: ``search`` itself, then alternating first-solution strategies.

    OR-Tools' routing search is nearly deterministic, so different seeds alone rarely diverge; the
    other first solution (local instead of parallel cheapest insertion, or back) starts the
    workers from different plans.
    """
    other: FirstSolution = (
        "LOCAL_CHEAPEST_INSERTION"
        if search.first_solution != "LOCAL_CHEAPEST_INSERTION"
        else "PARALLEL_CHEAPEST_INSERTION"
    )
    alternative = msgspec.structs.replace(search, first_solution=other)
    return [(seed + worker, search if worker % 2 == 0 else alternative) for worker in range(size)]


def _solve_one(instance: PdptwInstance, time_limit_s: float, seed: int, search: PdptwSearch) -> PdptwSolution:
    started = time.monotonic()
    deadline = started + time_limit_s
    costs = _scaled_costs(instance)
    routes = _construct(instance, costs, search, seed=seed, time_limit_s=time_limit_s * search.construction_share)
    history = [(time.monotonic() - started, len(routes))] if not _unserved(instance, routes) else []
    if search.minimise_vehicles:
        polish_s = time_limit_s * search.polish_share
        routes = _minimise_vehicles(
            instance,
            costs,
            search,
            routes,
            seed=seed,
            deadline=deadline - polish_s,
            on_success=lambda count: history.append((time.monotonic() - started, count)),
        )
    remaining_s = deadline - time.monotonic()
    if remaining_s > 0.05:
        routes = _improve(instance, costs, search, routes, seed=seed, time_limit_s=remaining_s) or routes
    return _solution(instance, routes, history)


def _construct(
    instance: PdptwInstance, costs: _Costs, search: PdptwSearch, *, seed: int, time_limit_s: float
) -> Routes:
    model = _build_model(instance, costs, fleet_size=instance.vehicle_count, seed=seed)
    parameters = _search_parameters(search, time_limit_s=time_limit_s)
    assignment = model.routing.SolveWithParameters(parameters)
    if assignment is None:
        return []
    return _routes_of(model, assignment)


def _minimise_vehicles(
    instance: PdptwInstance,
    costs: _Costs,
    search: PdptwSearch,
    routes: Routes,
    *,
    seed: int,
    deadline: float,
    on_success: Callable[[int], None],
) -> Routes:
    """Phase 2: empty small routes and re-insert their requests with one vehicle fewer; on failure try the next ones."""
    best = routes
    attempt = 0
    while len(best) > search.routes_removed and attempt <= len(best) - search.routes_removed:
        remaining_s = deadline - time.monotonic()
        if remaining_s < 0.1 or _unserved(instance, best):
            break
        candidate = _without_routes(best, rank=attempt, count=search.routes_removed)
        attempt_s = max(remaining_s * search.attempt_share, min(remaining_s, 1.0))
        fleet_size = len(best) - 1
        found = _improve(
            instance,
            costs,
            search,
            candidate,
            seed=seed,
            time_limit_s=attempt_s,
            fleet_size=fleet_size,
            stop_when_complete=True,
        )
        if found is None or _unserved(instance, found) or len(found) >= len(best):
            attempt += 1
            continue
        best, attempt = found, 0
        on_success(len(best))
    return best


def _improve(
    instance: PdptwInstance,
    costs: _Costs,
    search: PdptwSearch,
    routes: Routes,
    *,
    seed: int,
    time_limit_s: float,
    fleet_size: int = 0,
    stop_when_complete: bool = False,
) -> Routes | None:
    """Local search from ``routes`` on ``max(fleet_size, len(routes), 1)`` vehicles; None if OR-Tools rejects it."""
    fleet_size = max(fleet_size, len(routes), 1)
    model = _build_model(instance, costs, fleet_size=fleet_size, seed=seed)
    parameters = _search_parameters(search, time_limit_s=time_limit_s)
    model.routing.CloseModelWithParameters(parameters)
    padded = [*routes, *([] for _ in range(fleet_size - len(routes)))]
    start = model.routing.ReadAssignmentFromRoutes(padded, True)
    if start is None:
        return None
    if stop_when_complete:
        _stop_at_first_complete_solution(model)
    assignment = model.routing.SolveFromAssignmentWithParameters(start, parameters)
    return None if assignment is None else _routes_of(model, assignment)


def _stop_at_first_complete_solution(model: _Model) -> None:
    routing = model.routing

    def finish_if_complete() -> None:
        if routing.CostVar().Value() < model.drop_penalty:
            routing.solver().FinishCurrentSearch()

    routing.AddAtSolutionCallback(finish_if_complete)


def _build_model(instance: PdptwInstance, costs: _Costs, *, fleet_size: int, seed: int) -> _Model:
    manager = pywrapcp.RoutingIndexManager(len(instance.nodes), fleet_size, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.solver().ReSeed(seed)

    def arc_cost(from_index: int, to_index: int) -> int:
        return costs.distance[int(manager.IndexToNode(from_index))][int(manager.IndexToNode(to_index))]

    def transit_time(from_index: int, to_index: int) -> int:
        return costs.travel[int(manager.IndexToNode(from_index))][int(manager.IndexToNode(to_index))]

    def demand(from_index: int) -> int:
        return instance.nodes[int(manager.IndexToNode(from_index))].demand

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(arc_cost))
    routing.SetFixedCostOfAllVehicles(costs.vehicle_fixed_cost)
    horizon = _scaled(instance.depot.due_time)
    routing.AddDimension(routing.RegisterTransitCallback(transit_time), horizon, horizon, False, "time")
    routing.AddDimension(routing.RegisterUnaryTransitCallback(demand), 0, instance.capacity, True, "load")
    _add_time_windows(instance, manager, routing)
    _add_requests(instance, manager, routing, drop_penalty=costs.drop_penalty)
    return _Model(manager, routing, costs.drop_penalty)


def _add_time_windows(
    instance: PdptwInstance, manager: pywrapcp.RoutingIndexManager, routing: pywrapcp.RoutingModel
) -> None:
    time_dimension = routing.GetDimensionOrDie("time")
    for node in instance.nodes[1:]:
        index = manager.NodeToIndex(node.id)
        time_dimension.CumulVar(index).SetRange(_scaled(node.ready_time), _scaled(node.due_time))
    depot_window = (_scaled(instance.depot.ready_time), _scaled(instance.depot.due_time))
    for vehicle in range(manager.GetNumberOfVehicles()):
        time_dimension.CumulVar(routing.Start(vehicle)).SetRange(*depot_window)
        time_dimension.CumulVar(routing.End(vehicle)).SetRange(*depot_window)


def _add_requests(
    instance: PdptwInstance, manager: pywrapcp.RoutingIndexManager, routing: pywrapcp.RoutingModel, *, drop_penalty: int
) -> None:
    solver = routing.solver()
    time_dimension = routing.GetDimensionOrDie("time")
    for pickup_id, delivery_id in instance.requests:
        pickup, delivery = manager.NodeToIndex(pickup_id), manager.NodeToIndex(delivery_id)
        routing.AddPickupAndDelivery(pickup, delivery)
        solver.Add(routing.ActiveVar(pickup) == routing.ActiveVar(delivery))
        solver.Add(routing.VehicleVar(pickup) == routing.VehicleVar(delivery))
        solver.Add(time_dimension.CumulVar(pickup) <= time_dimension.CumulVar(delivery))
        routing.AddDisjunction([pickup], drop_penalty)
        routing.AddDisjunction([delivery], drop_penalty)


def _search_parameters(search: PdptwSearch, *, time_limit_s: float) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, search.first_solution)
    parameters.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, search.metaheuristic)
    parameters.time_limit.FromMilliseconds(max(int(time_limit_s * 1000), 1))
    if search.iterated_local_search:
        _use_ruin_and_recreate(parameters)
    return parameters


def _use_ruin_and_recreate(parameters: Any) -> None:
    """Iterated local search with SISR ruin (string removal) and cheapest-insertion recreate."""
    parameters.use_iterated_local_search = True
    ruin = parameters.iterated_local_search_parameters.ruin_recreate_parameters.ruin_strategies.add()
    ruin.sisr.max_removed_sequence_size = 10
    ruin.sisr.avg_num_removed_visits = 10
    ruin.sisr.bypass_factor = 0.01


def _scaled_costs(instance: PdptwInstance) -> _Costs:
    nodes = instance.nodes
    exact = [[math.hypot(a.x - b.x, a.y - b.y) for b in nodes] for a in nodes]
    distance = [[round(d * SCALE) for d in row] for row in exact]
    travel = [[_scaled(nodes[i].service_time) + math.ceil(d * SCALE) for d in row] for i, row in enumerate(exact)]
    longest_tour = sum(max(row) for row in distance)
    vehicle_fixed_cost = longest_tour + 1
    drop_penalty = (instance.vehicle_count + 1) * vehicle_fixed_cost
    return _Costs(distance, travel, vehicle_fixed_cost, drop_penalty)


def _scaled(value: float) -> int:
    return round(value * SCALE)


def _routes_of(model: _Model, assignment: Any) -> Routes:
    routes = []
    for vehicle in range(model.manager.GetNumberOfVehicles()):
        index = assignment.Value(model.routing.NextVar(model.routing.Start(vehicle)))
        route = []
        while not model.routing.IsEnd(index):
            route.append(model.manager.IndexToNode(index))
            index = assignment.Value(model.routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


def _without_routes(routes: Routes, *, rank: int, count: int = 1) -> Routes:
    """The routes without the ``rank``-th to ``rank + count - 1``-th smallest (by number of stops)."""
    by_size = sorted(range(len(routes)), key=lambda number: (len(routes[number]), number))
    removed = set(by_size[rank : rank + count])
    return [route for number, route in enumerate(routes) if number not in removed]


def _unserved(instance: PdptwInstance, routes: Sequence[Sequence[int]]) -> list[int]:
    served = {node for route in routes for node in route}
    return [pickup for pickup, _ in instance.requests if pickup not in served]


def _solution(instance: PdptwInstance, routes: Routes, history: list[tuple[float, int]]) -> PdptwSolution:
    distance = 0.0
    for route in routes:
        stops = [instance.depot, *(instance.nodes[node] for node in route), instance.depot]
        distance += sum(math.hypot(b.x - a.x, b.y - a.y) for a, b in itertools.pairwise(stops))
    return PdptwSolution(
        vehicles=len(routes),
        distance=distance,
        routes=tuple(tuple(route) for route in routes),
        unserved=tuple(_unserved(instance, routes)),
        vehicle_history=tuple(history),
    )
