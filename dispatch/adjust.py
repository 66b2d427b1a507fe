"""The dispatcher's changes to a plan: a trailer move to another tractor, or to another place in its run.

Pure code, no I/O. :func:`rearrange` takes a move out of its run (or out of the unassigned list),
puts it into a tractor's run at a position, retimes the runs it changed with
:mod:`dispatch.solver.timeline` and reports what the new plan breaks, using the independent
checker (:mod:`dispatch.solver.plan_check`).

A run is always timed, feasible or not, so that the checker can say what breaks: each move is
appended as the planner would; if it does not fit, again with the cut-off and opening hours
relaxed; and if it still does not fit (shift, duty or driving hours), laid out as is: drive to the
origin (with a break where continuous driving is due), wait until the move is ready, hook, drive,
drop. The drive home closes the run the same way.

Trailers: a move keeps the trailer the plan hooked for it. An unassigned move put on a tractor
takes the trailer it names; a collect after a position move the trailer that move hooked; a position
move the nearest free empty trailer of its type to its destination (the greedy planner's choice):
not loaded, in service, hazmat-approved when it or the collect after it carries dangerous goods,
named by no move and hooked by no run of the plan.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from dispatch.solver.matrix import TravelMatrix
from dispatch.solver.plan_check import find_plan_violations, late_moves, plan_figures
from dispatch.solver.problem import (
    ActivityKind,
    Move,
    MoveKind,
    Plan,
    PlanSummary,
    Problem,
    Run,
    Tractor,
    Trailer,
)
from dispatch.solver.timeline import (
    Leg,
    Limits,
    RunState,
    Step,
    Timeline,
    append_move,
    close_run,
    start_run,
    to_run,
)

__all__ = (
    "ADJUSTED_SOLVER",
    "Adjustment",
    "PlanChange",
    "UnknownIdError",
    "Violation",
    "check_plan",
    "describe_violations",
    "rearrange",
    "retime_run",
)

ADJUSTED_SOLVER = "adjusted"
"""``Plan.solver`` of a plan the dispatcher changed."""

_RELAXED = Limits(cutoff=False, opening_hours=False)
_DELAY_PROBES = 8
"""Delays of a run's start tried (fractions of its waiting) before narrowing down the best one."""
_TRACTOR_MENTION = re.compile(r"\btractor ([^\s:,;()']+)")
_MOVE_MENTION = re.compile(r"\bmove ([^\s:,;()']+)")


class UnknownIdError(ValueError):
    """A tractor, move, trailer or place id that the problem (or the plan) does not know."""


class Violation(msgspec.Struct, kw_only=True, frozen=True):
    """One violation sentence and the tractor and move it names first, when the problem knows them."""

    text: str
    tractor_id: str | None = None
    move_id: str | None = None


class PlanChange(msgspec.Struct, kw_only=True, frozen=True):
    """The adjusted plan's figures minus the figures before (negative is fewer, shorter)."""

    tractors_used: int
    moves_unassigned: int
    late_moves: int
    km: float
    deadhead_km: float
    duty_minutes: float


class Adjustment(msgspec.Struct, kw_only=True, frozen=True):
    """A plan after one change by the dispatcher, and what it breaks."""

    plan: Plan
    """The new plan: retimed runs, recomputed summary, ``solver="adjusted"``."""
    violations: list[str]
    """Every feasibility violation of the new plan (empty when feasible); late moves are not among them."""
    late_moves: list[str]
    """Moves dropped after their ``deliver_by``."""
    details: list[Violation]
    """The violations again, each with the tractor and move it names (for the page to show plates)."""
    move_id: str
    from_tractor_id: str | None
    """The tractor whose run had the move, None when it was unassigned."""
    to_tractor_id: str
    before: PlanSummary
    """The figures of the plan before the change (recomputed, as the new summary is)."""
    change: PlanChange


def check_plan(problem: Problem, plan: Plan, matrix: TravelMatrix) -> tuple[list[str], list[str]]:
    """``(violations, late move ids)`` of a plan: what makes it infeasible, and what it delivers late."""
    return find_plan_violations(problem, plan, matrix), late_moves(problem, plan)


