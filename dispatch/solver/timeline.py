"""Schedule simulation of one tractor's run: append a trailer move, then close the run at home.

A run is built forwards, one move at a time: bobtail drive to the move's origin, wait (ready time,
opening hours), hook, towed drive, drop. A 20-minute break is taken before any drive that would take
the continuous driving past the limit, and every step is checked against the run's shift, duty,
daily-driving and night limits, including the drive home that must still fit afterwards.

Times are whole seconds since the problem's start (see :mod:`dispatch.solver.windows`); drive times
are the matrix minutes rounded up to the second. A state is immutable: ``append_move`` returns a new
one, or None when the move does not fit, so callers can try a move on many tractors cheaply.

Usage::

    timeline = Timeline(problem, matrix)
    state = start_run(timeline, tractor)
    state = append_move(timeline, state, Leg(move_id="M1", trailer_id="TR1", origin_id="A", destination_id="B"))
    run = to_run(timeline, close_run(timeline, state))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from dispatch.solver.matrix import TravelMatrix
from dispatch.solver.problem import Activity, ActivityKind, Driver, Problem, Run, Tractor
from dispatch.solver.windows import Interval, at, local_windows, offset_s, opening_intervals

__all__ = (
    "Leg",
    "Limits",
    "RunState",
    "Step",
    "Timeline",
    "append_move",
    "close_run",
    "start_run",
    "to_run",
)


@dataclass(frozen=True, slots=True)
class Leg:
    """A move resolved for scheduling: the trailer, where it goes and its time limits in seconds."""

    move_id: str
    trailer_id: str
    origin_id: str
    destination_id: str
    earliest_hook_s: int = 0
    """Hook not before this (ready time, trailer availability, loading after an earlier move)."""
    cutoff_s: int | None = None
    """Drop must end by this (a hard cut-off)."""
    empty: bool = False
    """The trailer travels empty, so the towed kilometres are deadhead."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Which constraints a trial may relax; used only to explain why a move does not fit anywhere."""

    cutoff: bool = True
    opening_hours: bool = True


@dataclass(frozen=True, slots=True)
class Step:
    """One activity of a run, in seconds since the problem's start."""

    kind: ActivityKind
    start_s: int
    end_s: int
    place_id: str
    to_place_id: str | None = None
    move_id: str | None = None
    trailer_id: str | None = None
    km: float = 0.0
    deadhead: bool = False


@dataclass(frozen=True, slots=True)
class RunState:
    """A tractor's run so far: where and when it is, and what its crew has used of the limits."""

    tractor_id: str
    driver_id: str | None
    escort_id: str | None
    home_id: str
    earliest_s: int
    """The run's first activity may start here, not before."""
    deadline_s: int
    """The run's last activity must end by here."""
    place_id: str
    time_s: int
    steps: tuple[Step, ...] = ()
    moves: tuple[str, ...] = ()
    driving_s: int = 0
    """Driving in this run."""
    driving_allowance_s: float | None = None
    """Driving the crew may still do in this run under the daily cap; None for no cap."""
    continuous_s: int = 0
    """Driving since the last rest of at least the break length (the driver's history included)."""
    rest_s: int = 0
    """Length of the wait and break activities at the end of the run (a rest in progress)."""
    last_hook_s: int = 0
    """Hook start of the last appended move."""
    last_drop_end_s: int = 0
    """Drop end of the last appended move."""
    last_approach_km: float = 0.0
    """Bobtail kilometres driven to the last appended move's origin."""

    @property
    def started(self) -> bool:
        """Whether the run has any activity yet."""
        return bool(self.steps)


