"""The independent drop-and-hook plan checker, on a small Pearl River Delta day built by hand.

The good plan: T01 hauls a loaded Midea box from Shunde to the Nansha terminal; T02 brings an empty
reefer from the Dongguan yard to a Baiyun cold store and, after 90 minutes of loading, collects it for
Nansha; T03 (hazmat crew) takes a petrol tank from the Lisha Island chemical berth to Nansha. The
move on an out-of-service trailer stays unassigned, and the spare tractor T04 stays home. Every other
test breaks that plan (or its problem) in one way and looks for the sentence that says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from msgspec.structs import replace

from dispatch.solver.matrix import TravelMatrix, great_circle_matrix
from dispatch.solver.plan_check import find_plan_violations, late_moves, plan_figures
from dispatch.solver.problem import (
    Activity,
    ActivityKind,
    Driver,
    Move,
    MoveKind,
    OpeningHours,
    Place,
    PlaceKind,
    Plan,
    PlanSummary,
    Policy,
    Problem,
    Qualification,
    Run,
    Tractor,
    Trailer,
    TrailerType,
    Unassigned,
    UnassignedReason,
)

GUANGDONG = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, *, day: int = 23) -> datetime:
    """A Guangdong wall-clock time in November 2026, in UTC as the planner exchanges it."""
    return datetime(2026, 11, day, hour, minute, tzinfo=GUANGDONG).astimezone(UTC)


# --- the problem -----------------------------------------------------------------------------------


def pearl_river_delta_problem() -> Problem:
    """One carrier's Monday out of a Dongguan yard."""
    places = (
        Place(
            id="dg-yard", name="Changping drop yard, Dongguan", kind=PlaceKind.YARD, latitude=22.970, longitude=114.002
        ),
        Place(
            id="fs-shunde",
            name="Midea Beijiao plant, Shunde, Foshan",
            latitude=22.918,
            longitude=113.206,
            opening_hours=(OpeningHours(open="07:00", close="20:00"),),
        ),
        Place(
            id="ns-terminal",
            name="Nansha Phase II container terminal",
            kind=PlaceKind.PORT_TERMINAL,
            latitude=22.678,
            longitude=113.662,
        ),
        Place(
            id="gz-cold",
            name="Baiyun cold-chain warehouse, Guangzhou",
            latitude=23.248,
            longitude=113.270,
            opening_hours=(OpeningHours(open="06:00", close="02:00"),),
        ),
        Place(
            id="dg-lisha",
            name="Lisha Island chemical berth, Dongguan",
            latitude=22.952,
            longitude=113.603,
            opening_hours=(OpeningHours(open="08:00", close="17:00"),),
        ),
    )
    hazmat_driver = frozenset({Qualification.HAZMAT_DRIVER})
    drivers = (
        Driver(id="D01", name="Chen Wei", shift_start=at(6), shift_end=at(20)),
        Driver(id="D02", name="Li Na", shift_start=at(6), shift_end=at(20)),
        Driver(id="D03", name="Huang Jun", shift_start=at(6), shift_end=at(20), qualifications=hazmat_driver),
        Driver(
            id="E03",
            name="Zhou Min",
            shift_start=at(6),
            shift_end=at(20),
            qualifications=frozenset({Qualification.HAZMAT_ESCORT}),
        ),
        Driver(id="D04", name="Wu Gang", shift_start=at(6), shift_end=at(20)),
    )
    tractors = (
        Tractor(id="T01", plate="粤S·D1201", home_place_id="dg-yard", driver_id="D01"),
        Tractor(id="T02", plate="粤S·D1202", home_place_id="dg-yard", driver_id="D02"),
        Tractor(
            id="T03", plate="粤S·W3303", home_place_id="dg-yard", hazmat_approved=True, driver_id="D03", escort_id="E03"
        ),
        Tractor(id="T04", plate="粤S·D1204", home_place_id="dg-yard", driver_id="D04"),
    )
    trailers = (
        Trailer(id="GDB-5518", plate="粤S·5518挂", type=TrailerType.BOX, place_id="fs-shunde", loaded=True),
        Trailer(
            id="GDB-9902",
            plate="粤S·9902挂",
            type=TrailerType.BOX,
            place_id="fs-shunde",
            loaded=True,
            out_of_service=True,
        ),
        Trailer(id="GDR-7101", plate="粤S·7101挂", type=TrailerType.REEFER, place_id="dg-yard"),
        Trailer(id="GDB-1204", plate="粤S·1204挂", type=TrailerType.BOX, place_id="dg-yard"),
        Trailer(
            id="GDT-3307",
            plate="粤S·3307挂",
            type=TrailerType.TANK,
            place_id="dg-lisha",
            loaded=True,
            hazmat_approved=True,
        ),
    )
    moves = (
        Move(
            id="M1",
            trailer_id="GDB-5518",
            origin_id="fs-shunde",
            destination_id="ns-terminal",
            ready_at=at(8, 30),
            deliver_by=at(12),
            cutoff=at(18),
            waybill_number="GD2611230001",
        ),
        Move(
            id="M2",
            kind=MoveKind.POSITION,
            trailer_type=TrailerType.REEFER,
            destination_id="gz-cold",
            deliver_by=at(10),
        ),
        Move(
            id="M3",
            kind=MoveKind.COLLECT,
            trailer_type=TrailerType.REEFER,
            destination_id="ns-terminal",
            after_move="M2",
            loading_minutes=90,
            deliver_by=at(16),
            cutoff=at(18),
        ),
        Move(  # UN 1203 motor spirit, class 3
            id="M4",
            trailer_id="GDT-3307",
            trailer_type=TrailerType.TANK,
            origin_id="dg-lisha",
            destination_id="ns-terminal",
            ready_at=at(8),
            cutoff=at(12),
            hazmat=True,
        ),
        Move(id="M5", trailer_id="GDB-9902", origin_id="fs-shunde", destination_id="ns-terminal"),
    )
    return Problem(
        start=at(6), places=places, tractors=tractors, drivers=drivers, trailers=trailers, moves=moves, policy=Policy()
    )


