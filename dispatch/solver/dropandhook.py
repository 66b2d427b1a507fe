"""The drop-and-hook planner: one OR-Tools routing model for a carrier's day.

Model (details and measurements in docs/decisions/0012-drop-and-hook-model.md):

- **Vehicles** are tractors with their crew. A tractor starts bobtail at its start place and ends at
  its home yard.
- **A task is a whole trailer move**: hook at the origin, tow to the destination, drop. One trailer
  per tractor (implementing regulations of the Road Traffic Safety Law, art. 56) means that in every
  feasible plan a move's hook is immediately followed by its drop, so the move is one routing node
  whose service time is hook + tow + drop and whose time variable is the hook start. Arcs between
  nodes are bobtail drives.
- **Empty-trailer choice**: a position move has one node per candidate empty trailer (the nearest of
  the right type), in one disjunction of cardinality 1; a trailer may serve at most one position move
  (a second, penalty-free disjunction over its nodes).
- **Collect after loading**: the collect node's hook waits for the chosen position node's drop plus
  the loading time (a cross-route constraint), and is performed only if the position move is.
- **Windows**: the hook start is restricted to the times when the origin is open for the hook, the
  destination is open for the drop, after ``ready_at`` and early enough for the ``cutoff`` (hard);
  ``deliver_by`` is a soft bound with a lateness cost.
- **Driver hours**: every drive takes 1 + 20/240 of its time in the model (a reserve for the breaks);
  the runs are then laid out by ``timeline.py``, which takes the law's 20-minute breaks; the duty span
  is the vehicle's span limit, the daily driving cap a driving dimension. (OR-Tools break intervals
  were measured and rejected: see the decision note.)
- **Objective**: a fixed cost per tractor used, then deadhead metres (bobtail and empty tows), then
  seconds on duty; every move is optional with a penalty above all of these, so nothing is dropped
  unless it cannot be served, and each unserved move is reported with a reason.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from ortools.constraint_solver import pywrapcp, routing_enums_pb2  # type: ignore[import-untyped]

from dispatch.solver.greedy import plan_greedy
from dispatch.solver.matrix import TravelMatrix, great_circle_matrix
from dispatch.solver.problem import (
    ActivityKind,
    Driver,
    Move,
    MoveKind,
    Plan,
    Problem,
    Qualification,
    Run,
    Tractor,
    Trailer,
    Unassigned,
    UnassignedReason,
)
from dispatch.solver.summary import summarise
from dispatch.solver.timeline import Leg, RunState, Timeline, append_move, close_run, start_run, to_run
from dispatch.solver.windows import (
    Interval,
    intersect,
    local_windows,
    offset_s,
    opening_intervals,
    shift,
)

__all__ = ("METRE_COST", "SolveProgress", "SolverSettings", "solve")

METRE_COST = 10
"""Objective units per deadhead metre (so one deadhead kilometre costs 10,000)."""
SECOND_COST = 1
"""Objective units per second on duty."""
LATE_SECOND_COST = 2_000
"""Objective units per second a drop is later than ``deliver_by`` (one hour late ≈ 720 deadhead km)."""
TRACTOR_COST = 1_000_000_000
"""Objective units per tractor used (≈ 100,000 deadhead km: fewer tractors always come first)."""
READING_SHARE = 0.3
"""Share of the remaining time that reading the start plan into the model may take."""
UNSERVED_COST = 100_000_000_000
"""Objective units per move left out: more than any tractor, kilometre or hour it could cost."""


class SolverSettings(msgspec.Struct, kw_only=True, frozen=True):
    """How the search runs; the defaults are measured in docs/solver-notes.md."""

    first_solution: str = "ALL_UNPERFORMED"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    candidate_trailers: int = 4
    """Empty trailers considered for each position move (the nearest ones)."""
    keep_greedy_if_better: bool = True
    """Return the greedy plan when the search ends behind it (off in benchmarks, to show the search)."""


class SolveProgress(msgspec.Struct, kw_only=True, frozen=True):
    """The best plan so far, reported while the search runs."""

    elapsed_s: float
    objective: int
    tractors: int
    unassigned: int
    deadhead_km: float = 0.0
    """Bobtail kilometres and kilometres towing an empty trailer, the drives home included."""


@dataclass
class _Task:
    """One routing node that performs a move (a position move has one per candidate trailer)."""

    move: Move
    trailer: Trailer | None
    origin: str
    destination: str
    allowed: list[Interval]
    tow_s: int
    service_s: int
    tow_km: float
    empty_tow: bool
    index: int = -1


@dataclass
class _Vehicle:
    tractor: Tractor
    driver: Driver
    escort: Driver | None
    start_place: str
    end_place: str
    earliest_s: int
    latest_s: int
    hazmat: bool
    rest_first: bool


@dataclass
class _Prepared:
    """Everything the model needs, computed without OR-Tools."""

    vehicles: list[_Vehicle]
    tasks: list[_Task]
    unassigned: dict[str, Unassigned]
    depots: list[str]
    known_drops: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    preferred: dict[str, str] = field(default_factory=dict)
    """The trailer a start plan chose for a position move: always among the candidates."""
    """Moves dropped by fixed runs: drop end and trailer."""


def solve(
    problem: Problem,
    *,
    time_limit_s: float,
    seed: int = 0,
    initial: Plan | None = None,
    matrix: TravelMatrix | None = None,
    settings: SolverSettings | None = None,
    on_progress: Callable[[SolveProgress], None] | None = None,
) -> Plan:
    """Plan a carrier's day: which tractor takes which trailer move when.

    Args:
        problem: places, fleet, crews, trailers and moves.
        time_limit_s: wall-clock budget of the search.
        seed: reseeds OR-Tools' random generator (the search is otherwise deterministic, but a
            wall-clock limit cuts it at a machine-dependent point).
        initial: a plan to start from (a previous plan or the greedy one); ignored where it does not fit.
        matrix: travel kilometres and minutes between the places; great-circle × road factor when omitted.
        settings: search settings.
        on_progress: called with the best plan's figures each time the search improves it.

    Returns:
        The plan: one run per used tractor, and every move left out with its reason.
    """
    if problem.start.tzinfo is None:
        raise ValueError("problem.start must carry a UTC offset")
    started = time.monotonic()
    settings = settings or SolverSettings()
    matrix = matrix or great_circle_matrix(problem.places, problem.matrix)
    travel = _Travel(matrix)
    if initial is not None:
        starts, fallback = [initial], []  # a caller's plan may not fit this problem any more
    else:
        baseline = plan_greedy(problem, matrix)
        starts, fallback = [plan_greedy(problem, _with_break_reserve(problem, matrix)), baseline], [baseline]
    prepared = _prepare(problem, travel, settings, preferred=_hooked_trailers(starts[0]))
    if not prepared.tasks or not prepared.vehicles:
        return _plan(problem, matrix, prepared, [], solver="or-tools: nothing to plan")
    model = _Model(problem, travel, prepared, seed=seed, handovers=_handovers(problem, starts[0]))
    parameters = _search_parameters(settings, time_limit_s)
    if on_progress is not None:
        model.report_progress(on_progress, started)
    assignment = model.solve(parameters, starts[0], deadline=started + time_limit_s)
    routes = model.routes(assignment) if assignment is not None else []
    status = "or-tools" if assignment is not None else "or-tools: no solution"
    plan = _plan(problem, matrix, prepared, routes, solver=status, objective=model.objective(assignment))
    if not settings.keep_greedy_if_better:
        return plan
    return min([plan, *fallback], key=_plan_quality)


def _plan_quality(plan: Plan) -> tuple[int, int, int, float]:
    """Lower is better: moves left out, then late moves, then tractors, then deadhead kilometres.

    The search can end behind the greedy plan (the model is stricter than the law in places and a
    start plan is cut where the model rejects it), so the greedy plan is returned when it is
    better; ``Plan.solver`` says which planner made the plan.
    """
    summary = plan.summary
    return (summary.moves_unassigned, summary.late_moves, summary.tractors_used, summary.deadhead_km)


class _Travel:
    """Whole-second drive times and kilometres between place ids."""

    def __init__(self, matrix: TravelMatrix) -> None:
        self.row = matrix.index()
        self.km = matrix.km
        self.seconds = tuple(tuple(math.ceil(minutes * 60) for minutes in row) for row in matrix.minutes)

    def s(self, origin: str, destination: str) -> int:
        return self.seconds[self.row[origin]][self.row[destination]]

    def distance(self, origin: str, destination: str) -> float:
        return self.km[self.row[origin]][self.row[destination]]


# Preparation: what can be planned at all, and the routing nodes.


def _hooked_trailers(plan: Plan) -> dict[str, str]:
    """The trailer each move of a plan hooks."""
    return {
        activity.move_id: activity.trailer_id
        for run in plan.runs
        for activity in run.activities
        if activity.kind == ActivityKind.HOOK and activity.move_id and activity.trailer_id
    }


def _prepare(
    problem: Problem, travel: _Travel, settings: SolverSettings, *, preferred: dict[str, str] | None = None
) -> _Prepared:
    places = {place.id: place for place in problem.places}
    fixed_tractors = {run.tractor_id for run in problem.fixed_runs}
    fixed_moves = {move_id for run in problem.fixed_runs for move_id in run.moves}
    vehicles = _vehicles(problem, fixed_tractors, places)
    prepared = _Prepared(vehicles=vehicles, tasks=[], unassigned={}, depots=[], preferred=preferred or {})
    prepared.known_drops = _fixed_drops(problem)
    busy_trailers: set[str | None] = {
        activity.trailer_id for run in problem.fixed_runs for activity in run.activities if activity.trailer_id
    }
    busy_trailers |= {move.trailer_id for move in problem.moves if move.trailer_id and move.kind != MoveKind.POSITION}
    moves = {move.id: move for move in problem.moves}
    for move in problem.moves:
        if move.id in fixed_moves:
            continue
        tasks_or_reason = _tasks_of(problem, travel, move, moves, places, busy_trailers, settings, prepared)
        if isinstance(tasks_or_reason, Unassigned):
            prepared.unassigned[move.id] = tasks_or_reason
        else:
            prepared.tasks.extend(tasks_or_reason)
    _drop_dependants(problem, prepared)
    prepared.depots = sorted({vehicle.start_place for vehicle in vehicles} | {v.end_place for v in vehicles})
    return prepared


def _vehicles(problem: Problem, fixed_tractors: set[str], places: dict[str, Any]) -> list[_Vehicle]:
    drivers = {driver.id: driver for driver in problem.drivers}
    horizon = int(problem.horizon_hours * 3600)
    policy = problem.policy
    vehicles = []
    for tractor in problem.tractors:
        driver = drivers.get(tractor.driver_id or "")
        start_place = tractor.start_place_id or tractor.home_place_id
        if tractor.id in fixed_tractors or driver is None or start_place not in places:
            continue
        if tractor.home_place_id not in places:
            continue
        escort = drivers.get(tractor.escort_id or "")
        earliest = max(0, offset_s(problem, tractor.available_from, 0), offset_s(problem, driver.shift_start, 0))
        latest = min(
            horizon, offset_s(problem, tractor.available_until, horizon), offset_s(problem, driver.shift_end, 0)
        )
        rest_first = driver.continuous_driving_minutes > 0
        if rest_first:
            earliest += round(policy.break_minutes * 60)
        if latest <= earliest:
            continue
        hazmat = (
            tractor.hazmat_approved
            and Qualification.HAZMAT_DRIVER in driver.qualifications
            and escort is not None
            and Qualification.HAZMAT_ESCORT in escort.qualifications
        )
        end_place = tractor.home_place_id if policy.return_home else start_place
        vehicles.append(_Vehicle(tractor, driver, escort, start_place, end_place, earliest, latest, hazmat, rest_first))
    return vehicles


def _fixed_drops(problem: Problem) -> dict[str, tuple[int, str | None]]:
    drops = {}
    for run in problem.fixed_runs:
        for activity in run.activities:
            if activity.kind == ActivityKind.DROP and activity.move_id:
                drops[activity.move_id] = (offset_s(problem, activity.end, 0), activity.trailer_id)
    return drops


def _tasks_of(
    problem: Problem,
    travel: _Travel,
    move: Move,
    moves: dict[str, Move],
    places: dict[str, Any],
    busy_trailers: set[str | None],
    settings: SolverSettings,
    prepared: _Prepared,
) -> list[_Task] | Unassigned:
    """The routing nodes of a move, or why it cannot be planned."""
    if move.destination_id not in places or (move.origin_id is not None and move.origin_id not in places):
        return _unassigned(move, UnassignedReason.PLACE_UNKNOWN, "its origin or destination is not a known place")
    if move.hazmat and not any(vehicle.hazmat for vehicle in prepared.vehicles):
        return _unassigned(
            move,
            UnassignedReason.NO_HAZMAT_CREW,
            "no available tractor is approved for dangerous goods with a qualified driver and escort",
        )
    if not prepared.vehicles:
        return _unassigned(move, UnassignedReason.NO_TRACTOR, "no tractor with a driver is available")
    if move.kind == MoveKind.POSITION:
        preferred = prepared.preferred.get(move.id)
        return _position_tasks(problem, travel, move, places, busy_trailers, settings, preferred)
    return _trailer_task(problem, travel, move, moves, places, prepared)


def _trailer_task(
    problem: Problem,
    travel: _Travel,
    move: Move,
    moves: dict[str, Move],
    places: dict[str, Any],
    prepared: _Prepared,
) -> list[_Task] | Unassigned:
    trailers = {trailer.id: trailer for trailer in problem.trailers}
    after = moves.get(move.after_move or "")
    if move.after_move and after is None:
        return _unassigned(move, UnassignedReason.DEPENDS_ON_UNASSIGNED, f"it follows unknown move {move.after_move}")
    origin = after.destination_id if after is not None else move.origin_id
    if origin is None or origin not in places:
        return _unassigned(move, UnassignedReason.PLACE_UNKNOWN, "it has no origin")
    if after is not None and after.kind == MoveKind.POSITION:
        trailer = None  # the trailer the position move brings; checked on that move
    else:
        trailer = trailers.get(move.trailer_id or "")
        if trailer is None:
            return _unassigned(move, UnassignedReason.TRAILER_UNKNOWN, f"trailer {move.trailer_id} is not known")
        reason = _trailer_refusal(move, trailer)
        if reason is not None:
            return reason
        if after is None and trailer.place_id != origin:
            return _unassigned(
                move,
                UnassignedReason.TRAILER_ELSEWHERE,
                f"trailer {trailer.id} stands at {trailer.place_id}, not at {origin}",
            )
    ready = [offset_s(problem, trailer.available_from, 0)] if trailer is not None else []
    return _task_or_reason(problem, travel, move, trailer, origin, places, ready, empty_tow=_is_empty(move, trailer))


def _is_empty(move: Move, trailer: Trailer | None) -> bool:
    return move.kind == MoveKind.POSITION or (move.kind == MoveKind.HAUL and trailer is not None and not trailer.loaded)


def _trailer_refusal(move: Move, trailer: Trailer) -> Unassigned | None:
    if trailer.out_of_service:
        return _unassigned(move, UnassignedReason.TRAILER_OUT_OF_SERVICE, f"trailer {trailer.id} is out of service")
    if move.trailer_type is not None and trailer.type != move.trailer_type:
        return _unassigned(
            move,
            UnassignedReason.TRAILER_TYPE_MISMATCH,
            f"the load needs a {move.trailer_type} trailer but {trailer.id} is a {trailer.type}",
        )
    if move.hazmat and not trailer.hazmat_approved:
        return _unassigned(
            move,
            UnassignedReason.TRAILER_NOT_HAZMAT_APPROVED,
            f"trailer {trailer.id} is not approved for dangerous goods",
        )
    return None


def _position_tasks(
    problem: Problem,
    travel: _Travel,
    move: Move,
    places: dict[str, Any],
    busy_trailers: set[str | None],
    settings: SolverSettings,
    preferred: str | None = None,
) -> list[_Task] | Unassigned:
    if move.trailer_type is None:
        return _unassigned(move, UnassignedReason.TRAILER_TYPE_MISMATCH, "a position move needs a trailer type")
    candidates = [
        trailer
        for trailer in problem.trailers
        if trailer.type == move.trailer_type
        and not trailer.loaded
        and not trailer.out_of_service
        and (trailer.hazmat_approved or not move.hazmat)
        and trailer.id not in busy_trailers
        and trailer.place_id in places
        and trailer.place_id != move.destination_id
    ]
    if not candidates:
        return _unassigned(
            move, UnassignedReason.NO_EMPTY_TRAILER, f"no empty, serviceable {move.trailer_type} trailer is free"
        )
    candidates.sort(key=lambda trailer: (travel.s(trailer.place_id, move.destination_id), trailer.id))
    tasks: list[_Task] = []
    reason: Unassigned | None = None
    chosen = candidates[: settings.candidate_trailers]
    chosen += [trailer for trailer in candidates[settings.candidate_trailers :] if trailer.id == preferred]
    for trailer in chosen:
        ready = [offset_s(problem, trailer.available_from, 0)]
        found = _task_or_reason(problem, travel, move, trailer, trailer.place_id, places, ready, empty_tow=True)
        if isinstance(found, Unassigned):
            reason = found
        else:
            tasks.extend(found)
    return tasks or reason or _unassigned(move, UnassignedReason.NO_EMPTY_TRAILER, "no candidate trailer fits")


def _task_or_reason(
    problem: Problem,
    travel: _Travel,
    move: Move,
    trailer: Trailer | None,
    origin: str,
    places: dict[str, Any],
    ready: list[int],
    *,
    empty_tow: bool,
) -> list[_Task] | Unassigned:
    policy = problem.policy
    hook, drop = round(policy.hook_minutes * 60), round(policy.drop_minutes * 60)
    tow = travel.s(origin, move.destination_id) if origin != move.destination_id else 0
    service = hook + tow + drop
    horizon = int(problem.horizon_hours * 3600)
    earliest = max([0, offset_s(problem, move.ready_at, 0), *ready])
    latest = min(horizon, offset_s(problem, move.cutoff, horizon)) - service
    if latest < earliest:
        reason = UnassignedReason.CUTOFF_UNREACHABLE if move.cutoff is not None else UnassignedReason.WINDOW_CLOSED
        return _unassigned(
            move, reason, "the time from ready to cut-off (or the planning horizon) is shorter than the move"
        )
    hook_open = shift(opening_intervals(problem, places[origin].opening_hours), 0, shrink_end=hook)
    drop_open = shift(
        opening_intervals(problem, places[move.destination_id].opening_hours), -(hook + tow), shrink_end=drop
    )
    allowed = intersect(intersect(hook_open, drop_open), [(earliest, latest)])
    if not allowed:
        return _unassigned(
            move,
            UnassignedReason.WINDOW_CLOSED,
            "the origin and destination are never open at the times the move allows",
        )
    km = travel.distance(origin, move.destination_id) if origin != move.destination_id else 0.0
    return [_Task(move, trailer, origin, move.destination_id, allowed, tow, service, km, empty_tow)]


def _drop_dependants(problem: Problem, prepared: _Prepared) -> None:
    """Leave out moves that follow a move that is left out (and the moves that follow those)."""
    changed = True
    while changed:
        changed = False
        remaining = []
        for task in prepared.tasks:
            after = task.move.after_move
            if after and after in prepared.unassigned and task.move.id not in prepared.unassigned:
                prepared.unassigned[task.move.id] = _follows_unplanned(task.move)
                changed = True
            if task.move.id not in prepared.unassigned:
                remaining.append(task)
        prepared.tasks = remaining


def _unassigned(move: Move, reason: UnassignedReason, detail: str) -> Unassigned:
    return Unassigned(move_id=move.id, reason=reason, detail=detail)


def _follows_unplanned(move: Move) -> Unassigned:
    return _unassigned(
        move, UnassignedReason.DEPENDS_ON_UNASSIGNED, f"it follows move {move.after_move}, which is not planned"
    )


# The OR-Tools model.


class _Model:
    def __init__(
        self, problem: Problem, travel: _Travel, prepared: _Prepared, *, seed: int, handovers: dict[str, int]
    ) -> None:
        self.problem, self.travel, self.prepared = problem, travel, prepared
        self.handovers = handovers
        depot_index = {place: number for number, place in enumerate(prepared.depots)}
        for number, task in enumerate(prepared.tasks):
            task.index = len(prepared.depots) + number
        self.node_count = len(prepared.depots) + len(prepared.tasks)
        starts = [depot_index[vehicle.start_place] for vehicle in prepared.vehicles]
        ends = [depot_index[vehicle.end_place] for vehicle in prepared.vehicles]
        self.manager = pywrapcp.RoutingIndexManager(self.node_count, len(prepared.vehicles), starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.routing.solver().ReSeed(seed)
        self._origins = [*prepared.depots, *(task.origin for task in prepared.tasks)]
        self._destinations = [*prepared.depots, *(task.destination for task in prepared.tasks)]
        self._service = [0] * len(prepared.depots) + [task.service_s for task in prepared.tasks]
        self._rows: list[list[int]] | None = None
        self.time = self._add_time()
        self._add_costs()
        self._add_driving_cap()
        self._add_tasks()
        self._avoid_night()

    # Dimensions and costs

    def _add_time(self) -> Any:
        policy = self.problem.policy
        reserve = policy.break_minutes / max(policy.max_continuous_driving_minutes, 1)
        tows = [0] * len(self.prepared.depots) + [task.tow_s for task in self.prepared.tasks]
        service = [self._service[i] + math.ceil(tows[i] * reserve) for i in range(self.node_count)]
        slowed: dict[int, list[int]] = {}
        transit = []
        for i, row in enumerate(self._place_rows()):
            if id(row) not in slowed:
                slowed[id(row)] = [math.ceil(seconds * (1 + reserve)) for seconds in row]
            transit.append([service[i] + seconds for seconds in slowed[id(row)]])
        callback = self.routing.RegisterTransitMatrix(transit)
        horizon = int(self.problem.horizon_hours * 3600)
        self.routing.AddDimension(callback, horizon, horizon, False, "time")
        dimension = self.routing.GetDimensionOrDie("time")
        duty = round(self.problem.policy.max_duty_minutes * 60)
        rest = round(self.problem.policy.break_minutes * 60)
        for number, vehicle in enumerate(self.prepared.vehicles):
            dimension.CumulVar(self.routing.Start(number)).SetRange(vehicle.earliest_s, vehicle.latest_s)
            dimension.CumulVar(self.routing.End(number)).SetRange(vehicle.earliest_s, vehicle.latest_s)
            dimension.SetSpanUpperBoundForVehicle(duty - (rest if vehicle.rest_first else 0), number)
            dimension.SetSpanCostCoefficientForVehicle(SECOND_COST, number)
        return dimension

    def _place_rows(self) -> list[list[int]]:
        """Bobtail seconds from each node's destination to each node's origin."""
        if self._rows is not None:
            return self._rows
        by_place: dict[str, list[int]] = {}
        rows = []
        for i in range(self.node_count):
            place = self._destinations[i]
            if place not in by_place:
                by_place[place] = [0 if place == origin else self.travel.s(place, origin) for origin in self._origins]
            rows.append(by_place[place])
        self._rows = rows
        return rows

    def _add_costs(self) -> None:
        empty_metres = [0] * len(self.prepared.depots) + [
            round(task.tow_km * 1000) if task.empty_tow else 0 for task in self.prepared.tasks
        ]
        by_place: dict[str, list[int]] = {}
        cost = []
        for i in range(self.node_count):
            place = self._destinations[i]
            if place not in by_place:
                by_place[place] = [
                    METRE_COST * ((0 if place == origin else round(self.travel.distance(place, origin) * 1000)) + empty)
                    for origin, empty in zip(self._origins, empty_metres, strict=True)
                ]
            cost.append(by_place[place])
        self.routing.SetArcCostEvaluatorOfAllVehicles(self.routing.RegisterTransitMatrix(cost))
        self.routing.SetFixedCostOfAllVehicles(TRACTOR_COST)

    def _add_driving_cap(self) -> None:
        cap = self.problem.policy.max_driving_minutes_per_24h
        if cap is None:
            return
        tow = [0] * len(self.prepared.depots) + [task.tow_s for task in self.prepared.tasks]
        rows = self._place_rows()
        driving = [[tow[i] + rows[i][j] for j in range(self.node_count)] for i in range(self.node_count)]
        capacities = [
            max(0, round((cap - vehicle.driver.driven_minutes_last_24h) * 60)) for vehicle in self.prepared.vehicles
        ]
        self.routing.AddDimensionWithVehicleCapacity(
            self.routing.RegisterTransitMatrix(driving), 0, capacities, True, "driving"
        )

    def _add_tasks(self) -> None:
        routing, solver, manager = self.routing, self.routing.solver(), self.manager
        hazmat_vehicles = [number for number, vehicle in enumerate(self.prepared.vehicles) if vehicle.hazmat]
        by_move: dict[str, list[_Task]] = defaultdict(list)
        by_trailer: dict[str, list[int]] = defaultdict(list)
        for task in self.prepared.tasks:
            by_move[task.move.id].append(task)
            index = manager.NodeToIndex(task.index)
            self._restrict_window(index, task)
            if task.move.hazmat:
                routing.VehicleVar(index).SetValues([-1, *hazmat_vehicles])
            if task.move.kind == MoveKind.POSITION and task.trailer is not None:
                by_trailer[task.trailer.id].append(index)
        for tasks in by_move.values():
            routing.AddDisjunction([manager.NodeToIndex(task.index) for task in tasks], UNSERVED_COST, 1)
        for indices in by_trailer.values():
            if len(indices) > 1:
                routing.AddDisjunction(indices, 0, 1)
        for tasks in by_move.values():
            after = tasks[0].move.after_move
            if after:
                self._add_precedence(tasks, by_move.get(after, []), after, solver)

    def _restrict_window(self, index: int, task: _Task) -> None:
        cumul = self.time.CumulVar(index)
        cumul.SetRange(task.allowed[0][0], task.allowed[-1][1])
        for (_, gap_start), (gap_end, _) in zip(task.allowed, task.allowed[1:], strict=False):
            if gap_end - gap_start > 1:
                cumul.RemoveInterval(gap_start + 1, gap_end - 1)
        if task.move.deliver_by is not None:
            due = offset_s(self.problem, task.move.deliver_by, 0) - task.service_s
            self.time.SetCumulVarSoftUpperBound(index, max(due, 0), LATE_SECOND_COST)

    def _add_precedence(self, tasks: list[_Task], before: list[_Task], after_id: str, solver: Any) -> None:
        """Each of ``tasks`` hooks only after the preceding move's drop plus the loading time.

        The two moves are separated at a handover time: the preceding move must drop by it and the
        follower hooks from it plus the loading time. The handover is the drop time in the start plan,
        else the preceding move's promised drop time. This keeps the two moves independent in the
        model (a cross-route constraint stalls OR-Tools' local search, measured: 115 instead of 146
        of 200 moves planned on a 50-tractor day). The schedule then uses the actual drop time.
        Without a handover, a cross-route constraint is used.
        """
        loading = round(tasks[0].move.loading_minutes * 60)
        known = self.prepared.known_drops.get(after_id)
        promised = self.handovers.get(after_id)
        if promised is None and before:
            promised = _promised_drop_s(self.problem, before[0].move)
        for task in tasks:
            index = self.manager.NodeToIndex(task.index)
            cumul = self.time.CumulVar(index)
            ready = known[0] + loading if known is not None else None
            if ready is None and promised is not None and self._bind_promise(before, promised):
                ready = promised + loading
            if ready is not None:
                if ready > cumul.Max():
                    routing_index = index
                    self.routing.ActiveVar(routing_index).SetValue(0)
                else:
                    cumul.SetMin(max(cumul.Min(), ready))
                continue
            actives = []
            for earlier in before:
                earlier_index = self.manager.NodeToIndex(earlier.index)
                active = self.routing.ActiveVar(earlier_index)
                finish = self.time.CumulVar(earlier_index) + earlier.service_s + loading
                solver.Add(solver.ConditionalExpression(active, finish, 0) <= cumul)
                actives.append(active)
            solver.Add(self.routing.ActiveVar(index) <= solver.Sum(actives))

    def _bind_promise(self, before: list[_Task], promised: int) -> bool:
        """Make the preceding move's promised drop hard on all its nodes; False if a node cannot meet it."""
        bounds = []
        for earlier in before:
            cumul = self.time.CumulVar(self.manager.NodeToIndex(earlier.index))
            latest_hook = promised - earlier.service_s
            if latest_hook < cumul.Min():
                return False
            bounds.append((cumul, latest_hook))
        for cumul, latest_hook in bounds:
            cumul.SetMax(min(cumul.Max(), latest_hook))
        return True

    def _avoid_night(self) -> None:
        """With no night driving allowed, a run lies wholly before or after each night."""
        policy = self.problem.policy
        if policy.max_night_driving_minutes != 0:
            return
        nights = local_windows(self.problem, [(policy.night_start, policy.night_end)])
        solver = self.routing.solver()
        for number, vehicle in enumerate(self.prepared.vehicles):
            start = self.time.CumulVar(self.routing.Start(number))
            end = self.time.CumulVar(self.routing.End(number))
            for night_start, night_end in nights:
                if night_end > vehicle.earliest_s and night_start < vehicle.latest_s:
                    after_night = solver.IsGreaterOrEqualCstVar(start, night_end)
                    before_night = solver.IsLessOrEqualCstVar(end, night_start)
                    solver.Add(after_night + before_night >= 1)
        for task in self.prepared.tasks:
            cumul = self.time.CumulVar(self.manager.NodeToIndex(task.index))
            for start, end in nights:
                low, high = max(cumul.Min(), start - task.service_s + 1), min(cumul.Max(), end - 1)
                if low <= high:
                    cumul.RemoveInterval(low, high)

    # Search

    def solve(self, parameters: Any, start: Plan | None, *, deadline: float) -> Any:
        """Search from the start plan, read as far as it fits the model, until the deadline."""
        # Reading a start plan runs a search; one solution is enough (otherwise it runs to the time limit).
        reading = pywrapcp.DefaultRoutingSearchParameters()
        reading.CopyFrom(parameters)
        reading.solution_limit = 1
        self.routing.CloseModelWithParameters(reading)
        budget = time.monotonic() + READING_SHARE * max(deadline - time.monotonic(), 0)
        assignment = self.start_from(self._routes_of_plan(start), until=budget) if start is not None else None
        parameters.time_limit.FromMilliseconds(max(int((deadline - time.monotonic()) * 1000), 100))
        if assignment is not None:
            return self.routing.SolveFromAssignmentWithParameters(assignment, parameters)
        return self.routing.SolveWithParameters(parameters)

    def start_from(self, routes: list[list[int]], *, until: float) -> Any:
        """An assignment from the routes, each cut to its longest prefix that the model accepts.

        A plan made under other rules (the greedy planner waits at a closed destination, which the
        model cannot) may break the model on some routes; the stops cut off are left for the search to
        insert again. Each read costs a propagation of the whole model (about 0.1 s on a 1,000-move
        day), so reading stops at ``until`` and the routes not read yet are left to the search.
        """
        whole = self.routing.ReadAssignmentFromRoutes(routes, True)
        if whole is not None:
            return whole
        accepted: list[list[int]] = [[] for _ in routes]
        for vehicle, route in enumerate(routes):
            if not route:
                continue
            if time.monotonic() > until:
                break
            accepted[vehicle] = route
            if self.routing.ReadAssignmentFromRoutes(accepted, True) is not None:
                continue
            low, high = 0, len(route) - 1  # the longest fitting prefix has between low and high stops
            while low < high and time.monotonic() <= until:
                middle = (low + high + 1) // 2
                accepted[vehicle] = route[:middle]
                if self.routing.ReadAssignmentFromRoutes(accepted, True) is not None:
                    low = middle
                else:
                    high = middle - 1
            accepted[vehicle] = route[:low]
        return self.routing.ReadAssignmentFromRoutes(accepted, True)

    def _routes_of_plan(self, plan: Plan) -> list[list[int]]:
        by_tractor = {run.tractor_id: run for run in plan.runs}
        nodes: dict[tuple[str, str | None], int] = {}
        first: dict[str, int] = {}
        for task in self.prepared.tasks:
            nodes[(task.move.id, task.trailer.id if task.trailer else None)] = task.index
            first.setdefault(task.move.id, task.index)
        routes = []
        for vehicle in self.prepared.vehicles:
            run = by_tractor.get(vehicle.tractor.id)
            route: list[int] = []
            if run is not None:
                trailers = {a.move_id: a.trailer_id for a in run.activities if a.kind == ActivityKind.HOOK}
                for move_id in run.moves:
                    node = nodes.get((move_id, trailers.get(move_id)), first.get(move_id))
                    if node is not None and self.manager.NodeToIndex(node) not in route:
                        route.append(self.manager.NodeToIndex(node))
            routes.append(route)
        return routes

    def report_progress(self, on_progress: Callable[[SolveProgress], None], started: float) -> None:
        routing = self.routing
        vehicles = range(len(self.prepared.vehicles))
        moves = {task.move.id for task in self.prepared.tasks}
        tasks = {self.manager.NodeToIndex(task.index): task for task in self.prepared.tasks}

        best = [UNSERVED_COST * (len(moves) + 1)]

        def report() -> None:
            objective = int(routing.CostVar().Value())
            if objective >= best[0]:
                return
            best[0] = objective
            used = sum(1 for v in vehicles if not routing.IsEnd(routing.NextVar(routing.Start(v)).Value()))
            served = set()
            for task in self.prepared.tasks:
                index = self.manager.NodeToIndex(task.index)
                if routing.NextVar(index).Value() != index:
                    served.add(task.move.id)
            on_progress(
                SolveProgress(
                    elapsed_s=time.monotonic() - started,
                    objective=objective,
                    tractors=used,
                    unassigned=len(moves - served) + len(self.prepared.unassigned),
                    deadhead_km=round(sum(self._current_deadhead_km(v, tasks) for v in vehicles), 1),
                )
            )

        routing.AddAtSolutionCallback(report)

    def _current_deadhead_km(self, vehicle: int, tasks: dict[int, _Task]) -> float:
        """Deadhead of one vehicle's route in the solution being reported (inside a solution callback)."""
        routing, spec = self.routing, self.prepared.vehicles[vehicle]
        place, km = spec.start_place, 0.0
        index = routing.NextVar(routing.Start(vehicle)).Value()
        if routing.IsEnd(index):
            return 0.0
        while not routing.IsEnd(index):
            task = tasks.get(index)
            if task is not None:
                km += self.travel.distance(place, task.origin) + (task.tow_km if task.empty_tow else 0.0)
                place = task.destination
            index = routing.NextVar(index).Value()
        return km + self.travel.distance(place, spec.end_place)

    def objective(self, assignment: Any) -> int:
        return 0 if assignment is None else int(assignment.ObjectiveValue())

    def routes(self, assignment: Any) -> list[_Route]:
        """Each used vehicle's tasks in order, with the model's hook-start times."""
        routes = []
        for number, vehicle in enumerate(self.prepared.vehicles):
            stops: list[tuple[_Task, int]] = []
            index = assignment.Value(self.routing.NextVar(self.routing.Start(number)))
            while not self.routing.IsEnd(index):
                task = self.prepared.tasks[self.manager.IndexToNode(index) - len(self.prepared.depots)]
                stops.append((task, assignment.Value(self.time.CumulVar(index))))
                index = assignment.Value(self.routing.NextVar(index))
            if stops:
                routes.append(_Route(vehicle, stops))
        return routes


