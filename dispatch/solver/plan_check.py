"""An independent feasibility checker for drop-and-hook plans.

It reads only the problem, the plan and the travel matrix, and shares no logic with any solver: every
rule is checked again from the definitions in :mod:`dispatch.solver.problem`. Each violation is an
English sentence that names the run (by tractor), the move and the activity, for example
``tractor T07: move M12 dropped at 2026-11-23 18:40+08:00 after the cut-off 18:00+08:00``.

Runs of ``Problem.fixed_runs`` that the plan keeps unchanged are taken as facts: their own timing is
not checked again, but their moves count as planned and their trailers take part in the trailer
timelines.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from dispatch.solver.matrix import TravelMatrix
from dispatch.solver.problem import (
    Activity,
    ActivityKind,
    Driver,
    Move,
    MoveKind,
    Place,
    Plan,
    PlanSummary,
    Policy,
    Problem,
    Qualification,
    Run,
    Tractor,
    Trailer,
)

__all__ = (
    "DRIVE_MINUTES_TOLERANCE",
    "KM_TOLERANCE",
    "KM_TOLERANCE_FRACTION",
    "TIME_TOLERANCE",
    "find_plan_violations",
    "late_moves",
    "plan_figures",
)

TIME_TOLERANCE = timedelta(seconds=1)
"""Slack on every comparison of times."""
KM_TOLERANCE = 0.01
"""Absolute slack on distances, in kilometres (added to the relative slack)."""
KM_TOLERANCE_FRACTION = 0.001
"""Relative slack on distances (0.1 %)."""
DRIVE_MINUTES_TOLERANCE = 1.0
"""How far a drive's duration may be from the matrix minutes, either way (solvers round to the minute)."""

_TOLERANCE_MINUTES = TIME_TOLERANCE.total_seconds() / 60
_MINUTES_PER_DAY = 24 * 60
_HANDLING_KINDS = (ActivityKind.HOOK, ActivityKind.DROP)
_REST_KINDS = (ActivityKind.WAIT, ActivityKind.BREAK)


def find_plan_violations(problem: Problem, plan: Plan, matrix: TravelMatrix) -> list[str]:
    """Every reason the plan is not feasible for the problem; empty when feasible.

    Late moves (dropped after ``deliver_by``) are not violations; :func:`late_moves` lists them.

    Args:
        problem: the planning problem.
        plan: the plan to check; it may be malformed (unknown ids, broken timelines): the checker
            reports that and never raises.
        matrix: the travel matrix the plan was made with.

    Returns:
        Readable sentences, one per violation, in the order: times, coverage, runs, trailers, summary.
    """
    untimed = _untimed_violations(problem, plan)
    if untimed:
        return untimed  # times without a zone cannot be compared with the others
    facts = _Facts.of(problem, matrix)
    walks = [_walk(run, fixed=facts.is_fixed(run)) for run in plan.runs]
    planned = _Planned.of(plan, walks)
    violations = [*facts.setup_problems, *_coverage_violations(facts, plan)]
    for run, walk in zip(plan.runs, walks, strict=True):
        if not walk.fixed:
            violations += [f"tractor {run.tractor_id}: {text}" for text in _run_violations(facts, planned, run, walk)]
    violations += _trailer_violations(facts, [tow for walk in walks for tow in walk.tows])
    violations += _summary_violations(plan.summary, _figures(facts, plan, walks))
    return violations


def late_moves(problem: Problem, plan: Plan) -> list[str]:
    """The ids of the moves dropped after their ``deliver_by``, in plan order (each once)."""
    deliver_by = {move.id: move.deliver_by for move in problem.moves if move.deliver_by is not None}
    late: dict[str, None] = {}
    for run in plan.runs:
        for activity in run.activities:
            promised = deliver_by.get(activity.move_id or "")
            if activity.kind != ActivityKind.DROP or promised is None or not _is_aware(activity.end):
                continue
            if activity.end > promised + TIME_TOLERANCE:
                late[str(activity.move_id)] = None
    return list(late)


def plan_figures(problem: Problem, plan: Plan, matrix: TravelMatrix) -> PlanSummary:
    """The plan's figures recomputed from its runs (``objective`` is left at 0).

    ``km`` and ``deadhead_km`` use the matrix distance of every drive (the drive's own ``km`` when
    a place is missing from the matrix); deadhead is bobtail driving plus towing an empty trailer (a
    position move, or a haul of a trailer the problem lists as not loaded). ``duty_minutes`` sums
    each run's span from its first start to its last end.
    """
    facts = _Facts.of(problem, matrix)
    return _figures(facts, plan, [_walk(run, fixed=facts.is_fixed(run)) for run in plan.runs])