# --- building plans by hand ------------------------------------------------------------------------


class RunBuilder:
    """Lays one tractor's activities end to end; drives take the matrix minutes rounded to the minute."""

    def __init__(self, problem: Problem, tractor_id: str, *, start: datetime) -> None:
        self.policy = problem.policy
        self.matrix = great_circle_matrix(problem.places, problem.matrix)
        self.tractor = next(tractor for tractor in problem.tractors if tractor.id == tractor_id)
        self.place = self.tractor.start_place_id or self.tractor.home_place_id
        self.now = start
        self.activities: list[Activity] = []
        self.moves: list[str] = []
        self.trailer_id: str | None = None
        self.move_id: str | None = None
        self.towing_empty = False
        self.km = 0.0
        self.deadhead_km = 0.0

    def drive(self, to: str) -> RunBuilder:
        km, minutes = self.matrix.between(self.place, to)
        self._add(ActivityKind.DRIVE, round(minutes), to_place_id=to, km=km)
        self.km += km
        if self.trailer_id is None or self.towing_empty:
            self.deadhead_km += km
        self.place = to
        return self

    def hook(self, trailer_id: str, move_id: str, *, empty: bool = False) -> RunBuilder:
        self.trailer_id, self.move_id, self.towing_empty = trailer_id, move_id, empty
        self.moves.append(move_id)
        self._add(ActivityKind.HOOK, self.policy.hook_minutes)
        return self

    def drop(self) -> RunBuilder:
        self._add(ActivityKind.DROP, self.policy.drop_minutes)
        self.trailer_id, self.move_id, self.towing_empty = None, None, False
        return self

    def wait(self, minutes: float) -> RunBuilder:
        self._add(ActivityKind.WAIT, minutes)
        return self

    def wait_until(self, moment: datetime) -> RunBuilder:
        return self.wait((moment - self.now).total_seconds() / 60)

    def rest(self, minutes: float) -> RunBuilder:
        self._add(ActivityKind.BREAK, minutes)
        return self

    def run(self) -> Run:
        return Run(
            tractor_id=self.tractor.id,
            driver_id=self.tractor.driver_id,
            escort_id=self.tractor.escort_id,
            moves=tuple(self.moves),
            activities=tuple(self.activities),
            km=self.km,
            deadhead_km=self.deadhead_km,
        )

    def _add(self, kind: ActivityKind, minutes: float, *, to_place_id: str | None = None, km: float = 0.0) -> None:
        end = self.now + timedelta(minutes=minutes)
        self.activities.append(
            Activity(
                kind=kind,
                start=self.now,
                end=end,
                place_id=self.place,
                to_place_id=to_place_id,
                move_id=self.move_id,
                trailer_id=self.trailer_id,
                km=km,
            )
        )
        self.now = end


M5_UNASSIGNED = Unassigned(
    move_id="M5", reason=UnassignedReason.TRAILER_OUT_OF_SERVICE, detail="trailer GDB-9902 is out of service"
)


def plan_of(*runs: Run, unassigned: tuple[Unassigned, ...] = (M5_UNASSIGNED,)) -> Plan:
    """A plan with its summary added up from the runs (no late moves)."""
    duty = sum((run.activities[-1].end - run.activities[0].start).total_seconds() / 60 for run in runs)
    summary = PlanSummary(
        tractors_used=len(runs),
        moves_planned=sum(len(run.moves) for run in runs),
        moves_unassigned=len(unassigned),
        late_moves=0,
        km=sum(run.km for run in runs),
        deadhead_km=sum(run.deadhead_km for run in runs),
        duty_minutes=duty,
    )
    return Plan(runs=runs, unassigned=unassigned, summary=summary, solver="by hand")


def t01_hauls_the_midea_box(problem: Problem) -> RunBuilder:
    return (
        RunBuilder(problem, "T01", start=at(7))
        .drive("fs-shunde")
        .hook("GDB-5518", "M1")
        .drive("ns-terminal")
        .drop()
        .rest(20)
        .drive("dg-yard")
    )


def t02_positions_and_collects_the_reefer(problem: Problem) -> RunBuilder:
    return (
        RunBuilder(problem, "T02", start=at(7))
        .hook("GDR-7101", "M2", empty=True)
        .drive("gz-cold")
        .drop()
        .wait(90)
        .hook("GDR-7101", "M3")
        .drive("ns-terminal")
        .drop()
        .drive("dg-yard")
    )


def t03_takes_the_petrol_tank(problem: Problem) -> RunBuilder:
    return (
        RunBuilder(problem, "T03", start=at(6, 30))
        .drive("dg-lisha")
        .wait_until(at(8))
        .hook("GDT-3307", "M4")
        .drive("ns-terminal")
        .drop()
        .drive("dg-yard")
    )


def good_plan(problem: Problem) -> Plan:
    """The feasible plan described in the module docstring."""
    return plan_of(
        t01_hauls_the_midea_box(problem).run(),
        t02_positions_and_collects_the_reefer(problem).run(),
        t03_takes_the_petrol_tank(problem).run(),
    )


# --- small edits -----------------------------------------------------------------------------------

Item = TypeVar("Item", Place, Tractor, Driver, Trailer, Move)