def _with_break_reserve(problem: Problem, matrix: TravelMatrix) -> TravelMatrix:
    """The matrix with every drive slowed by the model's break reserve, so a plan made on it fits the model."""
    policy = problem.policy
    factor = 1 + policy.break_minutes / max(policy.max_continuous_driving_minutes, 1)
    minutes = tuple(tuple(value * factor for value in row) for row in matrix.minutes)
    return msgspec.structs.replace(matrix, minutes=minutes)


def _handovers(problem: Problem, plan: Plan) -> dict[str, int]:
    """Drop end of each move in a plan, in seconds since the problem's start."""
    return {
        activity.move_id: offset_s(problem, activity.end, 0)
        for run in plan.runs
        for activity in run.activities
        if activity.kind == ActivityKind.DROP and activity.move_id
    }


def _promised_drop_s(problem: Problem, move: Move) -> int | None:
    """The latest drop a move promises (its ``deliver_by`` or cut-off), in seconds; None without one."""
    promises = [offset_s(problem, moment, 0) for moment in (move.deliver_by, move.cutoff) if moment is not None]
    return min(promises) if promises else None


def _search_parameters(settings: SolverSettings, time_limit_s: float) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, settings.first_solution)
    parameters.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, settings.metaheuristic)
    parameters.time_limit.FromMilliseconds(max(int(time_limit_s * 1000), 100))
    return parameters


