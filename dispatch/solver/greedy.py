"""The dispatcher's manual method as a baseline: nearest free tractor first, one move at a time.

Moves are taken in order of urgency (earliest promise or cut-off, then ready time); a move that
follows another (a collect after its position move, a second leg of the same trailer) only once that
move is planned. Each move goes to the compatible tractor that can hook it earliest, ties to the one
with the shortest drive to the origin, and is appended to that tractor's run (see
:mod:`dispatch.solver.timeline` for the schedule: breaks, waits, shifts, duty, driving caps and the
drive home). A position move takes the free empty trailer of its type nearest to the destination
that some tractor can fetch in time. A move no tractor can do is unassigned with the reason found
by trying it on fresh tractors with one constraint relaxed at a time.

This is what the OR-Tools planner (:mod:`dispatch.solver.dropandhook`) is measured against.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dispatch.solver.matrix import TravelMatrix, great_circle_matrix
from dispatch.solver.problem import (
    ActivityKind,
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
from dispatch.solver.timeline import Leg, Limits, RunState, Timeline, append_move, close_run, start_run, to_run

__all__ = ("SOLVER_NAME", "plan_greedy")

SOLVER_NAME = "greedy"
POSITION_TRAILERS_TRIED = 4
"""Empty trailers (nearest to the destination first) a position move tries before giving up."""

_NEVER = 10**12


class _UnplannableError(Exception):
    """A move cannot be planned, for a reason known before any tractor is tried."""

    def __init__(self, reason: UnassignedReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class _Done:
    """A planned move: where and when its trailer was dropped."""

    trailer_id: str
    destination_id: str
    drop_end_s: int


@dataclass
class _Dispatch:
    """The state of the day being planned: runs so far, trailers taken, moves done and given up."""

    problem: Problem
    timeline: Timeline
    tractors: dict[str, Tractor]
    trailers: dict[str, Trailer]
    moves: dict[str, Move]
    runs: dict[str, RunState]
    fresh: dict[str, RunState]
    done: dict[str, _Done] = field(default_factory=dict)
    unassigned: dict[str, Unassigned] = field(default_factory=dict)
    trailers_taken: set[str] = field(default_factory=set)
    hazmat_collects: set[str] = field(default_factory=set)
    """Position moves followed by a hazmat collect (their trailer must be hazmat-approved)."""
    fixed_moves: set[str] = field(default_factory=set)
    named_trailers: set[str] = field(default_factory=set)
    """Trailers some move names; position moves leave them alone."""


def plan_greedy(problem: Problem, matrix: TravelMatrix | None = None) -> Plan:
    """Plan the day the way a dispatcher does by hand: each move to the tractor that gets there first.

    Args:
        problem: the day to plan.
        matrix: travel kilometres and minutes between the places; great-circle from the problem's
            matrix spec when omitted.

    Returns:
        A plan in which every move is in one run or unassigned with a reason.
    """
    timeline = Timeline(problem, matrix or great_circle_matrix(problem.places, problem.matrix))
    dispatch = _new_dispatch(problem, timeline)
    _plan_in_order(dispatch)
    for move in problem.moves:
        if not _settled(dispatch, move.id):  # only a cycle of after_move references leaves a move here
            _unassign(dispatch, move, UnassignedReason.DEPENDS_ON_UNASSIGNED, "it waits for a move that is never done")
    return _plan(dispatch)


def _plan_in_order(dispatch: _Dispatch) -> None:
    """Plan the moves most urgent first, each once the moves it follows are planned."""
    dependencies = _dependencies(dispatch)
    dependants = _dependants(dependencies)
    waiting = {move_id: set(needs) for move_id, needs in dependencies.items()}
    order = {move.id: number for number, move in enumerate(dispatch.problem.moves)}
    queue = [(_urgency(dispatch.moves[move_id], order[move_id]), move_id) for move_id in order if not waiting[move_id]]
    heapq.heapify(queue)
    while queue:
        _, move_id = heapq.heappop(queue)
        if _settled(dispatch, move_id):
            continue
        _plan_move(dispatch, dispatch.moves[move_id])
        if move_id in dispatch.unassigned:
            _give_up_after(dispatch, move_id, dependants)
            continue
        for follower in dependants.get(move_id, ()):
            waiting[follower].discard(move_id)
            if not waiting[follower]:
                heapq.heappush(queue, (_urgency(dispatch.moves[follower], order[follower]), follower))


def _settled(dispatch: _Dispatch, move_id: str) -> bool:
    """Planned, unassigned, or part of a fixed run."""
    return move_id in dispatch.done or move_id in dispatch.unassigned or move_id in dispatch.fixed_moves


# --- setting up ------------------------------------------------------------------------------------


def _new_dispatch(problem: Problem, timeline: Timeline) -> _Dispatch:
    fixed_tractors = {run.tractor_id for run in problem.fixed_runs}
    usable = [
        tractor for tractor in problem.tractors if tractor.id not in fixed_tractors and _can_drive(timeline, tractor)
    ]
    fresh = {tractor.id: start_run(timeline, tractor) for tractor in usable}
    dispatch = _Dispatch(
        problem=problem,
        timeline=timeline,
        tractors={tractor.id: tractor for tractor in usable},
        trailers={trailer.id: trailer for trailer in problem.trailers},
        moves={move.id: move for move in problem.moves},
        runs=dict(fresh),
        fresh=fresh,
    )
    _take_fixed_runs(dispatch)
    dispatch.named_trailers = {move.trailer_id for move in problem.moves if move.trailer_id is not None}
    dispatch.hazmat_collects = {
        str(move.after_move) for move in problem.moves if move.hazmat and move.after_move is not None
    }
    return dispatch


def _can_drive(timeline: Timeline, tractor: Tractor) -> bool:
    """A tractor needs a driver the problem knows (and its escort, if it names one) and known places."""
    if timeline.driver(tractor.driver_id) is None:
        return False
    if tractor.escort_id is not None and timeline.driver(tractor.escort_id) is None:
        return False
    return timeline.knows(tractor.home_place_id) and timeline.knows(tractor.start_place_id or tractor.home_place_id)


def _take_fixed_runs(dispatch: _Dispatch) -> None:
    """Runs already under way: their moves are done and their trailers taken."""
    for run in dispatch.problem.fixed_runs:
        dispatch.fixed_moves.update(run.moves)
        for activity in run.activities:
            if activity.trailer_id is not None:
                dispatch.trailers_taken.add(activity.trailer_id)
            if activity.kind is ActivityKind.DROP and activity.move_id is not None and activity.trailer_id:
                dispatch.done[activity.move_id] = _Done(
                    trailer_id=activity.trailer_id,
                    destination_id=activity.place_id,
                    drop_end_s=dispatch.timeline.seconds(activity.end, 0),
                )


def _dependencies(dispatch: _Dispatch) -> dict[str, tuple[str, ...]]:
    """What each move waits for: ``after_move``, and the move that brings its trailer to its origin."""
    bringers: dict[tuple[str, str], str] = {}
    for move in dispatch.problem.moves:
        if move.trailer_id is not None and move.kind is not MoveKind.POSITION:
            bringers.setdefault((move.trailer_id, move.destination_id), move.id)
    dependencies: dict[str, tuple[str, ...]] = {}
    for move in dispatch.problem.moves:
        needs = [move.after_move] if move.after_move is not None else []
        trailer = dispatch.trailers.get(move.trailer_id or "")
        if trailer is not None and move.origin_id not in (None, trailer.place_id):
            bringer = bringers.get((trailer.id, str(move.origin_id)))
            if bringer is not None and bringer != move.id:
                needs.append(bringer)
        dependencies[move.id] = tuple(
            need for need in needs if need not in dispatch.done and need not in dispatch.fixed_moves
        )
    return dependencies


def _dependants(dependencies: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    dependants: dict[str, list[str]] = defaultdict(list)
    for move_id, needs in dependencies.items():
        for need in needs:
            dependants[need].append(move_id)
    return dependants


def _urgency(move: Move, number: int) -> tuple[float, float, int]:
    """Earliest promise or cut-off first, then earliest ready time, then the problem's order."""
    limits = [moment.timestamp() for moment in (move.deliver_by, move.cutoff) if moment is not None]
    ready = move.ready_at.timestamp() if move.ready_at is not None else -math.inf
    return (min(limits) if limits else math.inf, ready, number)