def changed(items: tuple[Item, ...], item_id: str, **changes: Any) -> tuple[Item, ...]:
    """The items with the one of ``item_id`` changed."""
    return tuple(replace(item, **changes) if item.id == item_id else item for item in items)


def run_of(plan: Plan, tractor_id: str) -> Run:
    return next(run for run in plan.runs if run.tractor_id == tractor_id)


def with_run(plan: Plan, tractor_id: str, /, **changes: Any) -> Plan:
    runs = tuple(replace(run, **changes) if run.tractor_id == tractor_id else run for run in plan.runs)
    return replace(plan, runs=runs)


def with_runs(plan: Plan, *runs: Run) -> Plan:
    """The plan with these runs in place of the same tractors' runs (the summary kept)."""
    by_tractor = {run.tractor_id: run for run in runs}
    return replace(plan, runs=tuple(by_tractor.get(run.tractor_id, run) for run in plan.runs))


def with_activity(plan: Plan, tractor_id: str, number: int, **changes: Any) -> Plan:
    """The plan with activity ``number`` (from 1) of the tractor's run changed."""
    activities = list(run_of(plan, tractor_id).activities)
    activities[number - 1] = replace(activities[number - 1], **changes)
    return with_run(plan, tractor_id, activities=tuple(activities))


def lengthened(plan: Plan, tractor_id: str, number: int, minutes: float) -> Plan:
    """The plan with activity ``number`` longer by ``minutes`` and everything after it later."""
    shift = timedelta(minutes=minutes)
    activities = []
    for index, activity in enumerate(run_of(plan, tractor_id).activities, start=1):
        if index == number:
            activity = replace(activity, end=activity.end + shift)
        elif index > number:
            activity = replace(activity, start=activity.start + shift, end=activity.end + shift)
        activities.append(activity)
    return with_run(plan, tractor_id, activities=tuple(activities))


def violations_of(problem: Problem, plan: Plan) -> list[str]:
    return find_plan_violations(problem, plan, great_circle_matrix(problem.places, problem.matrix))


def assert_reported(violations: list[str], *fragments: str) -> None:
    """One violation contains every fragment."""
    assert any(all(fragment in violation for fragment in fragments) for violation in violations), violations


@pytest.fixture
def problem() -> Problem:
    return pearl_river_delta_problem()


@pytest.fixture
def matrix(problem: Problem) -> TravelMatrix:
    return great_circle_matrix(problem.places, problem.matrix)


@pytest.fixture
def plan(problem: Problem) -> Plan:
    return good_plan(problem)


# --- the good plan ---------------------------------------------------------------------------------


def test_the_hand_built_plan_is_feasible(problem: Problem, plan: Plan, matrix: TravelMatrix) -> None:
    assert find_plan_violations(problem, plan, matrix) == []


def test_the_hand_built_plan_has_no_late_move(problem: Problem, plan: Plan) -> None:
    assert late_moves(problem, plan) == []