# --- what the checker knows ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """The problem and matrix, indexed by id."""

    problem: Problem
    matrix: TravelMatrix
    matrix_rows: dict[str, int]
    places: dict[str, Place]
    tractors: dict[str, Tractor]
    drivers: dict[str, Driver]
    trailers: dict[str, Trailer]
    moves: dict[str, Move]
    moves_to_cover: tuple[str, ...]
    """Problem moves and the moves of fixed runs, each once."""
    zone: tzinfo | None
    setup_problems: tuple[str, ...]

    @classmethod
    def of(cls, problem: Problem, matrix: TravelMatrix) -> _Facts:
        zone = _zone(problem.policy.timezone)
        fixed_moves = (move_id for run in problem.fixed_runs for move_id in run.moves)
        return cls(
            problem=problem,
            matrix=matrix,
            matrix_rows={place_id: row for row, place_id in enumerate(matrix.place_ids)},
            places={place.id: place for place in problem.places},
            tractors={tractor.id: tractor for tractor in problem.tractors},
            drivers={driver.id: driver for driver in problem.drivers},
            trailers={trailer.id: trailer for trailer in problem.trailers},
            moves={move.id: move for move in problem.moves},
            moves_to_cover=tuple(dict.fromkeys([*(move.id for move in problem.moves), *fixed_moves])),
            zone=zone,
            setup_problems=() if zone else (f"the policy time zone {problem.policy.timezone!r} is unknown",),
        )

    @property
    def policy(self) -> Policy:
        return self.problem.policy

    def is_fixed(self, run: Run) -> bool:
        """Whether the run is one of the problem's fixed runs, unchanged."""
        return run in self.problem.fixed_runs

    def travel(self, origin: str, destination: str) -> tuple[float, float] | None:
        """``(km, minutes)`` from the matrix, or None when a place has no row."""
        row, column = self.matrix_rows.get(origin), self.matrix_rows.get(destination)
        if row is None or column is None:
            return None
        try:
            return self.matrix.km[row][column], self.matrix.minutes[row][column]
        except IndexError:
            return None

    def drive_km(self, activity: Activity) -> float:
        """The matrix distance of a drive, or its own figure when the matrix cannot say."""
        travel = self.travel(activity.place_id, activity.to_place_id or "")
        return travel[0] if travel else activity.km

    def clock(self, moment: datetime, *, same_day_as: datetime | None = None) -> str:
        """A local time such as ``2026-11-23 18:40+08:00``; only ``18:40+08:00`` on the reference's day."""
        local = moment.astimezone(self.zone or UTC)
        pattern = "%H:%M:%S" if local.second else "%H:%M"
        if same_day_as is None or same_day_as.astimezone(self.zone or UTC).date() != local.date():
            pattern = f"%Y-%m-%d {pattern}"
        return local.strftime(pattern) + _utc_offset(local)


@dataclass
class _Tow:
    """One hitch of a run: a trailer from its hook to its drop."""

    run: Run
    fixed: bool
    trailer_id: str | None
    move_id: str | None
    hook: Activity
    hook_label: str
    drop: Activity | None = None


@dataclass
class _Walk:
    """What a run does with trailers, read activity by activity."""

    fixed: bool
    run: Run | None = None
    tows: list[_Tow] = field(default_factory=list)
    drives: list[tuple[Activity, _Tow | None]] = field(default_factory=list)
    """Every drive and the tow it belongs to (None when bobtail)."""
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Planned:
    """The plan's tows by move id, and its unassigned move ids."""

    tows_by_move: dict[str, _Tow]
    unassigned: frozenset[str]

    @classmethod
    def of(cls, plan: Plan, walks: Iterable[_Walk]) -> _Planned:
        tows_by_move: dict[str, _Tow] = {}
        for walk in walks:
            for tow in walk.tows:
                if tow.move_id is not None:
                    tows_by_move.setdefault(tow.move_id, tow)
        return cls(tows_by_move=tows_by_move, unassigned=frozenset(entry.move_id for entry in plan.unassigned))


# --- times without a zone --------------------------------------------------------------------------


def _untimed_violations(problem: Problem, plan: Plan) -> list[str]:
    named: list[tuple[str, object]] = [("the problem start", problem.start)]
    named += [(f"tractor {t.id}: available_from", t.available_from) for t in problem.tractors if t.available_from]
    named += [(f"tractor {t.id}: available_until", t.available_until) for t in problem.tractors if t.available_until]
    named += [(f"driver {d.id}: {name}", value) for d in problem.drivers for name, value in _shift(d)]
    named += [(f"trailer {t.id}: available_from", t.available_from) for t in problem.trailers if t.available_from]
    named += [(f"move {m.id}: {name}", value) for m in problem.moves for name, value in _move_times(m) if value]
    for run in (*plan.runs, *problem.fixed_runs):
        for number, activity in enumerate(run.activities, start=1):
            prefix = f"tractor {run.tractor_id}: activity {number}"
            named += [(f"{prefix} start", activity.start), (f"{prefix} end", activity.end)]
    return [f"{name} is not a time with a time zone" for name, value in named if not _is_aware(value)]


def _shift(driver: Driver) -> Iterator[tuple[str, object]]:
    yield "shift_start", driver.shift_start
    yield "shift_end", driver.shift_end


def _move_times(move: Move) -> Iterator[tuple[str, object]]:
    yield "ready_at", move.ready_at
    yield "deliver_by", move.deliver_by
    yield "cutoff", move.cutoff


def _is_aware(value: object) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


# --- coverage --------------------------------------------------------------------------------------


def _coverage_violations(facts: _Facts, plan: Plan) -> list[str]:
    runs_by_tractor: dict[str, list[Run]] = defaultdict(list)
    for run in plan.runs:
        runs_by_tractor[run.tractor_id].append(run)
    violations = []
    for tractor_id, runs in runs_by_tractor.items():
        if tractor_id not in facts.tractors:
            violations.append(f"tractor {tractor_id}: the tractor is not in the problem")
        if len(runs) > 1:
            violations.append(f"tractor {tractor_id}: the tractor has {len(runs)} runs, not one")
    for fixed in facts.problem.fixed_runs:
        kept = runs_by_tractor.get(fixed.tractor_id, [])
        if not kept:
            violations.append(f"tractor {fixed.tractor_id}: the fixed run is missing from the plan")
        elif fixed not in kept:
            violations.append(f"tractor {fixed.tractor_id}: the fixed run is changed in the plan")
    return violations + _move_coverage_violations(facts, plan)