# --- planning one move -----------------------------------------------------------------------------


def _plan_move(dispatch: _Dispatch, move: Move) -> None:
    try:
        legs = _legs(dispatch, move)
        crews = _crews_for(dispatch, move)
    except _UnplannableError as error:
        _unassign(dispatch, move, error.reason, error.detail)
        return
    for leg in legs:
        best = _best_run(dispatch, leg, crews)
        if best is not None:
            _commit(dispatch, move, leg, best)
            return
    reason, detail = _diagnose(dispatch, legs, crews)
    _unassign(dispatch, move, reason, detail)


def _commit(dispatch: _Dispatch, move: Move, leg: Leg, state: RunState) -> None:
    dispatch.runs[state.tractor_id] = state
    dispatch.trailers_taken.add(leg.trailer_id)
    dispatch.done[move.id] = _Done(
        trailer_id=leg.trailer_id, destination_id=leg.destination_id, drop_end_s=state.last_drop_end_s
    )


def _crews_for(dispatch: _Dispatch, move: Move) -> list[str]:
    """The tractors whose unit and crew may do the move (hazmat needs an approved unit, driver, escort)."""
    if not move.hazmat:
        return list(dispatch.tractors)
    crews = [tractor.id for tractor in dispatch.tractors.values() if _hazmat_crew(dispatch, tractor)]
    if not crews:
        raise _UnplannableError(
            UnassignedReason.NO_HAZMAT_CREW,
            "no tractor approved for dangerous goods has a certified driver and escort available",
        )
    return crews


