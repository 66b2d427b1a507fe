"""The greedy dispatcher: plans the independent checker accepts, and the right reason for every move left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from dispatch.solver.generator import generate_day
from dispatch.solver.greedy import plan_greedy
from dispatch.solver.matrix import great_circle_matrix
from dispatch.solver.plan_check import find_plan_violations, late_moves
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
    Problem,
    Qualification,
    Tractor,
    Trailer,
    TrailerType,
    UnassignedReason,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HUMEN = Place(id="yard-humen", name="Dongguan Humen yard", kind=PlaceKind.YARD, latitude=22.826, longitude=113.670)
CHANGAN = Place(id="site-changan", name="Dongguan Chang'an electronics", latitude=22.810, longitude=113.805)
JIANGMEN = Place(id="site-jiangmen", name="Jiangmen Pengjiang lighting", latitude=22.600, longitude=113.080)
NANSHA = Place(
    id="port-nansha", name="Nansha port terminal", kind=PlaceKind.PORT_TERMINAL, latitude=22.665, longitude=113.678
)
XIAOLAN = Place(
    id="site-xiaolan",
    name="Zhongshan Xiaolan hardware",
    latitude=22.670,
    longitude=113.250,
    opening_hours=(OpeningHours(open="07:00", close="22:00"),),
)
PLACES = (HUMEN, CHANGAN, JIANGMEN, NANSHA, XIAOLAN)


def local(hour: int, minute: int = 0) -> datetime:
    """A local time on the planning day, as UTC."""
    return datetime(2025, 6, 10, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def driver(driver_id: str, *qualifications: Qualification, continuous_driving_minutes: float = 0) -> Driver:
    """A day-shift (06:00-18:00) driver or escort."""
    return Driver(
        id=driver_id,
        shift_start=local(6),
        shift_end=local(18),
        qualifications=frozenset(qualifications),
        continuous_driving_minutes=continuous_driving_minutes,
    )


def tractor(tractor_id: str, driver_id: str, *, hazmat_approved: bool = False, escort_id: str | None = None) -> Tractor:
    return Tractor(
        id=tractor_id,
        home_place_id=HUMEN.id,
        driver_id=driver_id,
        hazmat_approved=hazmat_approved,
        escort_id=escort_id,
    )


def problem(
    moves: list[Move],
    trailers: list[Trailer],
    *,
    tractors: list[Tractor] | None = None,
    drivers: list[Driver] | None = None,
) -> Problem:
    return Problem(
        start=local(4),
        places=PLACES,
        tractors=tuple(tractors or [tractor("T1", "D1")]),
        drivers=tuple(drivers or [driver("D1")]),
        trailers=tuple(trailers),
        moves=tuple(moves),
    )


def loaded(trailer_id: str, place: Place) -> Trailer:
    return Trailer(id=trailer_id, type=TrailerType.BOX, place_id=place.id, loaded=True)


def haul(move_id: str, trailer_id: str, origin: Place, destination: Place, **changes: Any) -> Move:
    """A haul of ``trailer_id``; ``changes`` sets other fields (``ready_at``, ``cutoff``...)."""
    move = Move(id=move_id, trailer_id=trailer_id, origin_id=origin.id, destination_id=destination.id)
    return msgspec.structs.replace(move, **changes)


def planned(day: Problem) -> Plan:
    """The greedy plan, after checking it with the independent checker."""
    matrix = great_circle_matrix(day.places, day.matrix)
    plan = plan_greedy(day, matrix)
    assert find_plan_violations(day, plan, matrix) == []
    return plan


def reason_of(plan: Plan, move_id: str) -> UnassignedReason:
    return next(entry.reason for entry in plan.unassigned if entry.move_id == move_id)


def activities_of(plan: Plan, move_id: str, kind: ActivityKind) -> list[Activity]:
    return [a for run in plan.runs for a in run.activities if a.move_id == move_id and a.kind is kind]


def test_a_generated_small_day_passes_the_checker_and_covers_every_move() -> None:
    day = generate_day(tractors=10, moves=40, seed=1)
    plan = planned(day)
    covered = [move_id for run in plan.runs for move_id in run.moves] + [entry.move_id for entry in plan.unassigned]
    assert sorted(covered) == sorted(move.id for move in day.moves)
    assert plan.summary.moves_planned >= 25
    assert plan.summary.late_moves == len(late_moves(day, plan))
    assert all(entry.detail.endswith(".") for entry in plan.unassigned)


def test_a_haul_is_hooked_driven_and_dropped_and_the_tractor_returns_home() -> None:
    plan = planned(problem([haul("M1", "TR1", CHANGAN, NANSHA, ready_at=local(9))], [loaded("TR1", CHANGAN)]))
    (run,) = plan.runs
    assert run.moves == ("M1",)
    assert [a.kind for a in run.activities] == ["drive", "hook", "drive", "drop", "drive"]
    assert run.activities[1].start == local(9)
    assert run.activities[-1].to_place_id == HUMEN.id
    assert run.deadhead_km == pytest.approx(run.activities[0].km + run.activities[-1].km)


def test_a_hazmat_move_without_a_certified_crew_is_unassigned() -> None:
    tank = Trailer(id="TK1", type=TrailerType.TANK, place_id=JIANGMEN.id, loaded=True, hazmat_approved=True)
    move = haul("M1", "TK1", JIANGMEN, NANSHA, trailer_type=TrailerType.TANK, hazmat=True)
    plan = planned(problem([move], [tank], tractors=[tractor("T1", "D1", hazmat_approved=True)]))
    assert reason_of(plan, "M1") is UnassignedReason.NO_HAZMAT_CREW


def test_a_hazmat_move_goes_to_the_unit_with_a_certified_driver_and_escort() -> None:
    tank = Trailer(id="TK1", type=TrailerType.TANK, place_id=JIANGMEN.id, loaded=True, hazmat_approved=True)
    move = haul("M1", "TK1", JIANGMEN, NANSHA, trailer_type=TrailerType.TANK, hazmat=True)
    crews = [
        driver("D1"),
        driver("D2", Qualification.HAZMAT_DRIVER),
        driver("E2", Qualification.HAZMAT_ESCORT),
    ]
    fleet = [tractor("T1", "D1"), tractor("T2", "D2", hazmat_approved=True, escort_id="E2")]
    plan = planned(problem([move], [tank], tractors=fleet, drivers=crews))
    assert [run.tractor_id for run in plan.runs] == ["T2"]


def test_a_move_whose_cutoff_cannot_be_reached_is_unassigned() -> None:
    move = haul("M1", "TR1", CHANGAN, NANSHA, ready_at=local(10), cutoff=local(10, 20))
    plan = planned(problem([move], [loaded("TR1", CHANGAN)]))
    assert reason_of(plan, "M1") is UnassignedReason.CUTOFF_UNREACHABLE
    assert plan.runs == ()


def test_a_reefer_position_without_an_empty_reefer_is_unassigned_and_so_is_its_collect() -> None:
    box = Trailer(id="BX1", type=TrailerType.BOX, place_id=HUMEN.id)
    position = Move(id="P1", kind=MoveKind.POSITION, trailer_type=TrailerType.REEFER, destination_id=CHANGAN.id)
    collect = Move(id="C1", kind=MoveKind.COLLECT, destination_id=NANSHA.id, after_move="P1", loading_minutes=90)
    plan = planned(problem([position, collect], [box]))
    assert reason_of(plan, "P1") is UnassignedReason.NO_EMPTY_TRAILER
    assert reason_of(plan, "C1") is UnassignedReason.DEPENDS_ON_UNASSIGNED


def test_a_position_move_takes_the_empty_nearest_to_the_shipper() -> None:
    far = Trailer(id="BX-FAR", type=TrailerType.BOX, place_id=JIANGMEN.id)
    near = Trailer(id="BX-NEAR", type=TrailerType.BOX, place_id=HUMEN.id)
    position = Move(id="P1", kind=MoveKind.POSITION, trailer_type=TrailerType.BOX, destination_id=CHANGAN.id)
    plan = planned(problem([position], [far, near]))
    (hook,) = activities_of(plan, "P1", ActivityKind.HOOK)
    assert hook.trailer_id == "BX-NEAR"
    assert plan.runs[0].deadhead_km == pytest.approx(plan.runs[0].km)


def test_a_collect_is_hooked_only_after_the_loading_time() -> None:
    empty = Trailer(id="BX1", type=TrailerType.BOX, place_id=HUMEN.id)
    position = Move(
        id="P1", kind=MoveKind.POSITION, trailer_type=TrailerType.BOX, destination_id=CHANGAN.id, deliver_by=local(9)
    )
    collect = Move(id="C1", kind=MoveKind.COLLECT, destination_id=NANSHA.id, after_move="P1", loading_minutes=120)
    plan = planned(problem([position, collect], [empty]))
    (drop,) = activities_of(plan, "P1", ActivityKind.DROP)
    (hook,) = activities_of(plan, "C1", ActivityKind.HOOK)
    assert hook.trailer_id == "BX1"
    assert hook.place_id == CHANGAN.id
    assert hook.start >= drop.end + timedelta(minutes=120)


def test_a_long_day_gets_a_twenty_minute_break() -> None:
    moves = [
        haul("M1", "TR1", CHANGAN, JIANGMEN, ready_at=local(6)),
        haul("M2", "TR2", JIANGMEN, CHANGAN, ready_at=local(6)),
    ]
    day = problem(moves, [loaded("TR1", CHANGAN), loaded("TR2", JIANGMEN)])
    plan = planned(day)
    breaks = [a for run in plan.runs for a in run.activities if a.kind is ActivityKind.BREAK]
    assert plan.summary.moves_planned == 2
    assert breaks
    assert all(a.end - a.start >= timedelta(minutes=20) for a in breaks)


def test_driving_done_before_the_shift_brings_the_break_forward() -> None:
    tired = driver("D1", continuous_driving_minutes=230)
    plan = planned(problem([haul("M1", "TR1", CHANGAN, NANSHA)], [loaded("TR1", CHANGAN)], drivers=[tired]))
    assert plan.runs[0].activities[0].kind is ActivityKind.BREAK


def test_a_hook_waits_for_the_shipper_to_open() -> None:
    plan = planned(problem([haul("M1", "TR1", XIAOLAN, NANSHA, ready_at=local(5))], [loaded("TR1", XIAOLAN)]))
    (hook,) = activities_of(plan, "M1", ActivityKind.HOOK)
    assert hook.start >= local(7)


def test_a_move_no_busy_tractor_can_take_is_left_for_a_full_fleet() -> None:
    moves = [
        haul("M1", "TR1", CHANGAN, JIANGMEN, ready_at=local(8), cutoff=local(11)),
        haul("M2", "TR2", CHANGAN, JIANGMEN, ready_at=local(8), cutoff=local(11)),
    ]
    plan = planned(problem(moves, [loaded("TR1", CHANGAN), loaded("TR2", CHANGAN)]))
    assert [run.moves for run in plan.runs] == [("M1",)]
    assert reason_of(plan, "M2") is UnassignedReason.FLEET_FULL


def test_a_move_outside_every_shift_has_no_tractor() -> None:
    move = haul("M1", "TR1", CHANGAN, NANSHA, ready_at=local(21))
    plan = planned(problem([move], [loaded("TR1", CHANGAN)]))
    assert reason_of(plan, "M1") is UnassignedReason.NO_TRACTOR


@pytest.mark.parametrize(
    ("trailer", "reason"),
    [
        (Trailer(id="TR1", type=TrailerType.BOX, place_id=CHANGAN.id, out_of_service=True), "trailer_out_of_service"),
        (Trailer(id="TR1", type=TrailerType.CURTAIN, place_id=CHANGAN.id), "trailer_type_mismatch"),
        (Trailer(id="TR1", type=TrailerType.BOX, place_id=JIANGMEN.id), "trailer_elsewhere"),
        (Trailer(id="TR9", type=TrailerType.BOX, place_id=CHANGAN.id), "trailer_unknown"),
    ],
)
def test_a_haul_whose_trailer_cannot_go_is_unassigned(trailer: Trailer, reason: str) -> None:
    move = haul("M1", "TR1", CHANGAN, NANSHA, trailer_type=TrailerType.BOX)
    plan = planned(problem([move], [trailer]))
    assert reason_of(plan, "M1") == reason


def test_the_summary_adds_up_the_runs() -> None:
    plan = planned(generate_day(tractors=8, moves=30, seed=5))
    assert plan.solver == "greedy"
    assert plan.summary.tractors_used == len(plan.runs)
    assert plan.summary.km == pytest.approx(sum(run.km for run in plan.runs))
    assert plan.summary.deadhead_km == pytest.approx(sum(run.deadhead_km for run in plan.runs))


def test_a_fixed_run_is_kept_and_its_tractor_and_trailer_left_alone() -> None:
    moves = [
        haul("M1", "TR1", CHANGAN, NANSHA, ready_at=local(7)),
        haul("M2", "TR2", CHANGAN, NANSHA, ready_at=local(7)),
    ]
    trailers = [loaded("TR1", CHANGAN), loaded("TR2", CHANGAN)]
    fleet, crews = [tractor("T1", "D1"), tractor("T2", "D2")], [driver("D1"), driver("D2")]
    first = planned(problem(moves[:1], trailers, tractors=fleet, drivers=crews))
    day = msgspec.structs.replace(problem(moves, trailers, tractors=fleet, drivers=crews), fixed_runs=first.runs)
    plan = planned(day)
    assert plan.runs[0] == first.runs[0]
    assert [(run.tractor_id, run.moves) for run in plan.runs[1:]] == [("T2", ("M2",))]