def _move_coverage_violations(facts: _Facts, plan: Plan) -> list[str]:
    tractors_by_move: dict[str, list[str]] = defaultdict(list)
    for run in plan.runs:
        for move_id in run.moves:
            tractors_by_move[move_id].append(run.tractor_id)
    unassigned = Counter(entry.move_id for entry in plan.unassigned)
    violations = [
        sentence
        for move_id in facts.moves_to_cover
        for sentence in _coverage_sentences(move_id, tractors_by_move.get(move_id, []), unassigned[move_id])
    ]
    known = set(facts.moves_to_cover)
    for move_id, tractors in tractors_by_move.items():
        if move_id not in known:
            violations += [
                f"tractor {tractor}: the run lists move {move_id}, which is not in the problem" for tractor in tractors
            ]
    violations += [f"unassigned move {move_id} is not in the problem" for move_id in unassigned if move_id not in known]
    return violations


def _coverage_sentences(move_id: str, tractors: list[str], unassigned: int) -> list[str]:
    """Nothing when the move is in exactly one run or unassigned once."""
    if len(tractors) + unassigned == 1:
        return []
    if not tractors and not unassigned:
        return [f"move {move_id} is neither in a run nor unassigned"]
    if tractors and unassigned:
        return [f"move {move_id} is in the run of tractor {tractors[0]} and also unassigned"]
    if tractors:
        return [f"move {move_id} is listed {len(tractors)} times in runs (tractors {', '.join(tractors)})"]
    return [f"move {move_id} is unassigned {unassigned} times"]


# --- one run ---------------------------------------------------------------------------------------


def _run_violations(facts: _Facts, planned: _Planned, run: Run, walk: _Walk) -> list[str]:
    if not run.activities:
        return ["the run has no activities", *_crew_violations(facts, run), *_move_order_violations(run)]
    return [
        *_crew_violations(facts, run),
        *_bound_violations(facts, run),
        *_activity_violations(facts, run),
        *_place_violations(facts, run),
        *walk.problems,
        *_move_order_violations(run),
        *(sentence for tow in walk.tows for sentence in _tow_violations(facts, planned, tow)),
        *_break_violations(facts, run),
        *_duty_violations(facts, run),
        *_daily_driving_violations(facts, run),
        *_night_driving_violations(facts, run),
        *_run_figure_violations(facts, run, walk),
    ]


def _crew_violations(facts: _Facts, run: Run) -> list[str]:
    violations = []
    tractor = facts.tractors.get(run.tractor_id)
    if tractor is not None and run.driver_id != tractor.driver_id:
        violations.append(f"the run's driver is {run.driver_id} but the tractor's driver is {tractor.driver_id}")
    if tractor is not None and run.escort_id != tractor.escort_id:
        violations.append(f"the run's escort is {run.escort_id} but the tractor's escort is {tractor.escort_id}")
    if run.driver_id is None:
        violations.append("the run has no driver")
    for role, crew_id in (("driver", run.driver_id), ("escort", run.escort_id)):
        if crew_id is not None and crew_id not in facts.drivers:
            violations.append(f"{role} {crew_id} is not in the problem")
    return violations


def _crew(facts: _Facts, run: Run) -> list[tuple[str, Driver]]:
    """The run's driver and escort that the problem knows, with their role."""
    crew = [("driver", facts.drivers.get(run.driver_id or "")), ("escort", facts.drivers.get(run.escort_id or ""))]
    return [(role, member) for role, member in crew if member is not None]


def _bound_violations(facts: _Facts, run: Run) -> list[str]:
    first, last = run.activities[0].start, run.activities[-1].end
    violations = [
        f"the run starts at {facts.clock(first)} before {reason} at {facts.clock(bound, same_day_as=first)}"
        for reason, bound in _earliest_starts(facts, run)
        if first < bound - TIME_TOLERANCE
    ]
    violations += [
        f"the run ends at {facts.clock(last)} after {reason} at {facts.clock(bound, same_day_as=last)}"
        for reason, bound in _latest_ends(facts, run)
        if last > bound + TIME_TOLERANCE
    ]
    return violations


def _earliest_starts(facts: _Facts, run: Run) -> Iterator[tuple[str, datetime]]:
    yield "the planning start", facts.problem.start
    tractor = facts.tractors.get(run.tractor_id)
    if tractor is not None and tractor.available_from is not None:
        yield "the tractor is available", tractor.available_from
    for role, member in _crew(facts, run):
        yield f"{role} {member.id}'s shift starts", member.shift_start


def _latest_ends(facts: _Facts, run: Run) -> Iterator[tuple[str, datetime]]:
    yield "the end of the planning horizon", facts.problem.start + timedelta(hours=facts.problem.horizon_hours)
    tractor = facts.tractors.get(run.tractor_id)
    if tractor is not None and tractor.available_until is not None:
        yield "the tractor's availability ends", tractor.available_until
    for role, member in _crew(facts, run):
        yield f"{role} {member.id}'s shift ends", member.shift_end


def _label(number: int, activity: Activity) -> str:
    """``activity 4 (drop of move M12)``."""
    of_move = f" of move {activity.move_id}" if activity.move_id is not None else ""
    return f"activity {number} ({activity.kind}{of_move})"


def _continued_drives(run: Run) -> set[int]:
    """Indices of drives that a rest interrupts: the same trip goes on after only waits and breaks.

    A break taken on the road splits one trip into parts; the parts together must match the matrix.
    """
    continued = set()
    activities = run.activities
    for index, activity in enumerate(activities):
        if activity.kind != ActivityKind.DRIVE:
            continue
        later = index + 1
        while later < len(activities) and activities[later].kind in (ActivityKind.WAIT, ActivityKind.BREAK):
            later += 1
        if (
            later > index + 1
            and later < len(activities)
            and activities[later].kind == ActivityKind.DRIVE
            and (activities[later].place_id, activities[later].to_place_id) == (activity.place_id, activity.to_place_id)
        ):
            continued.add(index)
    return continued