def _hazmat_crew(dispatch: _Dispatch, tractor: Tractor) -> bool:
    driver = dispatch.timeline.driver(tractor.driver_id)
    escort = dispatch.timeline.driver(tractor.escort_id)
    return (
        tractor.hazmat_approved
        and driver is not None
        and Qualification.HAZMAT_DRIVER in driver.qualifications
        and escort is not None
        and Qualification.HAZMAT_ESCORT in escort.qualifications
    )


def _best_run(
    dispatch: _Dispatch, leg: Leg, tractor_ids: Iterable[str], *, fresh: bool = False, limits: Limits = Limits()
) -> RunState | None:
    """The run, among the tractors', that hooks the leg earliest (then with the shortest approach)."""
    runs = dispatch.fresh if fresh else dispatch.runs
    candidates = sorted(
        (_lower_bound(dispatch.timeline, runs[tractor_id], leg), number, tractor_id)
        for number, tractor_id in enumerate(tractor_ids)
    )
    best: RunState | None = None
    best_key = (_NEVER, math.inf)
    for bound, _, tractor_id in candidates:
        if bound >= best_key:
            break
        state = append_move(dispatch.timeline, runs[tractor_id], leg, limits)
        if state is not None and (state.last_hook_s, state.last_approach_km) < best_key:
            best, best_key = state, (state.last_hook_s, state.last_approach_km)
    return best


def _lower_bound(timeline: Timeline, state: RunState, leg: Leg) -> tuple[int, float]:
    """The earliest the tractor could hook the leg, and its approach distance: no run does better."""
    km, seconds = timeline.travel(state.place_id, leg.origin_id)
    return max(state.time_s + seconds, leg.earliest_hook_s), km


# --- resolving a move into legs --------------------------------------------------------------------


def _legs(dispatch: _Dispatch, move: Move) -> list[Leg]:
    """The ways to perform the move: one leg, or one per candidate empty trailer for a position move."""
    if not dispatch.timeline.knows(move.destination_id) or (
        move.origin_id is not None and not dispatch.timeline.knows(move.origin_id)
    ):
        raise _UnplannableError(UnassignedReason.PLACE_UNKNOWN, "its origin or destination is not a known place")
    if move.kind is MoveKind.POSITION:
        return _position_legs(dispatch, move)
    if move.kind is MoveKind.COLLECT and move.after_move is not None:
        return [_collect_leg(dispatch, move)]
    return [_haul_leg(dispatch, move)]


def _move_times(dispatch: _Dispatch, move: Move) -> tuple[int, int | None]:
    """``(earliest hook, cut-off)`` in seconds from the move's own times and the moves it follows."""
    timeline = dispatch.timeline
    earliest = max(0, timeline.seconds(move.ready_at, 0))
    if move.after_move is not None and move.after_move in dispatch.done:
        loading = math.ceil(move.loading_minutes * 60)
        earliest = max(earliest, dispatch.done[move.after_move].drop_end_s + loading)
    cutoff = None if move.cutoff is None else math.floor((move.cutoff - dispatch.problem.start).total_seconds())
    return earliest, cutoff