def test_the_recomputed_figures_match_the_hand_built_summary(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    figures = plan_figures(problem, plan, matrix)

    assert (figures.tractors_used, figures.moves_planned, figures.moves_unassigned, figures.late_moves) == (3, 4, 1, 0)
    assert figures.km == pytest.approx(plan.summary.km)
    assert figures.deadhead_km == pytest.approx(plan.summary.deadhead_km)
    assert figures.duty_minutes == pytest.approx(plan.summary.duty_minutes)


def test_bobtail_driving_and_towing_an_empty_trailer_are_deadhead(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    def road_km(origin: str, destination: str) -> float:
        return matrix.between(origin, destination)[0]

    bobtail = road_km("dg-yard", "fs-shunde") + road_km("dg-yard", "dg-lisha") + 3 * road_km("ns-terminal", "dg-yard")
    empty_reefer_to_baiyun = road_km("dg-yard", "gz-cold")

    assert plan_figures(problem, plan, matrix).deadhead_km == pytest.approx(bobtail + empty_reefer_to_baiyun)


def test_a_trailer_can_be_dropped_by_one_tractor_and_collected_by_another(problem: Problem) -> None:
    t02 = RunBuilder(problem, "T02", start=at(7)).hook("GDR-7101", "M2", empty=True).drive("gz-cold").drop()
    t04 = RunBuilder(problem, "T04", start=at(9, 30)).drive("gz-cold").hook("GDR-7101", "M3").drive("ns-terminal")
    relay = plan_of(
        t01_hauls_the_midea_box(problem).run(),
        t02.drive("dg-yard").run(),
        t03_takes_the_petrol_tank(problem).run(),
        t04.drop().rest(20).drive("dg-yard").run(),
    )

    assert violations_of(problem, relay) == []


# --- 1. coverage -----------------------------------------------------------------------------------


def test_every_move_is_planned_or_unassigned(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, replace(plan, unassigned=()))

    assert_reported(violations, "move M5 is neither in a run nor unassigned")


def test_a_move_cannot_be_both_planned_and_unassigned(problem: Problem, plan: Plan) -> None:
    also_m1 = Unassigned(move_id="M1", reason=UnassignedReason.FLEET_FULL, detail="no tractor left")
    violations = violations_of(problem, replace(plan, unassigned=(*plan.unassigned, also_m1)))

    assert_reported(violations, "move M1 is in the run of tractor T01 and also unassigned")


def test_a_move_cannot_be_in_two_runs(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_run(plan, "T03", moves=("M4", "M1")))

    assert_reported(violations, "move M1 is listed 2 times in runs (tractors T01, T03)")


def test_an_unknown_move_cannot_be_unassigned(problem: Problem, plan: Plan) -> None:
    ghost = Unassigned(move_id="M99", reason=UnassignedReason.NO_TRACTOR, detail="")
    violations = violations_of(problem, replace(plan, unassigned=(*plan.unassigned, ghost)))

    assert_reported(violations, "unassigned move M99 is not in the problem")


def test_a_tractor_has_at_most_one_run(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, replace(plan, runs=(*plan.runs, run_of(plan, "T01"))))

    assert_reported(violations, "tractor T01: the tractor has 2 runs, not one")


def test_a_run_lists_its_moves_in_the_order_it_hooks_them(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_run(plan, "T02", moves=("M3", "M2")))

    assert_reported(violations, "tractor T02: the run lists moves (M3, M2) but hooks moves (M2, M3)")


def test_a_fixed_run_kept_unchanged_counts_as_planned(problem: Problem, plan: Plan) -> None:
    under_way = replace(problem, fixed_runs=(run_of(plan, "T01"),))

    assert violations_of(under_way, plan) == []


def test_a_fixed_run_cannot_be_changed(problem: Problem, plan: Plan) -> None:
    t01 = run_of(plan, "T01")
    under_way = replace(problem, fixed_runs=(replace(t01, activities=t01.activities[:-1]),))

    assert_reported(violations_of(under_way, plan), "tractor T01: the fixed run is changed in the plan")


def test_a_fixed_run_cannot_be_left_out(problem: Problem, plan: Plan) -> None:
    under_way = replace(problem, fixed_runs=(run_of(plan, "T01"),))
    without_t01 = replace(plan, runs=tuple(run for run in plan.runs if run.tractor_id != "T01"))

    violations = violations_of(under_way, without_t01)

    assert_reported(violations, "tractor T01: the fixed run is missing from the plan")
    assert_reported(violations, "move M1 is neither in a run nor unassigned")


# --- 2. crew ---------------------------------------------------------------------------------------


def test_a_run_is_driven_by_its_tractors_driver(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_run(plan, "T01", driver_id="D04"))

    assert_reported(violations, "tractor T01: the run's driver is D04 but the tractor's driver is D01")


def test_a_run_takes_its_tractors_escort(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_run(plan, "T03", escort_id=None))

    assert_reported(violations, "tractor T03: the run's escort is None but the tractor's escort is E03")


# --- 3. timeline and places ------------------------------------------------------------------------


def test_each_activity_starts_when_the_previous_one_ends(problem: Problem, plan: Plan) -> None:
    drive = run_of(plan, "T01").activities[2]
    late_start = with_activity(plan, "T01", 3, start=drive.start + timedelta(minutes=5))

    assert_reported(
        violations_of(problem, late_start),
        "tractor T01: activity 3 (drive of move M1) starts at 2026-11-23 09:16+08:00 "
        "but activity 2 ends at 09:11+08:00",
    )


def test_an_activity_cannot_end_before_it_starts(problem: Problem, plan: Plan) -> None:
    rest = run_of(plan, "T01").activities[4]
    violations = violations_of(problem, with_activity(plan, "T01", 5, end=rest.start - timedelta(minutes=1)))

    assert_reported(violations, "activity 5 (break) ends at", "before it starts at")


def test_a_run_cannot_start_before_the_drivers_shift(problem: Problem, plan: Plan) -> None:
    late_shift = replace(problem, drivers=changed(problem.drivers, "D01", shift_start=at(7, 30)))

    assert_reported(
        violations_of(late_shift, plan),
        "tractor T01: the run starts at 2026-11-23 07:00+08:00 before driver D01's shift starts at 07:30+08:00",
    )


def test_a_run_cannot_start_before_the_tractor_is_available(problem: Problem, plan: Plan) -> None:
    in_the_workshop = replace(problem, tractors=changed(problem.tractors, "T03", available_from=at(7)))

    assert_reported(violations_of(in_the_workshop, plan), "tractor T03: the run starts at", "the tractor is available")


def test_a_run_ends_within_the_planning_horizon(problem: Problem, plan: Plan) -> None:
    short_day = replace(problem, horizon_hours=6)

    assert_reported(
        violations_of(short_day, plan), "tractor T01: the run ends at", "after the end of the planning horizon at"
    )


def test_a_run_ends_before_the_tractor_is_withdrawn(problem: Problem, plan: Plan) -> None:
    withdrawn = replace(problem, tractors=changed(problem.tractors, "T01", available_until=at(12)))

    assert_reported(
        violations_of(withdrawn, plan),
        "tractor T01: the run ends at 2026-11-23 12:10+08:00 after the tractor's availability ends at 12:00+08:00",
    )


def test_a_run_ends_before_the_escorts_shift_ends(problem: Problem, plan: Plan) -> None:
    early_escort = replace(problem, drivers=changed(problem.drivers, "E03", shift_end=at(10)))

    assert_reported(violations_of(early_escort, plan), "tractor T03: the run ends at", "escort E03's shift ends")


def test_a_tractor_returns_home_when_the_policy_says_so(problem: Problem, plan: Plan) -> None:
    t01 = run_of(plan, "T01")
    violations = violations_of(problem, with_run(plan, "T01", activities=t01.activities[:-1]))

    assert_reported(violations, "tractor T01: the run ends at ns-terminal, not at the tractor's home dg-yard")


def test_a_tractor_may_stay_out_when_the_policy_allows(problem: Problem, plan: Plan) -> None:
    stays_out = replace(problem, policy=Policy(return_home=False))
    t01 = run_of(plan, "T01")
    violations = violations_of(stays_out, with_run(plan, "T01", activities=t01.activities[:-1]))

    assert not [violation for violation in violations if "home" in violation]


def test_a_run_starts_where_the_tractor_is(problem: Problem, plan: Plan) -> None:
    elsewhere = replace(problem, tractors=changed(problem.tractors, "T01", start_place_id="ns-terminal"))

    assert_reported(
        violations_of(elsewhere, plan),
        "tractor T01: activity 1 (drive) starts at dg-yard but the tractor is at ns-terminal",
    )


def test_a_drive_starts_where_the_previous_activity_left_the_tractor(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 3, place_id="dg-lisha"))

    assert_reported(violations, "activity 3 (drive of move M1) starts at dg-lisha but the tractor is at fs-shunde")


# --- 4. drives -------------------------------------------------------------------------------------


def test_a_drive_covers_the_matrix_distance(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 1, km=90.0))

    assert_reported(
        violations, "activity 1 (drive) covers 90.00 km but the matrix says 106.", "from dg-yard to fs-shunde"
    )