# From routes to the plan.


# From routes to the plan: the runs are laid out by the schedule simulation (dispatch.solver.timeline),
# which takes the drivers' breaks by the law's rule (20 minutes before driving would pass 4 hours).


@dataclass
class _Route:
    vehicle: _Vehicle
    stops: list[tuple[_Task, int]]


@dataclass
class _Scheduled:
    runs: list[Run]
    unassigned: dict[str, Unassigned]


def _plan(
    problem: Problem,
    matrix: TravelMatrix,
    prepared: _Prepared,
    routes: Sequence[_Route],
    *,
    solver: str,
    objective: int = 0,
) -> Plan:
    scheduled = _schedule(problem, matrix, prepared, routes)
    runs = [*problem.fixed_runs, *scheduled.runs]
    planned = {move_id for run in runs for move_id in run.moves}
    unassigned = {**prepared.unassigned, **scheduled.unassigned}
    for task in prepared.tasks:
        if task.move.id not in planned and task.move.id not in unassigned:
            unassigned[task.move.id] = _why_left_out(task, planned, prepared)
    summary = summarise(problem, runs, unassigned=len(unassigned), objective=objective)
    ordered = [unassigned[move.id] for move in problem.moves if move.id in unassigned]
    return Plan(runs=tuple(runs), unassigned=tuple(ordered), summary=summary, solver=solver)