def _haul_leg(dispatch: _Dispatch, move: Move) -> Leg:
    trailer = _named_trailer(dispatch, move)
    origin = move.origin_id or trailer.place_id
    earliest, cutoff = _move_times(dispatch, move)
    earliest = max(earliest, dispatch.timeline.seconds(trailer.available_from, 0))
    if origin != trailer.place_id:
        brought = [done for done in dispatch.done.values() if done.trailer_id == trailer.id]
        if not brought or brought[-1].destination_id != origin:
            raise _UnplannableError(
                UnassignedReason.TRAILER_ELSEWHERE, f"trailer {trailer.id} stands at {trailer.place_id}, not {origin}"
            )
        earliest = max(earliest, brought[-1].drop_end_s)
    elif trailer.id in dispatch.trailers_taken:
        raise _UnplannableError(UnassignedReason.TRAILER_ELSEWHERE, f"trailer {trailer.id} is taken by another move")
    return Leg(
        move_id=move.id,
        trailer_id=trailer.id,
        origin_id=origin,
        destination_id=move.destination_id,
        earliest_hook_s=earliest,
        cutoff_s=cutoff,
        empty=move.kind is MoveKind.HAUL and not trailer.loaded,
    )


def _named_trailer(dispatch: _Dispatch, move: Move) -> Trailer:
    trailer = dispatch.trailers.get(move.trailer_id or "")
    if trailer is None:
        raise _UnplannableError(
            UnassignedReason.TRAILER_UNKNOWN, f"the move names no known trailer ({move.trailer_id})"
        )
    if trailer.out_of_service:
        raise _UnplannableError(UnassignedReason.TRAILER_OUT_OF_SERVICE, f"trailer {trailer.id} is out of service")
    if move.trailer_type is not None and trailer.type != move.trailer_type:
        raise _UnplannableError(
            UnassignedReason.TRAILER_TYPE_MISMATCH,
            f"the load needs a {move.trailer_type} trailer but trailer {trailer.id} is a {trailer.type}",
        )
    if move.hazmat and not trailer.hazmat_approved:
        raise _UnplannableError(
            UnassignedReason.TRAILER_NOT_HAZMAT_APPROVED,
            f"trailer {trailer.id} is not approved for dangerous goods",
        )
    return trailer


def _collect_leg(dispatch: _Dispatch, move: Move) -> Leg:
    position = dispatch.done.get(str(move.after_move))
    if position is None:
        raise _UnplannableError(UnassignedReason.DEPENDS_ON_UNASSIGNED, f"move {move.after_move} is not planned")
    trailer = dispatch.trailers.get(position.trailer_id)
    if move.origin_id is not None and move.origin_id != position.destination_id:
        raise _UnplannableError(
            UnassignedReason.TRAILER_ELSEWHERE,
            f"move {move.after_move} leaves the trailer at {position.destination_id}, not {move.origin_id}",
        )
    if trailer is not None and move.trailer_type is not None and trailer.type != move.trailer_type:
        raise _UnplannableError(
            UnassignedReason.TRAILER_TYPE_MISMATCH,
            f"the load needs a {move.trailer_type} trailer but move {move.after_move} brought a {trailer.type}",
        )
    if trailer is not None and move.hazmat and not trailer.hazmat_approved:
        raise _UnplannableError(
            UnassignedReason.TRAILER_NOT_HAZMAT_APPROVED, f"trailer {trailer.id} is not approved for dangerous goods"
        )
    earliest, cutoff = _move_times(dispatch, move)
    return Leg(
        move_id=move.id,
        trailer_id=position.trailer_id,
        origin_id=position.destination_id,
        destination_id=move.destination_id,
        earliest_hook_s=earliest,
        cutoff_s=cutoff,
    )


def _position_legs(dispatch: _Dispatch, move: Move) -> list[Leg]:
    earliest, cutoff = _move_times(dispatch, move)
    trailers = _free_empties(dispatch, move)
    nearest = sorted(trailers, key=lambda t: (dispatch.timeline.travel(t.place_id, move.destination_id)[0], t.id))
    return [
        Leg(
            move_id=move.id,
            trailer_id=trailer.id,
            origin_id=trailer.place_id,
            destination_id=move.destination_id,
            earliest_hook_s=max(earliest, dispatch.timeline.seconds(trailer.available_from, 0)),
            cutoff_s=cutoff,
            empty=True,
        )
        for trailer in nearest[:POSITION_TRAILERS_TRIED]
    ]