class Timeline:
    """A problem's clock: travel times in seconds, opening hours and night windows, handling times."""

    def __init__(self, problem: Problem, matrix: TravelMatrix) -> None:
        policy = problem.policy
        self.problem = problem
        self.horizon_s = int(problem.horizon_hours * 3600)
        self.hook_s = _seconds(policy.hook_minutes)
        self.drop_s = _seconds(policy.drop_minutes)
        self.break_s = _seconds(policy.break_minutes)
        self.max_continuous_s = math.floor(policy.max_continuous_driving_minutes * 60)
        self.max_duty_s = math.floor(policy.max_duty_minutes * 60)
        self.return_home = policy.return_home
        self.drivers = {driver.id: driver for driver in problem.drivers}
        self.night = self._night_windows()
        self.max_night_s = (
            None if policy.max_night_driving_minutes is None else math.floor(policy.max_night_driving_minutes * 60)
        )
        self._rows = matrix.index()
        self._km = matrix.km
        self._travel_s = tuple(tuple(_seconds(minutes) for minutes in row) for row in matrix.minutes)
        self._opening = {place.id: opening_intervals(problem, place.opening_hours) for place in problem.places}

    def _night_windows(self) -> list[Interval]:
        policy = self.problem.policy
        if policy.max_night_driving_minutes is None:
            return []
        return local_windows(self.problem, [(policy.night_start, policy.night_end)])

    def knows(self, place_id: str) -> bool:
        """Whether the place is in both the problem and the matrix."""
        return place_id in self._rows and place_id in self._opening

    def travel(self, origin: str, destination: str) -> tuple[float, int]:
        """``(km, seconds)`` from one place to another."""
        row, column = self._rows[origin], self._rows[destination]
        return self._km[row][column], self._travel_s[row][column]

    def open_slot(self, place_id: str, earliest_s: int, duration_s: int, *, relax: bool = False) -> int | None:
        """The first start not before ``earliest_s`` of ``duration_s`` seconds within opening hours."""
        if relax:
            return earliest_s if earliest_s + duration_s <= self.horizon_s else None
        for opens, closes in self._opening[place_id]:
            start = max(opens, earliest_s)
            if start + duration_s <= closes:
                return start
        return None

    def seconds(self, moment: datetime | None, default: int) -> int:
        """Seconds since the problem's start, rounded up to the whole second (``default`` for None)."""
        if moment is None:
            return default
        return math.ceil((moment - self.problem.start).total_seconds())

    def driver(self, driver_id: str | None) -> Driver | None:
        """The driver or escort record, if known."""
        return None if driver_id is None else self.drivers.get(driver_id)


def _seconds(minutes: float) -> int:
    return math.ceil(minutes * 60 - 1e-9)


def start_run(timeline: Timeline, tractor: Tractor) -> RunState:
    """An empty run of ``tractor``: at its start place, within its own, its driver's and its escort's hours."""
    problem = timeline.problem
    driver, escort = timeline.driver(tractor.driver_id), timeline.driver(tractor.escort_id)
    crew = [person for person in (driver, escort) if person is not None]
    earliest = max(
        [0, timeline.seconds(tractor.available_from, 0)] + [timeline.seconds(p.shift_start, 0) for p in crew]
    )
    deadline = min(
        [timeline.horizon_s, offset_s(problem, tractor.available_until, timeline.horizon_s)]
        + [offset_s(problem, p.shift_end, timeline.horizon_s) for p in crew]
    )
    return RunState(
        tractor_id=tractor.id,
        driver_id=tractor.driver_id,
        escort_id=tractor.escort_id,
        home_id=tractor.home_place_id,
        earliest_s=earliest,
        deadline_s=deadline,
        place_id=tractor.start_place_id or tractor.home_place_id,
        time_s=earliest,
        driving_allowance_s=_driving_allowance(problem, driver),
        continuous_s=_seconds(driver.continuous_driving_minutes) if driver else 0,
    )


def _driving_allowance(problem: Problem, driver: Driver | None) -> float | None:
    cap = problem.policy.max_driving_minutes_per_24h
    if cap is None:
        return None
    history = driver.driven_minutes_last_24h if driver else 0.0
    return (cap - history) * 60


@dataclass(slots=True)
class _Draft:
    """A run being extended: a mutable copy of a state's clock and counters, plus new steps."""

    place_id: str
    time_s: int
    driving_s: int
    continuous_s: int
    rest_s: int
    first_start_s: int | None
    steps: list[Step] = field(default_factory=list)

    @classmethod
    def of(cls, state: RunState, start_s: int) -> _Draft:
        first = state.steps[0].start_s if state.steps else None
        return cls(
            place_id=state.place_id,
            time_s=state.time_s if state.steps else start_s,
            driving_s=state.driving_s,
            continuous_s=state.continuous_s,
            rest_s=state.rest_s,
            first_start_s=first,
        )

    def add(self, step: Step) -> None:
        if self.first_start_s is None:
            self.first_start_s = step.start_s
        self.steps.append(step)
        self.time_s = step.end_s


def _rest(
    timeline: Timeline,
    draft: _Draft,
    kind: ActivityKind,
    until_s: int,
    *,
    trailer_id: str | None,
    move_id: str | None,
) -> None:
    """Wait or break at the current place until ``until_s``; a long enough rest resets continuous driving."""
    if until_s <= draft.time_s:
        return
    draft.rest_s += until_s - draft.time_s
    draft.add(
        Step(
            kind=kind,
            start_s=draft.time_s,
            end_s=until_s,
            place_id=draft.place_id,
            move_id=move_id,
            trailer_id=trailer_id,
        )
    )
    if draft.rest_s >= timeline.break_s:
        draft.continuous_s = 0


