"""An independent feasibility checker for PDPTW solutions (SINTEF convention).

It shares nothing with the solver's model: distances are recomputed in double precision from the
coordinates, travel time equals distance, service must start within each node's window (waiting is
allowed) and every route must be back at the depot by the depot's due time.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from dispatch.solver.lilim import PdptwInstance

__all__ = ("TIME_TOLERANCE", "find_violations", "total_distance")

TIME_TOLERANCE = 1e-6
"""Slack allowed on time-window checks, for floating-point noise only."""


def total_distance(instance: PdptwInstance, routes: Sequence[Sequence[int]]) -> float:
    """The Euclidean length of all routes, each from the depot through its nodes and back."""
    return sum(_route_distance(instance, route) for route in routes if route)


def find_violations(instance: PdptwInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Every reason the routes are not a feasible solution of the instance; empty when feasible.

    Args:
        instance: the problem.
        routes: one list of node ids per used vehicle, in visiting order, without the depot.
    """
    violations = _coverage_violations(instance, routes)
    used = [route for route in routes if route]
    if len(used) > instance.vehicle_count:
        violations.append(f"{len(used)} routes but only {instance.vehicle_count} vehicles")
    for number, route in enumerate(used, start=1):
        if all(0 < node < len(instance.nodes) for node in route):
            violations += [f"route {number}: {problem}" for problem in _route_violations(instance, route)]
    return violations


def _coverage_violations(instance: PdptwInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    visits: dict[int, int] = {}
    violations = []
    for route in routes:
        for node_id in route:
            if not 0 < node_id < len(instance.nodes):
                violations.append(f"node {node_id} is not a customer of the instance")
            visits[node_id] = visits.get(node_id, 0) + 1
    for node in instance.nodes[1:]:
        count = visits.get(node.id, 0)
        if count != 1:
            violations.append(f"node {node.id} is visited {count} times, not once")
    return violations


def _route_violations(instance: PdptwInstance, route: Sequence[int]) -> list[str]:
    return _pairing_violations(instance, route) + _load_violations(instance, route) + _time_violations(instance, route)


def _pairing_violations(instance: PdptwInstance, route: Sequence[int]) -> list[str]:
    position = {node: index for index, node in enumerate(route)}
    violations = []
    for node_id in route:
        node = instance.nodes[node_id]
        if node.is_pickup:
            if node.delivery_id not in position:
                violations.append(f"pickup {node_id} is delivered ({node.delivery_id}) on another route or not at all")
            elif position[node.delivery_id] < position[node_id]:
                violations.append(f"delivery {node.delivery_id} comes before its pickup {node_id}")
        elif node.pickup_id not in position:
            violations.append(f"delivery {node_id} has its pickup ({node.pickup_id}) on another route or not at all")
    return violations


def _load_violations(instance: PdptwInstance, route: Sequence[int]) -> list[str]:
    load = 0
    violations = []
    for node_id in route:
        load += instance.nodes[node_id].demand
        if load > instance.capacity:
            violations.append(f"load {load} exceeds capacity {instance.capacity} after node {node_id}")
        if load < 0:
            violations.append(f"load {load} is negative after node {node_id}")
    return violations


def _time_violations(instance: PdptwInstance, route: Sequence[int]) -> list[str]:
    depot = instance.depot
    time = depot.ready_time
    previous = depot
    violations = []
    for node_id in route:
        node = instance.nodes[node_id]
        arrival = time + previous.service_time + _distance(previous.x, previous.y, node.x, node.y)
        if arrival > node.due_time + TIME_TOLERANCE:
            violations.append(f"arrives at node {node_id} at {arrival:.2f}, after its due time {node.due_time:g}")
        time = max(arrival, node.ready_time)
        previous = node
    back = time + previous.service_time + _distance(previous.x, previous.y, depot.x, depot.y)
    if back > depot.due_time + TIME_TOLERANCE:
        violations.append(f"back at the depot at {back:.2f}, after its due time {depot.due_time:g}")
    return violations


def _route_distance(instance: PdptwInstance, route: Sequence[int]) -> float:
    stops = [instance.depot, *(instance.nodes[node] for node in route), instance.depot]
    return sum(_distance(a.x, a.y, b.x, b.y) for a, b in itertools.pairwise(stops))


def _distance(x1: float, y1: float, x2: float, y2: float) -> float:
    return math.hypot(x2 - x1, y2 - y1)