def _schedule(problem: Problem, matrix: TravelMatrix, prepared: _Prepared, routes: Sequence[_Route]) -> _Scheduled:
    """Lay out the routes; a move that no longer fits (or follows one that does not) is left out.

    Moves are appended in the order of the model's hook times over all routes, so a collect is laid
    out after the position move it follows. A run that cannot get home in time loses its last move,
    and the whole layout is repeated without the moves left out until it is stable.
    """
    excluded: dict[str, Unassigned] = {}
    while True:
        attempt = _lay_out(problem, matrix, prepared, routes, excluded)
        if len(attempt.unassigned) == len(excluded):
            return _lay_out(problem, matrix, prepared, routes, excluded, repair=True)
        excluded = attempt.unassigned


def _lay_out(
    problem: Problem,
    matrix: TravelMatrix,
    prepared: _Prepared,
    routes: Sequence[_Route],
    excluded: dict[str, Unassigned],
    *,
    repair: bool = False,
) -> _Scheduled:
    timeline = Timeline(problem, matrix)
    states = {route.vehicle.tractor.id: [start_run(timeline, route.vehicle.tractor)] for route in routes}
    if repair:
        for vehicle in prepared.vehicles:
            states.setdefault(vehicle.tractor.id, [start_run(timeline, vehicle.tractor)])
    drops = {move_id: (end, trailer) for move_id, (end, trailer) in prepared.known_drops.items() if trailer}
    unassigned = dict(excluded)
    order = sorted(
        (hook_s, number, position)
        for number, route in enumerate(routes)
        for position, (_, hook_s) in enumerate(route.stops)
    )
    for _, number, position in order:
        task, hook_s = routes[number].stops[position]
        if task.move.id in unassigned:
            continue
        leg = _leg(problem, task, drops, not_before_s=hook_s)
        history = states[routes[number].vehicle.tractor.id]
        appended = append_move(timeline, history[-1], leg) if leg is not None else None
        if appended is None:
            unassigned[task.move.id] = _no_longer_fits(task, leg is None)
            continue
        history.append(appended)
        drops[task.move.id] = (appended.last_drop_end_s, leg.trailer_id if leg is not None else "")
    if repair:
        _append_left_over(problem, timeline, prepared, states, drops, unassigned)
    runs = []
    for history in states.values():
        closed = close_run(timeline, history[-1])
        while closed is None and len(history) > 1:
            dropped = history.pop().moves[-1]
            unassigned[dropped] = _unassigned(
                next(task.move for task in prepared.tasks if task.move.id == dropped),
                UnassignedReason.FLEET_FULL,
                "with the drivers' breaks laid out, the tractor would not be home within the shift",
            )
            closed = close_run(timeline, history[-1])
        if closed is not None and closed.moves:
            runs.append(to_run(timeline, closed))
    for task in prepared.tasks:
        after = task.move.after_move
        if after and after in unassigned and task.move.id not in unassigned:
            unassigned[task.move.id] = _follows_unplanned(task.move)
    return _Scheduled(runs=runs, unassigned=unassigned)