def _whole_drive(run: Run, index: int, continued: set[int]) -> Activity:
    """The drive at ``index`` with the parts before it added: its whole trip's kilometres and driving time."""
    activity = run.activities[index]
    km, seconds = activity.km, (activity.end - activity.start).total_seconds()
    earlier = index - 1
    while earlier >= 0 and (earlier in continued or run.activities[earlier].kind != ActivityKind.DRIVE):
        part = run.activities[earlier]
        if part.kind == ActivityKind.DRIVE:
            km += part.km
            seconds += (part.end - part.start).total_seconds()
        elif part.kind not in (ActivityKind.WAIT, ActivityKind.BREAK):
            break
        earlier -= 1
    return msgspec.structs.replace(activity, km=km, start=activity.end - timedelta(seconds=seconds))


def _activity_violations(facts: _Facts, run: Run) -> list[str]:
    violations = []
    continued = _continued_drives(run)
    for number, activity in enumerate(run.activities, start=1):
        label = _label(number, activity)
        violations += _unknown_id_violations(facts, label, activity)
        violations += _duration_violations(facts, label, activity)
        if activity.kind == ActivityKind.DRIVE:
            if number - 1 not in continued:
                violations += _drive_violations(facts, label, _whole_drive(run, number - 1, continued))
        else:
            violations += _stationary_violations(label, activity)
        if activity.kind in _HANDLING_KINDS:
            violations += _opening_hours_violations(facts, label, activity)
    for number, (before, after) in enumerate(itertools.pairwise(run.activities), start=1):
        if abs(after.start - before.end) > TIME_TOLERANCE:
            violations.append(
                f"{_label(number + 1, after)} starts at {facts.clock(after.start)} "
                f"but activity {number} ends at {facts.clock(before.end, same_day_as=after.start)}"
            )
    return violations


def _unknown_id_violations(facts: _Facts, label: str, activity: Activity) -> list[str]:
    named = [
        ("place", activity.place_id, activity.place_id in facts.places),
        ("place", activity.to_place_id, activity.to_place_id in facts.places),
        ("trailer", activity.trailer_id, activity.trailer_id in facts.trailers),
        ("move", activity.move_id, activity.move_id in facts.moves_to_cover),
    ]
    violations = [
        f"{label} names {kind} {value}, which is not in the problem"
        for kind, value, known in named
        if value is not None and not known
    ]
    if activity.kind not in tuple(ActivityKind):
        violations.append(f"{label} is of no known kind")
    return violations


def _duration_violations(facts: _Facts, label: str, activity: Activity) -> list[str]:
    if activity.end < activity.start - TIME_TOLERANCE:
        return [f"{label} ends at {facts.clock(activity.end)} before it starts at {facts.clock(activity.start)}"]
    needed = {ActivityKind.HOOK: facts.policy.hook_minutes, ActivityKind.DROP: facts.policy.drop_minutes}
    minimum = needed.get(activity.kind, 0.0)
    if _minutes(activity) < minimum - _TOLERANCE_MINUTES:
        return [f"{label} takes {_minutes(activity):.1f} min, less than the {minimum:g} min a {activity.kind} needs"]
    return []


def _drive_violations(facts: _Facts, label: str, activity: Activity) -> list[str]:
    if activity.to_place_id is None:
        return [f"{label} has no destination"]
    if activity.to_place_id == activity.place_id:
        return [f"{label} drives from {activity.place_id} to the same place"]
    if activity.place_id not in facts.places or activity.to_place_id not in facts.places:
        return []  # reported as an unknown place
    travel = facts.travel(activity.place_id, activity.to_place_id)
    if travel is None:
        return [f"{label}: the matrix has no entry from {activity.place_id} to {activity.to_place_id}"]
    km, minutes = travel
    trip = f"from {activity.place_id} to {activity.to_place_id}"
    violations = []
    if not _km_close(activity.km, km):
        violations.append(f"{label} covers {activity.km:.2f} km but the matrix says {km:.2f} km {trip}")
    if abs(_minutes(activity) - minutes) > DRIVE_MINUTES_TOLERANCE + _TOLERANCE_MINUTES:
        violations.append(f"{label} takes {_minutes(activity):.1f} min but the matrix says {minutes:.1f} min {trip}")
    return violations


def _stationary_violations(label: str, activity: Activity) -> list[str]:
    violations = []
    if activity.to_place_id not in (None, activity.place_id):
        violations.append(f"{label} goes from {activity.place_id} to {activity.to_place_id} but is not a drive")
    if activity.km:
        violations.append(f"{label} covers {activity.km:.2f} km but is not a drive")
    return violations


def _opening_hours_violations(facts: _Facts, label: str, activity: Activity) -> list[str]:
    place = facts.places.get(activity.place_id)
    if place is None or facts.zone is None or _is_open(place, activity.start, activity.end, facts.zone):
        return []
    hours = ", ".join(f"{hours.open}-{hours.close}" for hours in place.opening_hours)
    return [
        f"{label} at {place.id} from {facts.clock(activity.start)} to "
        f"{facts.clock(activity.end, same_day_as=activity.start)} is outside its opening hours {hours}"
    ]


def _place_violations(facts: _Facts, run: Run) -> list[str]:
    """Each activity starts where the previous one left the tractor; the first where the tractor is."""
    tractor = facts.tractors.get(run.tractor_id)
    here = (tractor.start_place_id or tractor.home_place_id) if tractor else None
    violations = []
    continued = _continued_drives(run)
    for number, activity in enumerate(run.activities, start=1):
        if here is not None and activity.place_id != here:
            violations.append(f"{_label(number, activity)} starts at {activity.place_id} but the tractor is at {here}")
        arrives = activity.kind == ActivityKind.DRIVE and activity.to_place_id and number - 1 not in continued
        here = activity.to_place_id if arrives else activity.place_id
    if tractor is not None and facts.policy.return_home and here != tractor.home_place_id:
        violations.append(f"the run ends at {here}, not at the tractor's home {tractor.home_place_id}")
    return violations