def test_a_drive_may_be_off_the_matrix_minutes_by_rounding(problem: Problem, plan: Plan) -> None:
    assert violations_of(problem, lengthened(plan, "T01", 1, minutes=-0.9)) == []


def test_a_drive_takes_the_matrix_minutes(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, lengthened(plan, "T01", 1, minutes=10))

    assert_reported(violations, "activity 1 (drive) takes 126.0 min but the matrix says 115.9 min")


def test_a_drive_goes_somewhere_else(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 6, to_place_id="ns-terminal"))

    assert_reported(violations, "activity 6 (drive) drives from ns-terminal to the same place")


# --- 5. one trailer per tractor --------------------------------------------------------------------


def test_a_tractor_cannot_hook_a_second_trailer(problem: Problem, plan: Plan) -> None:
    two_trailers = (
        RunBuilder(problem, "T02", start=at(7))
        .hook("GDR-7101", "M2", empty=True)
        .hook("GDB-1204", "M2", empty=True)
        .drive("gz-cold")
        .drop()
        .drive("dg-yard")
    )
    violations = violations_of(problem, with_runs(plan, two_trailers.run()))

    assert_reported(
        violations,
        "tractor T02: activity 2 (hook of move M2) hooks trailer GDB-1204 "
        "while the tractor still tows trailer GDR-7101",
    )


def test_a_tractor_drops_only_the_trailer_it_tows(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 4, trailer_id="GDB-1204"))

    assert_reported(
        violations, "activity 4 (drop of move M1) drops trailer GDB-1204 but the tractor tows trailer GDB-5518"
    )


def test_a_tractor_cannot_drop_a_trailer_it_does_not_tow(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 5, kind=ActivityKind.DROP, trailer_id="GDB-5518"))

    assert_reported(violations, "tractor T01: activity 5 (drop) drops trailer GDB-5518 but the tractor tows none")


def test_a_loaded_drive_names_the_towed_trailer(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 3, trailer_id=None))

    assert_reported(violations, "activity 3 (drive of move M1) names no trailer but the tractor tows trailer GDB-5518")


def test_a_bobtail_drive_names_no_trailer(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 1, trailer_id="GDB-5518"))

    assert_reported(violations, "activity 1 (drive) names trailer GDB-5518 but the tractor is bobtail")


def test_a_hooked_trailer_is_dropped_before_the_run_ends(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 4, kind=ActivityKind.WAIT))

    assert_reported(violations, "tractor T01: activity 2 (hook of move M1) hooks trailer GDB-5518 and never drops it")


def test_a_hook_takes_at_least_the_hook_minutes(problem: Problem, plan: Plan) -> None:
    slower_hooks = replace(problem, policy=Policy(hook_minutes=20))

    assert_reported(
        violations_of(slower_hooks, plan),
        "activity 2 (hook of move M1) takes 15.0 min, less than the 20 min a hook needs",
    )


def test_a_drop_takes_at_least_the_drop_minutes(problem: Problem, plan: Plan) -> None:
    slower_drops = replace(problem, policy=Policy(drop_minutes=25))

    assert_reported(violations_of(slower_drops, plan), "less than the 25 min a drop needs")


# --- 6. moves --------------------------------------------------------------------------------------


def test_a_haul_hooks_the_trailer_it_names(problem: Problem, plan: Plan) -> None:
    other_box = replace(problem, moves=changed(problem.moves, "M1", trailer_id="GDB-1204"))

    assert_reported(
        violations_of(other_box, plan),
        "tractor T01: move M1 hooks trailer GDB-5518 but the move is for trailer GDB-1204",
    )


def test_a_move_is_hooked_at_its_origin(problem: Problem, plan: Plan) -> None:
    from_lisha = replace(problem, moves=changed(problem.moves, "M1", origin_id="dg-lisha"))

    assert_reported(violations_of(from_lisha, plan), "move M1 is hooked at fs-shunde, not at its origin dg-lisha")


def test_a_move_is_dropped_at_its_destination(problem: Problem, plan: Plan) -> None:
    to_baiyun = replace(problem, moves=changed(problem.moves, "M1", destination_id="gz-cold"))

    assert_reported(violations_of(to_baiyun, plan), "move M1 is dropped at ns-terminal, not at its destination gz-cold")


def test_a_collect_takes_the_trailer_its_position_move_brought(problem: Problem, plan: Plan) -> None:
    wrong_trailer = (
        RunBuilder(problem, "T02", start=at(7))
        .hook("GDR-7101", "M2", empty=True)
        .drive("gz-cold")
        .drop()
        .wait(90)
        .hook("GDB-1204", "M3")
        .drive("ns-terminal")
        .drop()
        .drive("dg-yard")
    )
    violations = violations_of(problem, with_runs(plan, wrong_trailer.run()))

    assert_reported(violations, "tractor T02: move M3 hooks trailer GDB-1204 but move M2 brought trailer GDR-7101")


