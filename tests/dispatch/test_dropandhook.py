"""The drop-and-hook solver: every plan passes the independent checker, and the rules shape the plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest

from dispatch.solver.dropandhook import SolveProgress, solve
from dispatch.solver.matrix import great_circle_matrix
from dispatch.solver.plan_check import find_plan_violations
from dispatch.solver.problem import (
    ActivityKind,
    Driver,
    Move,
    MoveKind,
    OpeningHours,
    Place,
    PlaceKind,
    Plan,
    Policy,
    Problem,
    Qualification,
    Tractor,
    Trailer,
    TrailerType,
    UnassignedReason,
)

START = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 06:00 in Guangdong
HAZMAT_CREW = frozenset({Qualification.HAZMAT_DRIVER})
ESCORT = frozenset({Qualification.HAZMAT_ESCORT})

PLACES = (
    Place(id="humen-yard", name="虎门车场", kind=PlaceKind.YARD, latitude=22.8150, longitude=113.6730),
    Place(
        id="shunde-factory",
        name="顺德家电厂",
        latitude=22.8050,
        longitude=113.2930,
        opening_hours=(OpeningHours(open="07:00", close="22:00"),),
    ),
    Place(id="songshan-lake", name="松山湖电子厂", latitude=22.9200, longitude=113.8850),
    Place(id="huizhou-petrochem", name="惠州大亚湾石化区", latitude=22.7300, longitude=114.5400),
    Place(id="nansha", name="南沙港区", kind=PlaceKind.PORT_TERMINAL, latitude=22.6400, longitude=113.6700),
    Place(id="yantian", name="盐田港区", kind=PlaceKind.PORT_TERMINAL, latitude=22.5800, longitude=114.2700),
)


def hours(value: float) -> datetime:
    return START + timedelta(hours=value)


def crew(driver_id: str, *, qualifications: frozenset[Qualification] = frozenset(), **fields: Any) -> Driver:
    return Driver(
        id=driver_id,
        name=driver_id,
        shift_start=START,
        shift_end=hours(12),
        qualifications=qualifications,
        **fields,
    )


def problem_of(
    *,
    tractors: list[Tractor],
    drivers: list[Driver],
    trailers: list[Trailer],
    moves: list[Move],
    policy: Policy = Policy(),
    **fields: Any,
) -> Problem:
    return Problem(
        start=START,
        places=PLACES,
        tractors=tuple(tractors),
        drivers=tuple(drivers),
        trailers=tuple(trailers),
        moves=tuple(moves),
        policy=policy,
        **fields,
    )


def checked(problem: Problem, *, time_limit_s: float = 2, **options: Any) -> Plan:
    """Solve and assert that the independent checker accepts the plan."""
    plan = solve(problem, time_limit_s=time_limit_s, **options)
    violations = find_plan_violations(problem, plan, great_circle_matrix(problem.places, problem.matrix))
    assert violations == []
    return plan


def loaded(trailer_id: str, place: str, *, kind: TrailerType = TrailerType.BOX, **fields: Any) -> Trailer:
    return Trailer(id=trailer_id, plate=f"粤S{trailer_id}挂", type=kind, place_id=place, loaded=True, **fields)


def empty(trailer_id: str, place: str, *, kind: TrailerType = TrailerType.BOX, **fields: Any) -> Trailer:
    return Trailer(id=trailer_id, plate=f"粤S{trailer_id}挂", type=kind, place_id=place, **fields)


def tractor(tractor_id: str, driver_id: str, **fields: Any) -> Tractor:
    return Tractor(id=tractor_id, plate=f"粤S{tractor_id}", home_place_id="humen-yard", driver_id=driver_id, **fields)


def haul(move_id: str, trailer_id: str, origin: str, destination: str, **fields: Any) -> Move:
    return Move(id=move_id, trailer_id=trailer_id, origin_id=origin, destination_id=destination, **fields)


def test_one_tractor_chains_two_hauls_and_comes_home() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1"), tractor("T2", "D2")],
        drivers=[crew("D1"), crew("D2")],
        trailers=[loaded("L1", "songshan-lake"), loaded("L2", "nansha")],
        moves=[
            haul("M1", "L1", "songshan-lake", "nansha", deliver_by=hours(5)),
            haul("M2", "L2", "nansha", "songshan-lake", ready_at=hours(3), deliver_by=hours(9)),
        ],
    )
    plan = checked(problem)
    assert plan.summary.tractors_used == 1
    assert plan.runs[0].moves == ("M1", "M2")
    assert plan.runs[0].activities[-1].to_place_id == "humen-yard"
    assert plan.summary.late_moves == 0


def test_a_dangerous_goods_move_goes_to_the_approved_tractor_with_a_qualified_crew() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1"), tractor("T2", "D2", escort_id="E2", hazmat_approved=True)],
        drivers=[crew("D1"), crew("D2", qualifications=HAZMAT_CREW), crew("E2", qualifications=ESCORT)],
        trailers=[loaded("L1", "huizhou-petrochem", kind=TrailerType.TANK, hazmat_approved=True)],
        moves=[haul("UN1203", "L1", "huizhou-petrochem", "yantian", hazmat=True, trailer_type=TrailerType.TANK)],
    )
    plan = checked(problem)
    assert [(run.tractor_id, run.escort_id) for run in plan.runs] == [("T2", "E2")]


def test_a_dangerous_goods_move_without_a_qualified_crew_is_reported_not_dropped() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1", hazmat_approved=True)],
        drivers=[crew("D1")],
        trailers=[loaded("L1", "huizhou-petrochem", kind=TrailerType.TANK, hazmat_approved=True)],
        moves=[haul("UN1203", "L1", "huizhou-petrochem", "yantian", hazmat=True)],
    )
    plan = checked(problem)
    assert plan.runs == ()
    assert [(item.move_id, item.reason) for item in plan.unassigned] == [("UN1203", UnassignedReason.NO_HAZMAT_CREW)]


def test_the_planner_brings_the_nearest_empty_reefer_and_collects_it_after_loading() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1"), tractor("T2", "D2")],
        drivers=[crew("D1"), crew("D2")],
        trailers=[
            empty("R-far", "yantian", kind=TrailerType.REEFER),
            empty("R-near", "humen-yard", kind=TrailerType.REEFER),
            empty("B1", "humen-yard", kind=TrailerType.BOX),
        ],
        moves=[
            Move(
                id="P1",
                kind=MoveKind.POSITION,
                trailer_type=TrailerType.REEFER,
                destination_id="shunde-factory",
                deliver_by=hours(3),
            ),
            Move(
                id="C1",
                kind=MoveKind.COLLECT,
                after_move="P1",
                loading_minutes=150,
                destination_id="nansha",
                cutoff=hours(11),
            ),
        ],
    )
    plan = checked(problem)
    activities = [activity for run in plan.runs for activity in run.activities]
    position_drop = next(a for a in activities if a.kind == ActivityKind.DROP and a.move_id == "P1")
    collect_hook = next(a for a in activities if a.kind == ActivityKind.HOOK and a.move_id == "C1")
    assert position_drop.trailer_id == collect_hook.trailer_id == "R-near"
    assert collect_hook.start >= position_drop.end + timedelta(minutes=150)
    assert plan.unassigned == ()


def test_a_cut_off_that_cannot_be_reached_is_reported() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1")],
        drivers=[crew("D1")],
        trailers=[loaded("L1", "huizhou-petrochem")],
        moves=[haul("M1", "L1", "huizhou-petrochem", "nansha", ready_at=hours(2), cutoff=hours(2.5))],
    )
    plan = checked(problem)
    assert [item.reason for item in plan.unassigned] == [UnassignedReason.CUTOFF_UNREACHABLE]


def test_a_shipper_is_not_served_before_it_opens() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1")],
        drivers=[crew("D1")],
        trailers=[loaded("L1", "shunde-factory")],
        moves=[haul("M1", "L1", "shunde-factory", "nansha")],
    )
    plan = checked(problem)
    hook = next(a for a in plan.runs[0].activities if a.kind == ActivityKind.HOOK)
    assert hook.start >= hours(1)  # the factory opens at 07:00, one hour after the start


def test_a_long_day_contains_twenty_minute_breaks() -> None:
    round_trips = [
        haul(f"M{k}", f"L{k}", "huizhou-petrochem" if k % 2 == 0 else "shunde-factory", "nansha") for k in range(6)
    ]
    trailers = [loaded(f"L{k}", move.origin_id or "") for k, move in enumerate(round_trips)]
    problem = problem_of(tractors=[tractor("T1", "D1")], drivers=[crew("D1")], trailers=trailers, moves=round_trips)
    plan = checked(problem, time_limit_s=3)
    run = plan.runs[0]
    assert len(run.moves) >= 3
    assert any(a.kind == ActivityKind.BREAK and a.end - a.start >= timedelta(minutes=20) for a in run.activities)


def test_without_night_driving_a_night_shift_waits_for_the_morning() -> None:
    night = Policy(max_night_driving_minutes=0, night_start="22:00", night_end="06:00")
    problem = Problem(
        start=hours(-4),  # 02:00 local
        places=PLACES,
        tractors=(tractor("T1", "D1"),),
        drivers=(Driver(id="D1", shift_start=hours(-4), shift_end=hours(6)),),
        trailers=(loaded("L1", "songshan-lake"),),
        moves=(haul("M1", "L1", "songshan-lake", "nansha"),),
        policy=night,
    )
    plan = checked(problem)
    drives = [a for a in plan.runs[0].activities if a.kind == ActivityKind.DRIVE]
    assert all(a.start >= START for a in drives)


def test_runs_already_started_are_kept_when_replanning() -> None:
    base = problem_of(
        tractors=[tractor("T1", "D1"), tractor("T2", "D2")],
        drivers=[crew("D1"), crew("D2")],
        trailers=[loaded("L1", "songshan-lake"), loaded("L2", "nansha")],
        moves=[
            haul("M1", "L1", "songshan-lake", "nansha"),
            haul("M2", "L2", "nansha", "songshan-lake", ready_at=hours(4)),
        ],
    )
    first = checked(base)
    started = next(run for run in first.runs if "M1" in run.moves)
    again = checked(msgspec.structs.replace(base, fixed_runs=(started,)))
    assert started in again.runs
    assert {move for run in again.runs for move in run.moves} == {"M1", "M2"}


def test_an_initial_plan_is_a_valid_start_and_progress_is_reported() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1"), tractor("T2", "D2")],
        drivers=[crew("D1"), crew("D2")],
        trailers=[loaded("L1", "songshan-lake"), loaded("L2", "nansha")],
        moves=[haul("M1", "L1", "songshan-lake", "nansha"), haul("M2", "L2", "nansha", "shunde-factory")],
    )
    first = checked(problem)
    seen: list[SolveProgress] = []
    second = checked(problem, initial=first, on_progress=seen.append)
    assert second.summary.objective <= first.summary.objective
    assert seen
    assert seen[-1].unassigned == 0


def test_an_out_of_service_trailer_is_never_hooked() -> None:
    problem = problem_of(
        tractors=[tractor("T1", "D1")],
        drivers=[crew("D1")],
        trailers=[loaded("L1", "songshan-lake", out_of_service=True)],
        moves=[haul("M1", "L1", "songshan-lake", "nansha")],
    )
    plan = checked(problem)
    assert [item.reason for item in plan.unassigned] == [UnassignedReason.TRAILER_OUT_OF_SERVICE]


def test_a_problem_without_a_utc_offset_is_refused() -> None:
    problem = problem_of(tractors=[], drivers=[], trailers=[], moves=[])
    with pytest.raises(ValueError, match="UTC offset"):
        solve(msgspec.structs.replace(problem, start=START.replace(tzinfo=None)), time_limit_s=1)