def _move_order_violations(run: Run) -> list[str]:
    hooked = tuple(a.move_id for a in run.activities if a.kind == ActivityKind.HOOK and a.move_id is not None)
    if hooked == tuple(run.moves):
        return []
    return [f"the run lists moves ({', '.join(run.moves)}) but hooks moves ({', '.join(hooked)}) in that order"]


# --- the hitch: one trailer per tractor ------------------------------------------------------------


def _walk(run: Run, *, fixed: bool) -> _Walk:
    """Follow the run as a state machine: bobtail, hook, towing, drop, bobtail."""
    return _Walker(run, fixed=fixed).follow()


class _Walker:
    def __init__(self, run: Run, *, fixed: bool) -> None:
        self.run = run
        self.walk = _Walk(fixed=fixed, run=run)
        self.towing: _Tow | None = None
        self.approach: list[tuple[str, str]] = []
        """Bobtail activities labelled with a move, which the next hook must be for."""

    def follow(self) -> _Walk:
        for number, activity in enumerate(self.run.activities, start=1):
            label = _label(number, activity)
            if activity.kind == ActivityKind.HOOK:
                self._hook(label, activity)
            elif activity.kind == ActivityKind.DROP:
                self._drop(label, activity)
            else:
                self._carry(label, activity)
        self._finish()
        return self.walk

    def _hook(self, label: str, activity: Activity) -> None:
        if self.towing is not None:
            self.walk.problems.append(
                f"{label} hooks {_trailer(activity.trailer_id)} while the tractor still tows "
                f"{_trailer(self.towing.trailer_id)} (one trailer per tractor)"
            )
            return
        if activity.trailer_id is None:
            self.walk.problems.append(f"{label} hooks no trailer")
        if activity.move_id is None:
            self.walk.problems.append(f"{label} hooks {_trailer(activity.trailer_id)} for no move")
        for approach_label, move_id in self.approach:
            if move_id != activity.move_id:
                self.walk.problems.append(
                    f"{approach_label} is labelled with move {move_id} but the next hook is for move {activity.move_id}"
                )
        self.approach.clear()
        self.towing = _Tow(self.run, self.walk.fixed, activity.trailer_id, activity.move_id, activity, label)
        self.walk.tows.append(self.towing)

    def _drop(self, label: str, activity: Activity) -> None:
        towing = self.towing
        if towing is None:
            self.walk.problems.append(f"{label} drops {_trailer(activity.trailer_id)} but the tractor tows none")
            return
        if activity.trailer_id != towing.trailer_id:
            self.walk.problems.append(
                f"{label} drops {_trailer(activity.trailer_id)} but the tractor tows {_trailer(towing.trailer_id)}"
            )
            return
        if activity.move_id != towing.move_id:
            self.walk.problems.append(f"{label} should be labelled with move {towing.move_id}, the move hooked")
        towing.drop = activity
        self.towing = None

    def _carry(self, label: str, activity: Activity) -> None:
        """A drive, wait or break: it carries the towed trailer and its move, or nothing when bobtail."""
        towing = self.towing
        if activity.kind == ActivityKind.DRIVE:
            self.walk.drives.append((activity, towing))
        if towing is None:
            if activity.trailer_id is not None:
                self.walk.problems.append(f"{label} names {_trailer(activity.trailer_id)} but the tractor is bobtail")
            if activity.move_id is not None:
                self.approach.append((label, activity.move_id))
            return
        optional = activity.kind != ActivityKind.DRIVE  # a wait or break may leave the trailer and move out
        if activity.trailer_id != towing.trailer_id and not (optional and activity.trailer_id is None):
            self.walk.problems.append(
                f"{label} names {_trailer(activity.trailer_id)} but the tractor tows {_trailer(towing.trailer_id)}"
            )
        if activity.move_id != towing.move_id and not (optional and activity.move_id is None):
            self.walk.problems.append(f"{label} should be labelled with move {towing.move_id}, the move towed")

    def _finish(self) -> None:
        if self.towing is not None:
            self.walk.problems.append(
                f"{self.towing.hook_label} hooks {_trailer(self.towing.trailer_id)} and never drops it"
            )
        for label, move_id in self.approach:
            self.walk.problems.append(f"{label} is labelled with move {move_id} but no hook follows")


def _trailer(trailer_id: str | None) -> str:
    return "no trailer" if trailer_id is None else f"trailer {trailer_id}"


# --- moves -----------------------------------------------------------------------------------------


def _tow_violations(facts: _Facts, planned: _Planned, tow: _Tow) -> list[str]:
    move = facts.moves.get(tow.move_id or "")
    if move is None:
        return []  # no move or an unknown one: reported with the activity
    return [
        *_trailer_choice_violations(facts, planned, move, tow),
        *_route_violations(facts, planned, move, tow),
        *_window_violations(facts, move, tow),
        *_dependency_violations(facts, planned, move, tow),
        *_hazmat_violations(facts, move, tow),
    ]


def _collects_after(move: Move) -> bool:
    return move.kind == MoveKind.COLLECT and move.after_move is not None


def _trailer_choice_violations(facts: _Facts, planned: _Planned, move: Move, tow: _Tow) -> list[str]:
    violations = []
    if _collects_after(move):
        earlier = planned.tows_by_move.get(str(move.after_move))
        if earlier is not None and earlier.trailer_id != tow.trailer_id:
            violations.append(
                f"move {move.id} hooks {_trailer(tow.trailer_id)} but move {move.after_move} "
                f"brought {_trailer(earlier.trailer_id)}"
            )
    elif move.kind != MoveKind.POSITION and move.trailer_id is None:
        violations.append(f"move {move.id} is a {move.kind} move that names no trailer")
    elif move.kind != MoveKind.POSITION and move.trailer_id != tow.trailer_id:
        violations.append(
            f"move {move.id} hooks {_trailer(tow.trailer_id)} but the move is for trailer {move.trailer_id}"
        )
    trailer = facts.trailers.get(tow.trailer_id or "")
    if trailer is None:
        return violations
    if move.kind == MoveKind.POSITION and trailer.loaded:
        violations.append(f"move {move.id} positions trailer {trailer.id}, which is loaded")
    if move.trailer_type is not None and trailer.type != move.trailer_type:
        violations.append(
            f"move {move.id} needs a {move.trailer_type} trailer but trailer {trailer.id} is a {trailer.type}"
        )
    return violations