def test_a_collect_waits_for_the_loading(problem: Problem, plan: Plan) -> None:
    slow_loading = replace(problem, moves=changed(problem.moves, "M3", loading_minutes=120))

    assert_reported(
        violations_of(slow_loading, plan),
        "tractor T02: move M3 hooked at 2026-11-23 10:55+08:00 before move M2's trailer is ready at 11:25+08:00",
    )


def test_a_collect_after_an_unassigned_position_move_is_unassigned_too(problem: Problem, plan: Plan) -> None:
    no_reefer = Unassigned(move_id="M2", reason=UnassignedReason.NO_EMPTY_TRAILER, detail="no reefer free")
    half_plan = replace(with_run(plan, "T02", moves=("M3",)), unassigned=(*plan.unassigned, no_reefer))

    assert_reported(
        violations_of(problem, half_plan), "move M3 is planned but move M2, which it follows, is unassigned"
    )


def test_a_position_move_brings_an_empty_trailer(problem: Problem, plan: Plan) -> None:
    loaded_reefer = replace(problem, trailers=changed(problem.trailers, "GDR-7101", loaded=True))

    assert_reported(violations_of(loaded_reefer, plan), "move M2 positions trailer GDR-7101, which is loaded")


# --- 7. time windows -------------------------------------------------------------------------------


def test_a_move_is_not_hooked_before_it_is_ready(problem: Problem, plan: Plan) -> None:
    later = replace(problem, moves=changed(problem.moves, "M1", ready_at=at(9, 30)))

    assert_reported(
        violations_of(later, plan),
        "tractor T01: move M1 hooked at 2026-11-23 08:56+08:00 before it is ready at 09:30+08:00",
    )


def test_a_drop_after_the_cutoff_is_infeasible(problem: Problem, plan: Plan) -> None:
    early_cutoff = replace(problem, moves=changed(problem.moves, "M1", cutoff=at(10)))

    assert_reported(
        violations_of(early_cutoff, plan),
        "tractor T01: move M1 dropped at 2026-11-23 10:42+08:00 after the cut-off 10:00+08:00",
    )


def test_a_drop_after_deliver_by_is_late_but_feasible(problem: Problem, plan: Plan) -> None:
    promised_earlier = replace(problem, moves=changed(problem.moves, "M1", deliver_by=at(10)))
    summary_with_one_late = replace(plan.summary, late_moves=1)

    assert late_moves(promised_earlier, plan) == ["M1"]
    assert violations_of(promised_earlier, replace(plan, summary=summary_with_one_late)) == []


# --- 8. opening hours ------------------------------------------------------------------------------


def test_a_hook_lies_within_the_opening_hours(problem: Problem, plan: Plan) -> None:
    opens_at_nine = replace(
        problem, places=changed(problem.places, "fs-shunde", opening_hours=(OpeningHours(open="09:00", close="20:00"),))
    )

    assert_reported(
        violations_of(opens_at_nine, plan),
        "tractor T01: activity 2 (hook of move M1) at fs-shunde from 2026-11-23 08:56+08:00 to 09:11+08:00 "
        "is outside its opening hours 09:00-20:00",
    )


def test_a_drop_lies_within_the_opening_hours(problem: Problem, plan: Plan) -> None:
    short_gate = replace(
        problem,
        places=changed(problem.places, "ns-terminal", opening_hours=(OpeningHours(open="08:00", close="10:30"),)),
    )

    assert_reported(violations_of(short_gate, plan), "tractor T01: activity 4 (drop of move M1) at ns-terminal")


def test_opening_hours_past_midnight_cover_the_next_morning(problem: Problem, plan: Plan) -> None:
    night_store = replace(
        problem, places=changed(problem.places, "gz-cold", opening_hours=(OpeningHours(open="22:00", close="12:00"),))
    )

    assert violations_of(night_store, plan) == []


def test_opening_hours_past_midnight_close_in_the_morning(problem: Problem, plan: Plan) -> None:
    night_store = replace(
        problem, places=changed(problem.places, "gz-cold", opening_hours=(OpeningHours(open="22:00", close="10:00"),))
    )

    assert_reported(violations_of(night_store, plan), "activity 5 (hook of move M3) at gz-cold")


def test_back_to_back_opening_windows_join_up(problem: Problem, plan: Plan) -> None:
    split_day = (OpeningHours(open="06:00", close="09:15"), OpeningHours(open="09:15", close="24:00"))
    shifts = replace(problem, places=changed(problem.places, "gz-cold", opening_hours=split_day))

    assert violations_of(shifts, plan) == []


def test_a_handling_cannot_straddle_a_closed_gap(problem: Problem, plan: Plan) -> None:
    lunch_break = (OpeningHours(open="06:00", close="09:15"), OpeningHours(open="09:20", close="24:00"))
    closed_at_noon = replace(problem, places=changed(problem.places, "gz-cold", opening_hours=lunch_break))

    assert_reported(violations_of(closed_at_noon, plan), "activity 3 (drop of move M2) at gz-cold")


# --- 9. trailers across runs -----------------------------------------------------------------------


def test_an_out_of_service_trailer_is_never_hooked(problem: Problem, plan: Plan) -> None:
    broken_box = replace(problem, trailers=changed(problem.trailers, "GDB-5518", out_of_service=True))

    assert_reported(violations_of(broken_box, plan), "trailer GDB-5518 is out of service but tractor T01 hooks it")


def test_a_trailer_is_hooked_where_it_stands(problem: Problem, plan: Plan) -> None:
    tank_at_nansha = replace(problem, trailers=changed(problem.trailers, "GDT-3307", place_id="ns-terminal"))

    assert_reported(
        violations_of(tank_at_nansha, plan),
        "trailer GDT-3307 is hooked by tractor T03 at dg-lisha but it stands at ns-terminal",
    )