def _append_left_over(
    problem: Problem,
    timeline: Timeline,
    prepared: _Prepared,
    states: dict[str, list[RunState]],
    drops: dict[str, tuple[int, str]],
    unassigned: dict[str, Unassigned],
) -> None:
    """Give each move still left out to the tractor that can drop it first, at the end of its run.

    The search may end with moves it could not insert in time (large days); the dispatcher's rule
    (nearest free tractor) places what still fits, so the plan never covers less than it could.
    """
    hazmat = {vehicle.tractor.id for vehicle in prepared.vehicles if vehicle.hazmat}
    used = {trailer for _, trailer in drops.values()}
    by_move: dict[str, list[_Task]] = defaultdict(list)
    for task in prepared.tasks:
        if task.move.id in unassigned and task.move.id not in prepared.unassigned:
            by_move[task.move.id].append(task)
    pending = sorted(by_move.values(), key=lambda tasks: min(task.allowed[0][0] for task in tasks))
    for tasks in pending:
        best: tuple[int, str, RunState, Leg] | None = None
        for task in tasks:
            leg = _leg(problem, task, drops)
            if leg is None or (task.trailer is not None and task.trailer.id in used):
                continue
            for tractor_id, history in states.items():
                if task.move.hazmat and tractor_id not in hazmat:
                    continue
                appended = append_move(timeline, history[-1], leg)
                if appended is None or close_run(timeline, appended) is None:
                    continue
                if best is None or appended.last_drop_end_s < best[0]:
                    best = (appended.last_drop_end_s, tractor_id, appended, leg)
        if best is None:
            continue
        drop_end, tractor_id, appended, leg = best
        states[tractor_id].append(appended)
        drops[leg.move_id] = (drop_end, leg.trailer_id)
        used.add(leg.trailer_id)
        del unassigned[leg.move_id]