def _route_violations(facts: _Facts, planned: _Planned, move: Move, tow: _Tow) -> list[str]:
    violations = []
    origin = _origin(facts, move)
    if origin is not None and tow.hook.place_id != origin:
        violations.append(f"move {move.id} is hooked at {tow.hook.place_id}, not at its origin {origin}")
    if tow.drop is not None and tow.drop.place_id != move.destination_id:
        violations.append(
            f"move {move.id} is dropped at {tow.drop.place_id}, not at its destination {move.destination_id}"
        )
    return violations


def _origin(facts: _Facts, move: Move) -> str | None:
    """Where the move's hook must be: a collect after a position move hooks at that move's destination."""
    if _collects_after(move):
        earlier = facts.moves.get(str(move.after_move))
        return earlier.destination_id if earlier else None
    return move.origin_id


def _window_violations(facts: _Facts, move: Move, tow: _Tow) -> list[str]:
    violations = []
    hook_start = tow.hook.start
    if move.ready_at is not None and hook_start < move.ready_at - TIME_TOLERANCE:
        violations.append(
            f"move {move.id} hooked at {facts.clock(hook_start)} "
            f"before it is ready at {facts.clock(move.ready_at, same_day_as=hook_start)}"
        )
    drop_end = tow.drop.end if tow.drop is not None else None
    if move.cutoff is not None and drop_end is not None and drop_end > move.cutoff + TIME_TOLERANCE:
        violations.append(
            f"move {move.id} dropped at {facts.clock(drop_end)} "
            f"after the cut-off {facts.clock(move.cutoff, same_day_as=drop_end)}"
        )
    return violations


def _dependency_violations(facts: _Facts, planned: _Planned, move: Move, tow: _Tow) -> list[str]:
    if move.after_move is None:
        return []
    if move.after_move not in facts.moves:
        return [f"move {move.id} follows move {move.after_move}, which is not in the problem"]
    if move.after_move in planned.unassigned:
        return [f"move {move.id} is planned but move {move.after_move}, which it follows, is unassigned"]
    earlier = planned.tows_by_move.get(move.after_move)
    if earlier is None or earlier.drop is None:
        return []  # the earlier move is missing or never dropped: reported there
    ready = earlier.drop.end + timedelta(minutes=move.loading_minutes)
    if tow.hook.start < ready - TIME_TOLERANCE:
        return [
            f"move {move.id} hooked at {facts.clock(tow.hook.start)} before move {move.after_move}'s trailer is "
            f"ready at {facts.clock(ready, same_day_as=tow.hook.start)}, {move.loading_minutes:g} min after its drop"
        ]
    return []


def _hazmat_violations(facts: _Facts, move: Move, tow: _Tow) -> list[str]:
    if not move.hazmat:
        return []
    run = tow.run
    violations = []
    tractor = facts.tractors.get(run.tractor_id)
    if tractor is not None and not tractor.hazmat_approved:
        violations.append(f"hazmat move {move.id} needs a tractor approved for dangerous goods")
    for role, crew_id, qualification in (
        ("driver", run.driver_id, Qualification.HAZMAT_DRIVER),
        ("escort", run.escort_id, Qualification.HAZMAT_ESCORT),
    ):
        lacking = _lacking(facts, role, crew_id, qualification)
        if lacking:
            violations.append(f"hazmat move {move.id} needs a dangerous-goods {role} certificate but {lacking}")
    trailer = facts.trailers.get(tow.trailer_id or "")
    if trailer is not None and not trailer.hazmat_approved:
        violations.append(f"hazmat move {move.id} needs a trailer approved for dangerous goods, not {trailer.id}")
    return violations


def _lacking(facts: _Facts, role: str, crew_id: str | None, qualification: Qualification) -> str:
    """Who lacks the qualification (``"the run has no escort"``), or nothing when the crew member has it."""
    if crew_id is None:
        return f"the run has no {role}"
    member = facts.drivers.get(crew_id)
    if member is None or qualification not in member.qualifications:
        return f"{role} {crew_id} has none"
    return ""


# --- driver hours ----------------------------------------------------------------------------------


def _break_violations(facts: _Facts, run: Run) -> list[str]:
    """Continuous driving stays under the limit; only rest (wait or break) of the break length resets it."""
    policy = facts.policy
    driver = facts.drivers.get(run.driver_id or "")
    driving = driver.continuous_driving_minutes if driver else 0.0
    rest = 0.0
    reported = False
    violations = []
    for number, activity in enumerate(run.activities, start=1):
        if activity.kind in _REST_KINDS:
            rest += _minutes(activity)
            if rest >= policy.break_minutes - _TOLERANCE_MINUTES:
                driving, reported = 0.0, False
            continue
        rest = 0.0
        if activity.kind != ActivityKind.DRIVE:
            continue
        driving += _minutes(activity)
        if driving > policy.max_continuous_driving_minutes + _TOLERANCE_MINUTES and not reported:
            violations.append(
                f"{_label(number, activity)} brings continuous driving to {driving:.1f} min, over the "
                f"{policy.max_continuous_driving_minutes:g} min allowed without a {policy.break_minutes:g} min break"
            )
            reported = True
    return violations