def _free_empties(dispatch: _Dispatch, move: Move) -> list[Trailer]:
    """Empty trailers of the move's type that no move names and none has taken, away from the destination."""
    if move.trailer_type is None:
        raise _UnplannableError(UnassignedReason.TRAILER_TYPE_MISMATCH, "a position move must name the trailer type")
    hazmat = move.hazmat or move.id in dispatch.hazmat_collects
    suitable = [
        trailer
        for trailer in dispatch.trailers.values()
        if trailer.type == move.trailer_type
        and not trailer.loaded
        and (trailer.hazmat_approved or not hazmat)
        and trailer.id not in dispatch.named_trailers
        and trailer.place_id != move.destination_id
        and move.origin_id in (None, trailer.place_id)
        and dispatch.timeline.knows(trailer.place_id)
    ]
    free = [t for t in suitable if not t.out_of_service and t.id not in dispatch.trailers_taken]
    if free:
        return free
    kind = f"{'hazmat-approved ' if hazmat else ''}{move.trailer_type}"
    untaken = [trailer for trailer in suitable if trailer.id not in dispatch.trailers_taken]
    if untaken and all(trailer.out_of_service for trailer in untaken):
        raise _UnplannableError(
            UnassignedReason.TRAILER_OUT_OF_SERVICE, f"every free empty {kind} trailer is out of service"
        )
    raise _UnplannableError(UnassignedReason.NO_EMPTY_TRAILER, f"no free empty {kind} trailer is left")


# --- why a move does not fit -----------------------------------------------------------------------


def _diagnose(dispatch: _Dispatch, legs: list[Leg], crews: list[str]) -> tuple[UnassignedReason, str]:
    """Try the move on fresh tractors, relaxing one constraint at a time, to name what stops it."""
    if not crews:
        return UnassignedReason.NO_TRACTOR, "no tractor with a known driver is available"
    if _fits_somewhere(dispatch, legs, crews, Limits()):
        return UnassignedReason.FLEET_FULL, "every tractor that could do it is busy with other moves"
    if _fits_somewhere(dispatch, legs, crews, Limits(cutoff=False)):
        return UnassignedReason.CUTOFF_UNREACHABLE, _cutoff_detail(dispatch, legs, crews)
    if _fits_somewhere(dispatch, legs, crews, Limits(cutoff=False, opening_hours=False)):
        return UnassignedReason.WINDOW_CLOSED, "the origin or destination is closed whenever a tractor could be there"
    return UnassignedReason.NO_TRACTOR, "no tractor's shift, duty or driving hours leave room for it"


def _fits_somewhere(dispatch: _Dispatch, legs: list[Leg], crews: list[str], limits: Limits) -> bool:
    return any(_best_run(dispatch, leg, crews, fresh=True, limits=limits) is not None for leg in legs)


def _cutoff_detail(dispatch: _Dispatch, legs: list[Leg], crews: list[str]) -> str:
    drops = [
        state.last_drop_end_s
        for leg in legs
        if (state := _best_run(dispatch, leg, crews, fresh=True, limits=Limits(cutoff=False))) is not None
    ]
    cutoff = legs[0].cutoff_s or 0
    late_min = max(0, min(drops) - cutoff) / 60 if drops else 0.0
    return f"even a free tractor would drop it {late_min:.0f} min after the cut-off"


def _unassign(dispatch: _Dispatch, move: Move, reason: UnassignedReason, detail: str) -> None:
    dispatch.unassigned[move.id] = Unassigned(move_id=move.id, reason=reason, detail=f"Move {move.id}: {detail}.")


def _give_up_after(dispatch: _Dispatch, earlier: str, dependants: dict[str, list[str]]) -> None:
    """The moves waiting for an unassigned move are unassigned too, and so are the moves waiting for them."""
    for follower in dependants.get(earlier, ()):
        if _settled(dispatch, follower):
            continue
        detail = f"it follows move {earlier}, which is unassigned"
        _unassign(dispatch, dispatch.moves[follower], UnassignedReason.DEPENDS_ON_UNASSIGNED, detail)
        _give_up_after(dispatch, follower, dependants)


# --- the plan --------------------------------------------------------------------------------------


def _plan(dispatch: _Dispatch) -> Plan:
    runs = [*dispatch.problem.fixed_runs, *_closed_runs(dispatch)]
    unassigned = tuple(
        dispatch.unassigned[move.id] for move in dispatch.problem.moves if move.id in dispatch.unassigned
    )
    return Plan(
        runs=tuple(runs),
        unassigned=unassigned,
        summary=summarise(dispatch.problem, runs, unassigned=len(unassigned)),
        solver=SOLVER_NAME,
    )


def _closed_runs(dispatch: _Dispatch) -> Iterator[Run]:
    for tractor_id in dispatch.tractors:
        state = dispatch.runs[tractor_id]
        if not state.moves:
            continue
        closed = close_run(dispatch.timeline, state)
        if closed is None:  # cannot happen: every appended move kept the drive home within limits
            raise RuntimeError(f"tractor {tractor_id}: the run cannot return home")
        yield to_run(dispatch.timeline, closed)