def describe_violations(problem: Problem, violations: Iterable[str]) -> list[Violation]:
    """Each sentence with the first tractor and move it names that the problem knows."""
    tractors = {tractor.id for tractor in problem.tractors}
    moves = {move.id for move in problem.moves} | {move_id for run in problem.fixed_runs for move_id in run.moves}
    return [
        Violation(
            text=text,
            tractor_id=_first_mention(_TRACTOR_MENTION, text, tractors),
            move_id=_first_mention(_MOVE_MENTION, text, moves),
        )
        for text in violations
    ]


def _first_mention(pattern: re.Pattern[str], text: str, known: set[str]) -> str | None:
    return next((match for match in pattern.findall(text) if match in known), None)


# --- retiming one run ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Drop:
    """Where and when a move left its trailer (seconds since the problem's start)."""

    trailer_id: str | None
    place_id: str
    end_s: int


def retime_run(
    problem: Problem,
    matrix: TravelMatrix,
    *,
    tractor_id: str,
    moves: Sequence[str],
    trailers: Mapping[str, str],
    elsewhere: Iterable[Run] = (),
    not_before: Mapping[str, datetime] | None = None,
) -> Run:
    """The tractor's run (with the tractor's crew) performing ``moves`` in this order, timed.

    Each move is timed as the planner would; one that does not fit is still laid out (see the module
    docstring), so the run may break rules: :func:`check_plan` says which.

    Args:
        problem: the planning problem.
        matrix: its travel matrix.
        tractor_id: the tractor.
        moves: move ids in the order to perform them.
        trailers: the trailer each move hooks; a move missing here hooks the trailer it names, or for a
            collect after a position move the trailer that move dropped.
        elsewhere: the plan's other runs: a collect waits for the drop of the move it follows and a haul
            for the drop that brings its trailer to its origin, when those are in these runs.
        not_before: hook times to keep where they still fit (the plan's times, so that the rest of the
            day stays as planned); the run is timed without them when they make a move not fit.

    Raises:
        UnknownIdError: a tractor, move, trailer or place the problem (or the matrix) does not know.
        ValueError: a move whose trailer cannot be told.
    """
    timeline = Timeline(problem, matrix)
    index = _Index.of(problem)
    tractor = index.tractor(tractor_id)
    for place_id in (tractor.home_place_id, tractor.start_place_id or tractor.home_place_id):
        _require_place(timeline, place_id)
    drops = {move_id: drop for move_id, drop in _drops(timeline, elsewhere).items() if move_id not in moves}
    hints = {move_id: timeline.seconds(moment, 0) for move_id, moment in (not_before or {}).items()}
    best = _started_later(timeline, index, tractor, moves, trailers, drops, hints)
    if best.broken and hints:
        unhinted = _started_later(timeline, index, tractor, moves, trailers, drops, {})
        best = min(best, unhinted, key=lambda timed: timed.key)
    return to_run(timeline, best.state)


@dataclass(frozen=True, slots=True)
class _Timed:
    """A closed run and how many of its moves (and the drive home) did not fit the rules."""

    state: RunState
    broken: int

    @property
    def key(self) -> tuple[int, int]:
        """Fewer moves against the rules first, then a shorter time on duty."""
        steps = self.state.steps
        return self.broken, (steps[-1].end_s - steps[0].start_s) if steps else 0