def _duty_violations(facts: _Facts, run: Run) -> list[str]:
    duty = _duty_minutes(run)
    if duty > facts.policy.max_duty_minutes + _TOLERANCE_MINUTES:
        return [f"the run is on duty for {duty:.1f} min, over the {facts.policy.max_duty_minutes:g} min allowed"]
    return []


def _daily_driving_violations(facts: _Facts, run: Run) -> list[str]:
    cap = facts.policy.max_driving_minutes_per_24h
    if cap is None:
        return []
    driver = facts.drivers.get(run.driver_id or "")
    before = driver.driven_minutes_last_24h if driver else 0.0
    driving = sum(_minutes(activity) for activity in run.activities if activity.kind == ActivityKind.DRIVE)
    if before + driving > cap + _TOLERANCE_MINUTES:
        return [
            f"the driver drives {driving:.1f} min after {before:g} min in the previous 24 hours, "
            f"over the {cap:g} min allowed in 24 hours"
        ]
    return []


def _night_driving_violations(facts: _Facts, run: Run) -> list[str]:
    policy, zone = facts.policy, facts.zone
    cap = policy.max_night_driving_minutes
    if cap is None or zone is None:
        return []
    drives = [activity for activity in run.activities if activity.kind == ActivityKind.DRIVE]
    days = _local_days(run.activities[0].start, run.activities[-1].end, zone)
    violations = []
    for night_start, night_end in _daily_windows(policy.night_start, policy.night_end, days, zone):
        driving = sum(_overlap_minutes(drive.start, drive.end, night_start, night_end) for drive in drives)
        if driving > cap + _TOLERANCE_MINUTES:
            violations.append(
                f"the run drives {driving:.1f} min in the night from {facts.clock(night_start)} to "
                f"{facts.clock(night_end, same_day_as=night_start)}, over the {cap:g} min allowed"
            )
    return violations


def _duty_minutes(run: Run) -> float:
    if not run.activities or not (_is_aware(run.activities[0].start) and _is_aware(run.activities[-1].end)):
        return 0.0
    return (run.activities[-1].end - run.activities[0].start).total_seconds() / 60


def _minutes(activity: Activity) -> float:
    return (activity.end - activity.start).total_seconds() / 60


def _overlap_minutes(start: datetime, end: datetime, window_start: datetime, window_end: datetime) -> float:
    return max(0.0, (min(end, window_end) - max(start, window_start)).total_seconds() / 60)


# --- local times of day ----------------------------------------------------------------------------


def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _utc_offset(local: datetime) -> str:
    offset_minutes = int((local.utcoffset() or timedelta()).total_seconds()) // 60
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _minute_of_day(local_time: str) -> int | None:
    """``"07:30"`` → 450, ``"24:00"`` → 1440; None when not a time of day."""
    hours, _, minutes = local_time.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(minutes) < 60):
        return None
    value = int(hours) * 60 + int(minutes)
    return value if value <= _MINUTES_PER_DAY else None


def _local_days(start: datetime, end: datetime, zone: tzinfo) -> list[date]:
    """The local days from the day before ``start`` (whose windows may run past midnight) to ``end``'s."""
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = max(end.astimezone(zone).date(), first)
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _daily_windows(opens: str, closes: str, days: Iterable[date], zone: tzinfo) -> list[tuple[datetime, datetime]]:
    """The window from ``opens`` to ``closes`` on each day; a close at or before the open is the next day's."""
    start_minute, end_minute = _minute_of_day(opens), _minute_of_day(closes)
    if start_minute is None or end_minute is None:
        return []
    if end_minute <= start_minute:
        end_minute += _MINUTES_PER_DAY
    windows = []
    for day in days:
        midnight = datetime.combine(day, time(), tzinfo=zone)
        windows.append((midnight + timedelta(minutes=start_minute), midnight + timedelta(minutes=end_minute)))
    return windows


def _is_open(place: Place, start: datetime, end: datetime, zone: tzinfo) -> bool:
    """Whether ``start``..``end`` lies within one opening window (back-to-back windows join up)."""
    if not place.opening_hours:
        return True
    days = _local_days(start, end, zone)
    windows = sorted(
        window for hours in place.opening_hours for window in _daily_windows(hours.open, hours.close, days, zone)
    )
    return any(opens - TIME_TOLERANCE <= start and end <= closes + TIME_TOLERANCE for opens, closes in _joined(windows))