def test_a_trailer_is_not_hooked_before_it_is_available(problem: Problem, plan: Plan) -> None:
    tank_at_nine = replace(problem, trailers=changed(problem.trailers, "GDT-3307", available_from=at(9)))

    assert_reported(
        violations_of(tank_at_nine, plan),
        "trailer GDT-3307 is hooked by tractor T03 at 2026-11-23 08:00+08:00 before it is free at 09:00+08:00",
    )


def test_a_trailer_cannot_be_towed_by_two_tractors_at_once(problem: Problem, plan: Plan) -> None:
    twin = replace(run_of(plan, "T01"), tractor_id="T04", driver_id="D04")
    violations = violations_of(problem, replace(plan, runs=(*plan.runs, twin)))

    assert_reported(
        violations, "trailer GDB-5518 is hooked by tractor T04 at 2026-11-23 08:56+08:00 while tractor T01 tows it"
    )


def test_a_trailer_is_collected_after_its_drop(problem: Problem) -> None:
    t02 = RunBuilder(problem, "T02", start=at(7)).hook("GDR-7101", "M2", empty=True).drive("gz-cold").drop()
    t04 = RunBuilder(problem, "T04", start=at(6, 50)).drive("gz-cold").hook("GDR-7101", "M3").drive("ns-terminal")
    too_early = replace(problem, moves=changed(problem.moves, "M3", loading_minutes=0))
    relay = plan_of(
        t01_hauls_the_midea_box(problem).run(),
        t02.drive("dg-yard").run(),
        t03_takes_the_petrol_tank(problem).run(),
        t04.drop().rest(20).drive("dg-yard").run(),
    )

    assert_reported(
        violations_of(too_early, relay), "trailer GDR-7101 is hooked by tractor T04 at", "while tractor T02 tows it"
    )


# --- 10. compatibility -----------------------------------------------------------------------------


def test_a_reefer_load_needs_a_reefer_trailer(problem: Problem, plan: Plan) -> None:
    box_instead = (
        RunBuilder(problem, "T02", start=at(7))
        .hook("GDB-1204", "M2", empty=True)
        .drive("gz-cold")
        .drop()
        .wait(90)
        .hook("GDB-1204", "M3")
        .drive("ns-terminal")
        .drop()
        .drive("dg-yard")
    )
    violations = violations_of(problem, with_runs(plan, box_instead.run()))

    assert_reported(violations, "tractor T02: move M2 needs a reefer trailer but trailer GDB-1204 is a box")


def test_a_hazmat_move_needs_an_approved_tractor(problem: Problem, plan: Plan) -> None:
    plain_tractor = replace(problem, tractors=changed(problem.tractors, "T03", hazmat_approved=False))

    assert_reported(violations_of(plain_tractor, plan), "hazmat move M4 needs a tractor approved for dangerous goods")


def test_a_hazmat_move_needs_a_certified_driver(problem: Problem, plan: Plan) -> None:
    uncertified = replace(problem, drivers=changed(problem.drivers, "D03", qualifications=frozenset()))

    assert_reported(
        violations_of(uncertified, plan),
        "hazmat move M4 needs a dangerous-goods driver certificate but driver D03 has none",
    )


def test_a_hazmat_move_needs_a_certified_escort(problem: Problem, plan: Plan) -> None:
    no_escort = replace(problem, tractors=changed(problem.tractors, "T03", escort_id=None))
    violations = violations_of(no_escort, with_run(plan, "T03", escort_id=None))

    assert violations == [
        "tractor T03: hazmat move M4 needs a dangerous-goods escort certificate but the run has no escort"
    ]


def test_a_hazmat_move_needs_an_approved_trailer(problem: Problem, plan: Plan) -> None:
    plain_tank = replace(problem, trailers=changed(problem.trailers, "GDT-3307", hazmat_approved=False))

    assert_reported(violations_of(plain_tank, plan), "hazmat move M4 needs a trailer approved for dangerous goods")


# --- 11-14. driver hours ---------------------------------------------------------------------------


def test_four_hours_of_driving_need_a_break_of_the_break_length(problem: Problem, plan: Plan) -> None:
    longer_breaks = replace(problem, policy=Policy(break_minutes=30))

    assert violations_of(longer_breaks, plan) == [
        "tractor T01: activity 6 (drive) brings continuous driving to 260.0 min, "
        "over the 240 min allowed without a 30 min break"
    ]


def test_a_wait_and_a_break_back_to_back_make_one_rest(problem: Problem, plan: Plan) -> None:
    split_rest = (
        RunBuilder(problem, "T01", start=at(7))
        .drive("fs-shunde")
        .hook("GDB-5518", "M1")
        .drive("ns-terminal")
        .drop()
        .wait(10)
        .rest(10)
        .drive("dg-yard")
    )

    assert violations_of(problem, with_runs(plan, split_rest.run())) == []


def test_driving_before_the_shift_counts_towards_the_break(problem: Problem, plan: Plan) -> None:
    tired = replace(problem, drivers=changed(problem.drivers, "D03", continuous_driving_minutes=200))

    assert_reported(
        violations_of(tired, plan), "tractor T03: activity 1 (drive) brings continuous driving to 258.0 min"
    )


def test_a_run_stays_within_the_duty_limit(problem: Problem, plan: Plan) -> None:
    short_duty = replace(problem, policy=Policy(max_duty_minutes=400))

    assert violations_of(short_duty, plan) == [
        "tractor T02: the run is on duty for 439.0 min, over the 400 min allowed"
    ]