def _leg(problem: Problem, task: _Task, drops: dict[str, tuple[int, str]], *, not_before_s: int = 0) -> Leg | None:
    """The task as the schedule simulation sees it; None when the move it follows is not laid out.

    The hook is not laid out before the model's hook time: the model spread the day's waiting so that
    the duty span fits, and its drive times include the break reserve, so the real drive arrives early
    and the driver rests there.
    """
    earliest = max(0, offset_s(problem, task.move.ready_at, 0), not_before_s)
    trailer_id = task.trailer.id if task.trailer is not None else None
    if task.trailer is not None:
        earliest = max(earliest, offset_s(problem, task.trailer.available_from, 0))
    after = task.move.after_move
    if after:
        if after not in drops:
            return None
        drop_end, brought = drops[after]
        earliest = max(earliest, drop_end + math.ceil(task.move.loading_minutes * 60))
        trailer_id = trailer_id or brought
    if trailer_id is None:
        return None
    return Leg(
        move_id=task.move.id,
        trailer_id=trailer_id,
        origin_id=task.origin,
        destination_id=task.destination,
        earliest_hook_s=earliest,
        cutoff_s=None if task.move.cutoff is None else offset_s(problem, task.move.cutoff, 0),
        empty=task.empty_tow,
    )


def _no_longer_fits(task: _Task, waiting_for_another_move: bool) -> Unassigned:
    if waiting_for_another_move:
        return _follows_unplanned(task.move)
    return _unassigned(
        task.move,
        UnassignedReason.FLEET_FULL,
        "with the drivers' breaks laid out, it no longer fits the tractor's day",
    )


def _why_left_out(task: _Task, planned: set[str], prepared: _Prepared) -> Unassigned:
    after = task.move.after_move
    if after and after not in planned and after not in prepared.known_drops:
        return _follows_unplanned(task.move)
    return _unassigned(
        task.move,
        UnassignedReason.FLEET_FULL,
        "no tractor has room for it within its shift, the time windows and the driving-hours limits",
    )