def _joined(windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted windows with overlapping or touching ones merged."""
    joined: list[tuple[datetime, datetime]] = []
    for opens, closes in windows:
        if joined and opens <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], closes))
        else:
            joined.append((opens, closes))
    return joined


# --- trailers across runs --------------------------------------------------------------------------


@dataclass(frozen=True)
class _TrailerEvent:
    kind: ActivityKind
    activity: Activity
    tractor_id: str
    fixed: bool


def _trailer_violations(facts: _Facts, tows: list[_Tow]) -> list[str]:
    events: dict[str, list[_TrailerEvent]] = defaultdict(list)
    for tow in tows:
        if tow.trailer_id is None or tow.trailer_id not in facts.trailers:
            continue  # reported with the run
        tractor_id = tow.run.tractor_id
        events[tow.trailer_id].append(_TrailerEvent(ActivityKind.HOOK, tow.hook, tractor_id, tow.fixed))
        if tow.drop is not None:
            events[tow.trailer_id].append(_TrailerEvent(ActivityKind.DROP, tow.drop, tractor_id, tow.fixed))
    violations = []
    for trailer_id, trailer_events in events.items():
        trailer_events.sort(key=lambda event: (event.activity.start, event.kind == ActivityKind.HOOK))
        violations += _trailer_timeline_violations(facts, facts.trailers[trailer_id], trailer_events)
    return violations


def _trailer_timeline_violations(facts: _Facts, trailer: Trailer, events: list[_TrailerEvent]) -> list[str]:
    """Hook, drop, hook, drop...: each hook where the trailer stands, once it is free."""
    timeline = _TrailerTimeline(facts, trailer)
    for number, event in enumerate(events):
        if event.kind == ActivityKind.DROP:
            timeline.drop(event)
        else:
            timeline.hook(event, first=number == 0)
    return timeline.violations


class _TrailerTimeline:
    """Where one trailer stands, who tows it, and from when it is free."""

    def __init__(self, facts: _Facts, trailer: Trailer) -> None:
        self.facts = facts
        self.name = f"trailer {trailer.id}"
        self.place = trailer.place_id
        self.free_from = trailer.available_from
        self.out_of_service = trailer.out_of_service
        self.holder: _TrailerEvent | None = None
        self.intruders: set[str] = set()
        """Tractors whose hook was refused because another tractor had the trailer."""
        self.violations: list[str] = []

    def hook(self, event: _TrailerEvent, *, first: bool) -> None:
        when, tractor_id = self.facts.clock(event.activity.start), event.tractor_id
        if self.out_of_service:
            self.violations.append(f"{self.name} is out of service but tractor {tractor_id} hooks it at {when}")
        if self.holder is not None:
            holder_id = self.holder.tractor_id
            self.violations.append(
                f"{self.name} is hooked by tractor {tractor_id} at {when} while tractor {holder_id} tows it"
            )
            self.intruders.add(tractor_id)
            return
        self.holder = event
        if first and event.fixed:
            return  # a run already under way: where the trailer came from is history
        if event.activity.place_id != self.place:
            self.violations.append(
                f"{self.name} is hooked by tractor {tractor_id} at {event.activity.place_id} "
                f"but it stands at {self.place}"
            )
        if self.free_from is not None and event.activity.start < self.free_from - TIME_TOLERANCE:
            free_from = self.facts.clock(self.free_from, same_day_as=event.activity.start)
            self.violations.append(
                f"{self.name} is hooked by tractor {tractor_id} at {when} before it is free at {free_from}"
            )

    def drop(self, event: _TrailerEvent) -> None:
        tractor_id = event.tractor_id
        if tractor_id in self.intruders:
            self.intruders.discard(tractor_id)  # its hook was already reported
            return
        if self.holder is None:
            when = self.facts.clock(event.activity.start)
            self.violations.append(f"{self.name} is dropped by tractor {tractor_id} at {when} without being hooked")
        elif self.holder.tractor_id != tractor_id:
            self.violations.append(
                f"{self.name} is hooked by tractor {self.holder.tractor_id} but dropped by {tractor_id}"
            )
        self.holder, self.place, self.free_from = None, event.activity.place_id, event.activity.end


# --- figures ---------------------------------------------------------------------------------------


def _tows_empty_trailer(facts: _Facts, tow: _Tow) -> bool:
    move = facts.moves.get(tow.move_id or "")
    if move is None:
        return False
    if move.kind == MoveKind.POSITION:
        return True
    trailer = facts.trailers.get(tow.trailer_id or "")
    return move.kind == MoveKind.HAUL and trailer is not None and not trailer.loaded


def _run_km(facts: _Facts, walk: _Walk) -> tuple[float, float]:
    """``(km, deadhead_km)`` of one run; a trip split by a rest counts once."""
    km = deadhead_km = 0.0
    parts = {id(walk.run.activities[index]) for index in _continued_drives(walk.run)} if walk.run else set()
    for activity, tow in walk.drives:
        if id(activity) in parts:
            continue
        distance = facts.drive_km(activity)
        km += distance
        if tow is None or _tows_empty_trailer(facts, tow):
            deadhead_km += distance
    return km, deadhead_km


def _run_figure_violations(facts: _Facts, run: Run, walk: _Walk) -> list[str]:
    km, deadhead_km = _run_km(facts, walk)
    violations = []
    if not _km_close(run.km, km):
        violations.append(f"the run says {run.km:.2f} km but its drives cover {km:.2f} km")
    if not _km_close(run.deadhead_km, deadhead_km):
        violations.append(f"the run says {run.deadhead_km:.2f} deadhead km but its drives have {deadhead_km:.2f}")
    return violations


def _figures(facts: _Facts, plan: Plan, walks: list[_Walk]) -> PlanSummary:
    km_by_run = [_run_km(facts, walk) for walk in walks]
    return PlanSummary(
        tractors_used=len({run.tractor_id for run in plan.runs}),
        moves_planned=sum(len(run.moves) for run in plan.runs),
        moves_unassigned=len(plan.unassigned),
        late_moves=len(late_moves(facts.problem, plan)),
        km=sum(km for km, _ in km_by_run),
        deadhead_km=sum(deadhead_km for _, deadhead_km in km_by_run),
        duty_minutes=sum(_duty_minutes(run) for run in plan.runs),
    )


def _summary_violations(summary: PlanSummary, figures: PlanSummary) -> list[str]:
    counts = [
        ("tractors used", summary.tractors_used, figures.tractors_used),
        ("moves planned", summary.moves_planned, figures.moves_planned),
        ("moves unassigned", summary.moves_unassigned, figures.moves_unassigned),
        ("late moves", summary.late_moves, figures.late_moves),
    ]
    violations = [f"the summary says {said} {name} but the plan has {has}" for name, said, has in counts if said != has]
    for name, said_km, has_km in (
        ("km", summary.km, figures.km),
        ("deadhead km", summary.deadhead_km, figures.deadhead_km),
    ):
        if not _km_close(said_km, has_km):
            violations.append(f"the summary says {said_km:.2f} {name} but the runs have {has_km:.2f}")
    return violations


def _km_close(said: float, expected: float) -> bool:
    return abs(said - expected) <= KM_TOLERANCE + KM_TOLERANCE_FRACTION * abs(expected)