def _drive(
    timeline: Timeline, draft: _Draft, destination: str, *, trailer_id: str | None, move_id: str | None, empty: bool
) -> bool:
    """Drive to ``destination``, with a break first if the drive would exceed the continuous limit."""
    km, seconds = timeline.travel(draft.place_id, destination)
    if destination == draft.place_id:
        return True
    if seconds > timeline.max_continuous_s:
        return False
    if draft.continuous_s + seconds > timeline.max_continuous_s:
        _rest(
            timeline, draft, ActivityKind.BREAK, draft.time_s + timeline.break_s, trailer_id=trailer_id, move_id=move_id
        )
    draft.add(
        Step(
            kind=ActivityKind.DRIVE,
            start_s=draft.time_s,
            end_s=draft.time_s + seconds,
            place_id=draft.place_id,
            to_place_id=destination,
            move_id=move_id,
            trailer_id=trailer_id,
            km=km,
            deadhead=trailer_id is None or empty,
        )
    )
    draft.place_id = destination
    draft.driving_s += seconds
    draft.continuous_s += seconds
    draft.rest_s = 0
    return True


def _handle(
    timeline: Timeline,
    draft: _Draft,
    kind: ActivityKind,
    leg: Leg,
    *,
    earliest_s: int,
    towed: str | None,
    limits: Limits,
) -> bool:
    """Hook or drop the leg's trailer at the current place, waiting for the place to be open if needed."""
    duration = timeline.hook_s if kind is ActivityKind.HOOK else timeline.drop_s
    start = timeline.open_slot(draft.place_id, max(earliest_s, draft.time_s), duration, relax=not limits.opening_hours)
    if start is None:
        return False
    _rest(timeline, draft, ActivityKind.WAIT, start, trailer_id=towed, move_id=leg.move_id if towed else None)
    draft.add(
        Step(
            kind=kind,
            start_s=start,
            end_s=start + duration,
            place_id=draft.place_id,
            move_id=leg.move_id,
            trailer_id=leg.trailer_id,
        )
    )
    draft.rest_s = 0
    return True


def _perform(timeline: Timeline, state: RunState, leg: Leg, start_s: int, limits: Limits) -> _Draft | None:
    """The steps of one move from the state (the run starting at ``start_s`` if it has not started)."""
    draft = _Draft.of(state, start_s)
    if not _drive(timeline, draft, leg.origin_id, trailer_id=None, move_id=None, empty=False):
        return None
    if not _handle(timeline, draft, ActivityKind.HOOK, leg, earliest_s=leg.earliest_hook_s, towed=None, limits=limits):
        return None
    towed = leg.trailer_id
    if not _drive(timeline, draft, leg.destination_id, trailer_id=towed, move_id=leg.move_id, empty=leg.empty):
        return None
    if not _handle(timeline, draft, ActivityKind.DROP, leg, earliest_s=draft.time_s, towed=towed, limits=limits):
        return None
    if limits.cutoff and leg.cutoff_s is not None and draft.time_s > leg.cutoff_s:
        return None
    return draft


def _within_limits(timeline: Timeline, state: RunState, draft: _Draft) -> bool:
    """Whether the draft, and the drive home after it, respect the run's hours and the driving rules."""
    home = _Draft(
        place_id=draft.place_id,
        time_s=draft.time_s,
        driving_s=draft.driving_s,
        continuous_s=draft.continuous_s,
        rest_s=draft.rest_s,
        first_start_s=draft.first_start_s,
    )
    if timeline.return_home and not _drive(timeline, home, state.home_id, trailer_id=None, move_id=None, empty=False):
        return False
    first = home.first_start_s if home.first_start_s is not None else home.time_s
    if first < state.earliest_s or home.time_s > state.deadline_s or home.time_s - first > timeline.max_duty_s:
        return False
    if state.driving_allowance_s is not None and home.driving_s > state.driving_allowance_s:
        return False
    return _night_ok(timeline, first, home.time_s)


def _night_ok(timeline: Timeline, first_s: int, last_s: int) -> bool:
    """Time on duty within each night window (the whole run is on duty) is within the night cap."""
    if timeline.max_night_s is None:
        return True
    return all(max(0, min(b, last_s) - max(a, first_s)) <= timeline.max_night_s for a, b in timeline.night)