def test_daily_driving_counts_the_previous_24_hours(problem: Problem, plan: Plan) -> None:
    drove_yesterday = replace(problem, drivers=changed(problem.drivers, "D02", driven_minutes_last_24h=200))

    assert violations_of(drove_yesterday, plan) == [
        "tractor T02: the driver drives 289.0 min after 200 min in the previous 24 hours, "
        "over the 480 min allowed in 24 hours"
    ]


def test_night_driving_is_capped(problem: Problem, plan: Plan) -> None:
    early_night = replace(problem, policy=Policy(night_start="05:00", night_end="07:30", max_night_driving_minutes=30))

    assert violations_of(early_night, plan) == [
        "tractor T03: the run drives 58.0 min in the night from 2026-11-23 05:00+08:00 to 07:30+08:00, "
        "over the 30 min allowed"
    ]


def test_the_night_runs_past_midnight(problem: Problem, plan: Plan) -> None:
    long_night = replace(problem, policy=Policy(night_start="22:00", night_end="07:00", max_night_driving_minutes=20))

    assert violations_of(long_night, plan) == [
        "tractor T03: the run drives 30.0 min in the night from 2026-11-22 22:00+08:00 to 2026-11-23 07:00+08:00, "
        "over the 20 min allowed"
    ]


# --- 15. figures -----------------------------------------------------------------------------------


def test_run_km_add_up_its_drives(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_run(plan, "T01", km=run_of(plan, "T01").km + 5))

    assert_reported(violations, "tractor T01: the run says", "km but its drives cover")


def test_hauling_an_empty_trailer_is_deadhead(problem: Problem, plan: Plan) -> None:
    empty_box = replace(problem, trailers=changed(problem.trailers, "GDB-5518", loaded=False))

    assert_reported(violations_of(empty_box, plan), "tractor T01: the run says", "deadhead km but its drives have")


def test_the_summary_km_add_up_the_runs(problem: Problem, plan: Plan) -> None:
    padded = replace(plan, summary=replace(plan.summary, km=plan.summary.km + 5))

    assert_reported(violations_of(problem, padded), "the summary says", "km but the runs have")


def test_the_summary_counts_the_tractors_used(problem: Problem, plan: Plan) -> None:
    miscounted = replace(plan, summary=replace(plan.summary, tractors_used=4))

    assert violations_of(problem, miscounted) == ["the summary says 4 tractors used but the plan has 3"]


def test_the_summary_counts_the_moves(problem: Problem, plan: Plan) -> None:
    miscounted = replace(plan, summary=replace(plan.summary, moves_planned=5, moves_unassigned=0))

    assert violations_of(problem, miscounted) == [
        "the summary says 5 moves planned but the plan has 4",
        "the summary says 0 moves unassigned but the plan has 1",
    ]


# --- 16. unknown ids and malformed plans -----------------------------------------------------------


def test_an_unknown_place_is_reported(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 6, to_place_id="hk-kwai-chung"))

    assert_reported(
        violations, "tractor T01: activity 6 (drive) names place hk-kwai-chung, which is not in the problem"
    )


def test_an_unknown_trailer_is_reported(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 2, trailer_id="GDB-0000"))

    assert_reported(violations, "activity 2 (hook of move M1) names trailer GDB-0000, which is not in the problem")


def test_an_unknown_move_in_an_activity_is_reported(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_activity(plan, "T01", 5, move_id="M42"))

    assert_reported(violations, "activity 5 (break of move M42) names move M42, which is not in the problem")


def test_an_unknown_tractor_is_reported(problem: Problem, plan: Plan) -> None:
    violations = violations_of(problem, with_run(plan, "T01", tractor_id="T99"))

    assert_reported(violations, "tractor T99: the tractor is not in the problem")


def test_a_time_without_a_zone_is_reported(problem: Problem, plan: Plan) -> None:
    naive = run_of(plan, "T01").activities[0].start.replace(tzinfo=None)
    violations = violations_of(problem, with_activity(plan, "T01", 1, start=naive))

    assert violations == ["tractor T01: activity 1 start is not a time with a time zone"]


def test_an_unknown_time_zone_is_reported(problem: Problem, plan: Plan) -> None:
    on_mars = replace(problem, policy=Policy(timezone="Mars/Olympus_Mons"))

    assert violations_of(on_mars, plan) == ["the policy time zone 'Mars/Olympus_Mons' is unknown"]


def test_a_garbled_plan_is_reported_not_raised(problem: Problem, plan: Plan) -> None:
    nowhere = Activity(kind=ActivityKind.DRIVE, start=at(7), end=at(8), place_id="dg-yard", km=12.0)
    stray_drop = Activity(kind=ActivityKind.DROP, start=at(8), end=at(8), place_id="atlantis", trailer_id="GDB-1204")
    blind_hook = Activity(kind=ActivityKind.HOOK, start=at(8), end=at(8, 15), place_id="atlantis")
    garbled = (
        Run(tractor_id="T04", moves=("M7",), activities=(nowhere, stray_drop, blind_hook)),
        Run(tractor_id="T05", moves=(), activities=()),
    )
    violations = violations_of(problem, replace(plan, runs=(*plan.runs, *garbled)))

    assert_reported(violations, "tractor T04: activity 1 (drive) has no destination")
    assert_reported(violations, "tractor T04: activity 2 (drop) drops trailer GDB-1204 but the tractor tows none")
    assert_reported(violations, "tractor T04: activity 3 (hook) hooks no trailer")
    assert_reported(violations, "tractor T04: the run lists move M7, which is not in the problem")
    assert_reported(violations, "tractor T05: the run has no activities")