def _started_later(
    timeline: Timeline,
    index: _Index,
    tractor: Tractor,
    moves: Sequence[str],
    trailers: Mapping[str, str],
    drops: Mapping[str, _Drop],
    hints: Mapping[str, int],
) -> _Timed:
    """The run timed; when it breaks a rule, with the first hook delayed as little as fixes what a delay can.

    A delay turns waiting into a later start, which shortens the time on duty. A run that fits is left
    as timed: starting later drops later, and moves in other runs may wait for those drops.
    """
    timed = _timed(timeline, index, tractor, moves, trailers, drops, hints)
    steps = timed.state.steps
    waiting = sum(step.end_s - step.start_s for step in steps if step.kind is ActivityKind.WAIT)
    first_hook = next((step.start_s for step in steps if step.kind is ActivityKind.HOOK), None)
    if not timed.broken or not waiting or first_hook is None:
        return timed

    def delayed(delay_s: int) -> _Timed:
        later = {**hints, moves[0]: first_hook + delay_s}
        return _timed(timeline, index, tractor, moves, trailers, drops, later)

    probes = [
        (delay, delayed(delay)) for delay in (waiting * step // _DELAY_PROBES for step in range(1, 1 + _DELAY_PROBES))
    ]
    fewest = min(attempt.broken for _, attempt in probes)
    if fewest >= timed.broken:
        return timed
    first = next(number for number, (_, attempt) in enumerate(probes) if attempt.broken == fewest)
    low, (high, best) = (probes[first - 1][0] if first else 0), probes[first]
    while high - low > 60:  # the smallest delay, to the minute, that breaks as little
        middle = (low + high) // 2
        attempt = delayed(middle)
        if attempt.broken <= fewest:
            high, best = middle, attempt
        else:
            low = middle
    return best


def _timed(
    timeline: Timeline,
    index: _Index,
    tractor: Tractor,
    moves: Sequence[str],
    trailers: Mapping[str, str],
    drops: Mapping[str, _Drop],
    hints: Mapping[str, int],
) -> _Timed:
    known = dict(drops)
    state, broken = start_run(timeline, tractor), 0
    for move_id in moves:
        leg = _leg(timeline, index, index.move(move_id), trailers.get(move_id), known)
        if move_id in hints:
            leg = dataclasses.replace(leg, earliest_hook_s=max(leg.earliest_hook_s, hints[move_id]))
        appended = append_move(timeline, state, leg)
        broken += appended is None
        state = appended or append_move(timeline, state, leg, _RELAXED) or _force_move(timeline, state, leg)
        known[move_id] = _Drop(leg.trailer_id, leg.destination_id, state.last_drop_end_s)
    closed = close_run(timeline, state)
    return _Timed(closed or _force_home(timeline, state), broken + (closed is None))


@dataclass(frozen=True)
class _Index:
    """The problem's tractors, trailers and moves by id."""

    tractors: dict[str, Tractor]
    trailers: dict[str, Trailer]
    moves: dict[str, Move]

    @classmethod
    def of(cls, problem: Problem) -> _Index:
        return cls(
            tractors={tractor.id: tractor for tractor in problem.tractors},
            trailers={trailer.id: trailer for trailer in problem.trailers},
            moves={move.id: move for move in problem.moves},
        )

    def tractor(self, tractor_id: str) -> Tractor:
        if tractor_id not in self.tractors:
            raise UnknownIdError(f"tractor {tractor_id} is not in the problem")
        return self.tractors[tractor_id]

    def move(self, move_id: str) -> Move:
        if move_id not in self.moves:
            raise UnknownIdError(f"move {move_id} is not in the problem")
        return self.moves[move_id]

    def trailer(self, trailer_id: str) -> Trailer:
        if trailer_id not in self.trailers:
            raise UnknownIdError(f"trailer {trailer_id} is not in the problem")
        return self.trailers[trailer_id]


def _require_place(timeline: Timeline, place_id: str) -> None:
    if not timeline.knows(place_id):
        raise UnknownIdError(f"place {place_id} is not in the problem or the travel matrix")


def _drops(timeline: Timeline, runs: Iterable[Run]) -> dict[str, _Drop]:
    """The drop of every move in the runs."""
    return {
        activity.move_id: _Drop(activity.trailer_id, activity.place_id, timeline.seconds(activity.end, 0))
        for run in runs
        for activity in run.activities
        if activity.kind is ActivityKind.DROP and activity.move_id is not None
    }


def _leg(timeline: Timeline, index: _Index, move: Move, trailer_id: str | None, drops: Mapping[str, _Drop]) -> Leg:
    """The move resolved for scheduling: its trailer, origin, earliest hook, cut-off."""
    after = drops.get(move.after_move) if move.after_move is not None else None
    trailer_id = trailer_id or move.trailer_id or (after.trailer_id if after is not None else None)
    if trailer_id is None:
        raise ValueError(f"move {move.id}: no trailer is given for it")
    trailer = index.trailer(trailer_id)
    origin = _origin(index, move, trailer)
    for place_id in (origin, move.destination_id):
        _require_place(timeline, place_id)
    earliest = max(0, timeline.seconds(move.ready_at, 0), timeline.seconds(trailer.available_from, 0))
    if after is not None:
        earliest = max(earliest, after.end_s + math.ceil(move.loading_minutes * 60))
    if origin != trailer.place_id:
        brought = [drop.end_s for drop in drops.values() if drop.trailer_id == trailer.id and drop.place_id == origin]
        earliest = max([earliest, *brought[-1:]])
    return Leg(
        move_id=move.id,
        trailer_id=trailer.id,
        origin_id=origin,
        destination_id=move.destination_id,
        earliest_hook_s=earliest,
        cutoff_s=None if move.cutoff is None else math.floor((move.cutoff - timeline.problem.start).total_seconds()),
        empty=move.kind is MoveKind.POSITION or (move.kind is MoveKind.HAUL and not trailer.loaded),
    )


def _origin(index: _Index, move: Move, trailer: Trailer) -> str:
    """A collect after a position move hooks where that move dropped; others at their origin or the trailer."""
    if move.kind is MoveKind.COLLECT and move.after_move in index.moves:
        return index.moves[str(move.after_move)].destination_id
    return move.origin_id or trailer.place_id


@dataclass
class _Forced:
    """Steps laid out one after the other with no limit checked, only the break the law makes due."""

    timeline: Timeline
    place_id: str
    time_s: int
    driving_s: int
    continuous_s: int
    rest_s: int
    steps: list[Step] = field(default_factory=list)

    @classmethod
    def after(cls, timeline: Timeline, state: RunState) -> _Forced:
        return cls(timeline, state.place_id, state.time_s, state.driving_s, state.continuous_s, state.rest_s)

    def rest(self, kind: ActivityKind, until_s: int, *, trailer_id: str | None, move_id: str | None) -> None:
        if until_s <= self.time_s:
            return
        self.steps.append(Step(kind, self.time_s, until_s, self.place_id, move_id=move_id, trailer_id=trailer_id))
        self.rest_s += until_s - self.time_s
        self.time_s = until_s
        if self.rest_s >= self.timeline.break_s:
            self.continuous_s = 0

    def drive(self, to: str, *, trailer_id: str | None, move_id: str | None, empty: bool) -> float:
        """Drive to ``to`` (a break first when the drive would go over the continuous limit); the km."""
        if to == self.place_id:
            return 0.0
        km, seconds = self.timeline.travel(self.place_id, to)
        if self.continuous_s and self.continuous_s + seconds > self.timeline.max_continuous_s:
            self.rest(ActivityKind.BREAK, self.time_s + self.timeline.break_s, trailer_id=trailer_id, move_id=move_id)
        self.steps.append(
            Step(
                ActivityKind.DRIVE,
                self.time_s,
                self.time_s + seconds,
                self.place_id,
                to_place_id=to,
                move_id=move_id,
                trailer_id=trailer_id,
                km=km,
                deadhead=trailer_id is None or empty,
            )
        )
        self.place_id, self.time_s = to, self.time_s + seconds
        self.driving_s += seconds
        self.continuous_s += seconds
        self.rest_s = 0
        return km

    def handle(self, kind: ActivityKind, leg: Leg, duration_s: int) -> None:
        self.steps.append(
            Step(
                kind,
                self.time_s,
                self.time_s + duration_s,
                self.place_id,
                move_id=leg.move_id,
                trailer_id=leg.trailer_id,
            )
        )
        self.time_s += duration_s
        self.rest_s = 0

    def state(self, before: RunState) -> RunState:
        """``before`` carried on with the steps laid out."""
        return dataclasses.replace(
            before,
            place_id=self.place_id,
            time_s=self.time_s,
            steps=before.steps + tuple(self.steps),
            driving_s=self.driving_s,
            continuous_s=self.continuous_s,
            rest_s=self.rest_s,
        )


def _force_move(timeline: Timeline, state: RunState, leg: Leg) -> RunState:
    """The move laid out as is: drive to the origin, wait until it is ready, hook, drive, drop."""
    forced = _Forced.after(timeline, state)
    if not state.started:  # leave as late as the hook allows, not to begin the duty with a wait
        forced.time_s = max(state.earliest_s, leg.earliest_hook_s - timeline.travel(state.place_id, leg.origin_id)[1])
    approach_km = forced.drive(leg.origin_id, trailer_id=None, move_id=None, empty=False)
    forced.rest(ActivityKind.WAIT, leg.earliest_hook_s, trailer_id=None, move_id=None)
    hook_s = forced.time_s
    forced.handle(ActivityKind.HOOK, leg, timeline.hook_s)
    forced.drive(leg.destination_id, trailer_id=leg.trailer_id, move_id=leg.move_id, empty=leg.empty)
    forced.handle(ActivityKind.DROP, leg, timeline.drop_s)
    return dataclasses.replace(
        forced.state(state),
        moves=(*state.moves, leg.move_id),
        last_hook_s=hook_s,
        last_drop_end_s=forced.time_s,
        last_approach_km=approach_km,
    )


def _force_home(timeline: Timeline, state: RunState) -> RunState:
    """The drive home appended whatever it breaks (when the policy asks for it)."""
    forced = _Forced.after(timeline, state)
    if timeline.return_home and state.started:
        forced.drive(state.home_id, trailer_id=None, move_id=None, empty=False)
    return forced.state(state)


# --- moving a move ---------------------------------------------------------------------------------


def rearrange(
    problem: Problem, plan: Plan, matrix: TravelMatrix, *, move_id: str, tractor_id: str, position: int
) -> Adjustment:
    """The plan with the move at ``position`` (0-based, clamped) in the tractor's run, and what it breaks.

    The same tractor reorders its run; another takes the move out of its run (a run left empty
    disappears), or out of the unassigned list; a tractor without a run gets one. Both runs are
    retimed (see :func:`retime_run`); the other runs stay as they are. The summary is recomputed
    with :func:`~dispatch.solver.plan_check.plan_figures`.

    Raises:
        UnknownIdError: the move or the tractor is not in the problem, or the move in no run and not
            unassigned.
        ValueError: the move or the tractor is in a run already under way (``problem.fixed_runs``), or
            a position move finds no free empty trailer.
    """
    index = _Index.of(problem)
    move, _ = index.move(move_id), index.tractor(tractor_id)
    source = next((run for run in plan.runs if move_id in run.moves), None)
    if source is None and move_id not in {entry.move_id for entry in plan.unassigned}:
        raise UnknownIdError(f"move {move_id} is in no run of the plan and not unassigned")
    target = next((run for run in plan.runs if run.tractor_id == tractor_id), None)
    for run in (source, target):
        if run is not None and run in problem.fixed_runs:
            raise ValueError(f"the run of tractor {run.tractor_id} is under way and cannot change")
    trailers = _hooked_trailers(plan)
    if move_id not in trailers:
        trailers[move_id] = _trailer_for(Timeline(problem, matrix), index, plan, move, trailers)
    orders = _new_orders(source, target, move_id, tractor_id, position)
    if target is not None and orders == {tractor_id: list(target.moves)}:
        orders = {}  # the move stays where it is: nothing to retime
    hooks = {move: hook for move, hook in _hook_times(plan).items() if move != move_id}
    runs = _retimed(problem, matrix, plan.runs, orders, trailers, hooks)
    unassigned = tuple(entry for entry in plan.unassigned if entry.move_id != move_id)
    adjusted = _with_figures(problem, matrix, Plan(runs=runs, unassigned=unassigned, summary=plan.summary))
    violations, late = check_plan(problem, adjusted, matrix)
    before = plan_figures(problem, plan, matrix)
    return Adjustment(
        plan=adjusted,
        violations=violations,
        late_moves=late,
        details=describe_violations(problem, violations),
        move_id=move_id,
        from_tractor_id=source.tractor_id if source is not None else None,
        to_tractor_id=tractor_id,
        before=before,
        change=_change(before, adjusted.summary),
    )


def _hooked_trailers(plan: Plan) -> dict[str, str]:
    """The trailer each planned move hooks."""
    return {
        activity.move_id: activity.trailer_id
        for run in plan.runs
        for activity in run.activities
        if activity.kind is ActivityKind.HOOK and activity.move_id is not None and activity.trailer_id is not None
    }


def _hook_times(plan: Plan) -> dict[str, datetime]:
    """When each planned move is hooked."""
    return {
        activity.move_id: activity.start
        for run in plan.runs
        for activity in run.activities
        if activity.kind is ActivityKind.HOOK and activity.move_id is not None
    }


def _trailer_for(timeline: Timeline, index: _Index, plan: Plan, move: Move, hooked: Mapping[str, str]) -> str:
    """The trailer an unassigned move takes (see the module docstring)."""
    if move.kind is MoveKind.COLLECT and move.after_move is not None:
        if move.after_move not in hooked:
            raise ValueError(f"move {move.id} collects the trailer of move {move.after_move}, which is not planned")
        return hooked[move.after_move]
    if move.kind is not MoveKind.POSITION and move.trailer_id is not None:
        return move.trailer_id
    if move.trailer_type is None:
        raise ValueError(f"move {move.id} names neither a trailer nor a trailer type")
    taken = {
        *hooked.values(),
        *(m.trailer_id for m in index.moves.values() if m.trailer_id and m.kind is not MoveKind.POSITION),
        *(a.trailer_id for run in plan.runs for a in run.activities if a.trailer_id is not None),
    }
    hazmat = move.hazmat or any(m.hazmat and m.after_move == move.id for m in index.moves.values())
    free = [
        trailer
        for trailer in index.trailers.values()
        if trailer.type == move.trailer_type
        and not (trailer.loaded or trailer.out_of_service or trailer.id in taken)
        and (trailer.hazmat_approved or not hazmat)
        and move.origin_id in (None, trailer.place_id)
        and trailer.place_id != move.destination_id
        and timeline.knows(trailer.place_id)
    ]
    if not timeline.knows(move.destination_id):
        raise UnknownIdError(f"place {move.destination_id} is not in the problem or the travel matrix")
    if not free:
        kind = f"{'hazmat-approved ' if hazmat else ''}{move.trailer_type}"
        raise ValueError(f"move {move.id}: no free empty {kind} trailer is left")
    nearest = min(free, key=lambda trailer: (timeline.travel(trailer.place_id, move.destination_id)[0], trailer.id))
    return nearest.id


def _new_orders(
    source: Run | None, target: Run | None, move_id: str, tractor_id: str, position: int
) -> dict[str, list[str]]:
    """The new move lists of the runs that change: the source's (first) and the target's."""
    orders: dict[str, list[str]] = {}
    if source is not None and source.tractor_id != tractor_id:
        orders[source.tractor_id] = [other for other in source.moves if other != move_id]
    moves = [other for other in (target.moves if target is not None else ()) if other != move_id]
    moves.insert(max(0, min(position, len(moves))), move_id)
    orders[tractor_id] = moves
    return orders


def _retimed(
    problem: Problem,
    matrix: TravelMatrix,
    runs: Sequence[Run],
    orders: Mapping[str, list[str]],
    trailers: Mapping[str, str],
    hooks: Mapping[str, datetime],
) -> tuple[Run, ...]:
    """The runs with the changed ones retimed (a second round when two change, as one may wait for the other)."""
    current: dict[str, Run | None] = {run.tractor_id: run for run in runs}
    for _ in range(min(2, len(orders))):
        for tractor_id, moves in orders.items():
            others = [run for other_id, run in current.items() if other_id != tractor_id and run is not None]
            current[tractor_id] = (
                retime_run(
                    problem,
                    matrix,
                    tractor_id=tractor_id,
                    moves=moves,
                    trailers=trailers,
                    elsewhere=others,
                    not_before=hooks,
                )
                if moves
                else None
            )
    kept = [current[run.tractor_id] for run in runs]
    added = [run for tractor_id, run in current.items() if tractor_id not in {r.tractor_id for r in runs}]
    return tuple(run for run in (*kept, *added) if run is not None)


def _with_figures(problem: Problem, matrix: TravelMatrix, plan: Plan) -> Plan:
    summary = plan_figures(problem, plan, matrix)
    return msgspec.structs.replace(plan, summary=summary, solver=ADJUSTED_SOLVER)


def _change(before: PlanSummary, after: PlanSummary) -> PlanChange:
    return PlanChange(
        tractors_used=after.tractors_used - before.tractors_used,
        moves_unassigned=after.moves_unassigned - before.moves_unassigned,
        late_moves=after.late_moves - before.late_moves,
        km=round(after.km - before.km, 3),
        deadhead_km=round(after.deadhead_km - before.deadhead_km, 3),
        duty_minutes=round(after.duty_minutes - before.duty_minutes, 3),
    )