def _state_after(state: RunState, leg: Leg, draft: _Draft) -> RunState:
    hook = next(step for step in draft.steps if step.kind is ActivityKind.HOOK)
    approach = sum(step.km for step in draft.steps if step.kind is ActivityKind.DRIVE and step.trailer_id is None)
    return RunState(
        tractor_id=state.tractor_id,
        driver_id=state.driver_id,
        escort_id=state.escort_id,
        home_id=state.home_id,
        earliest_s=state.earliest_s,
        deadline_s=state.deadline_s,
        place_id=draft.place_id,
        time_s=draft.time_s,
        steps=state.steps + tuple(draft.steps),
        moves=(*state.moves, leg.move_id),
        driving_s=draft.driving_s,
        driving_allowance_s=state.driving_allowance_s,
        continuous_s=draft.continuous_s,
        rest_s=draft.rest_s,
        last_hook_s=hook.start_s,
        last_drop_end_s=draft.time_s,
        last_approach_km=approach,
    )


def _leading_wait_s(draft: _Draft) -> int:
    """Waiting before the hook of a run's first move: the run could have started that much later."""
    total = 0
    for step in draft.steps:
        if step.kind is ActivityKind.HOOK:
            return total
        if step.kind is ActivityKind.WAIT:
            total += step.end_s - step.start_s
    return total


def append_move(timeline: Timeline, state: RunState, leg: Leg, limits: Limits = Limits()) -> RunState | None:
    """The run with ``leg`` performed next, or None if it does not fit.

    A run that has not started leaves its start place as late as it can without a later hook, so it
    does not begin its duty with a wait. The move fits when the drop meets the cut-off and the run,
    with the drive home after it (when the policy asks for it), stays within its hours and limits.
    """
    draft = _perform(timeline, state, leg, state.earliest_s, limits)
    if draft is None:
        return None
    if not state.started:
        draft = _start_later(timeline, state, leg, draft, limits)
    if not _within_limits(timeline, state, draft):
        return None
    return _state_after(state, leg, draft)


def _start_later(timeline: Timeline, state: RunState, leg: Leg, early: _Draft, limits: Limits) -> _Draft:
    """The first move's steps with the run's start delayed by the wait before the hook, when no worse."""
    wait = _leading_wait_s(early)
    for delay in (wait, wait - timeline.break_s):
        if delay <= 0:
            continue
        late = _perform(timeline, state, leg, state.earliest_s + delay, limits)
        if late is not None and late.time_s <= early.time_s and _within_limits(timeline, state, late):
            return late
    return early


def close_run(timeline: Timeline, state: RunState) -> RunState | None:
    """The run with the drive home appended (when the policy asks for it), or None if it does not fit."""
    if not state.started:
        return state
    draft = _Draft.of(state, state.time_s)
    if timeline.return_home and not _drive(timeline, draft, state.home_id, trailer_id=None, move_id=None, empty=False):
        return None
    if not _within_limits(timeline, state, draft):
        return None
    return RunState(
        tractor_id=state.tractor_id,
        driver_id=state.driver_id,
        escort_id=state.escort_id,
        home_id=state.home_id,
        earliest_s=state.earliest_s,
        deadline_s=state.deadline_s,
        place_id=draft.place_id,
        time_s=draft.time_s,
        steps=state.steps + tuple(draft.steps),
        moves=state.moves,
        driving_s=draft.driving_s,
        driving_allowance_s=state.driving_allowance_s,
        continuous_s=draft.continuous_s,
        rest_s=draft.rest_s,
        last_hook_s=state.last_hook_s,
        last_drop_end_s=state.last_drop_end_s,
        last_approach_km=state.last_approach_km,
    )


def to_run(timeline: Timeline, state: RunState) -> Run:
    """The plan's ``Run`` for a (closed) state: activities as datetimes, kilometres and deadhead."""
    problem = timeline.problem
    activities = tuple(
        Activity(
            kind=step.kind,
            start=at(problem, step.start_s),
            end=at(problem, step.end_s),
            place_id=step.place_id,
            to_place_id=step.to_place_id,
            move_id=step.move_id,
            trailer_id=step.trailer_id,
            km=step.km,
        )
        for step in state.steps
    )
    drives = [step for step in state.steps if step.kind is ActivityKind.DRIVE]
    return Run(
        tractor_id=state.tractor_id,
        driver_id=state.driver_id,
        escort_id=state.escort_id,
        moves=state.moves,
        activities=activities,
        km=sum(step.km for step in drives),
        deadhead_km=sum(step.km for step in drives if step.deadhead),
    )
