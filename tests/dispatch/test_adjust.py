"""The dispatcher moves a trailer move to another tractor or another place in a run; the plan says what breaks.

The day is the checker's hand-made Pearl River Delta Monday (see ``test_plan_check``), planned by
the greedy planner: T01 positions a reefer at the Baiyun cold store (M2) and collects it for
Nansha (M3), T02 hauls the Midea box from Shunde to Nansha (M1), T03 (hazmat crew) takes the petrol
tank from Lisha Island to Nansha by its 12:00 cut-off (M4); M5 is unassigned (its trailer is out of
service) and T04 stays home.
"""

from __future__ import annotations

import itertools

import msgspec
import pytest

from dispatch.adjust import (
    Adjustment,
    UnknownIdError,
    Violation,
    check_plan,
    rearrange,
    retime_run,
)
from dispatch.solver.greedy import plan_greedy
from dispatch.solver.matrix import TravelMatrix, great_circle_matrix
from dispatch.solver.plan_check import plan_figures
from dispatch.solver.problem import ActivityKind, Plan, Problem, Run, Unassigned, UnassignedReason
from tests.dispatch.test_plan_check import pearl_river_delta_problem


@pytest.fixture(scope="module")
def problem() -> Problem:
    return pearl_river_delta_problem()


@pytest.fixture(scope="module")
def matrix(problem: Problem) -> TravelMatrix:
    return great_circle_matrix(problem.places, problem.matrix)


@pytest.fixture(scope="module")
def plan(problem: Problem, matrix: TravelMatrix) -> Plan:
    planned = plan_greedy(problem, matrix)
    assert runs_of(planned) == {"T01": ("M2", "M3"), "T02": ("M1",), "T03": ("M4",)}
    assert [entry.move_id for entry in planned.unassigned] == ["M5"]
    return planned


def runs_of(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {run.tractor_id: run.moves for run in plan.runs}


def run_of(plan: Plan, tractor_id: str) -> Run:
    return next(run for run in plan.runs if run.tractor_id == tractor_id)


def hooked_trailer(run: Run, move_id: str) -> str | None:
    return next(a.trailer_id for a in run.activities if a.kind == ActivityKind.HOOK and a.move_id == move_id)


def test_the_solvers_plan_checks_clean(problem: Problem, plan: Plan, matrix: TravelMatrix) -> None:
    assert check_plan(problem, plan, matrix) == ([], [])


def test_moving_a_haul_to_an_idle_tractor_gives_a_feasible_plan_with_recomputed_figures(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    adjusted = rearrange(problem, plan, matrix, move_id="M1", tractor_id="T04", position=0)

    assert runs_of(adjusted.plan) == {"T01": ("M2", "M3"), "T03": ("M4",), "T04": ("M1",)}
    assert (adjusted.violations, adjusted.late_moves) == ([], [])
    assert adjusted.plan.solver == "adjusted"
    assert adjusted.plan.summary == plan_figures(problem, adjusted.plan, matrix)
    assert adjusted.plan.summary.moves_unassigned == 1
    assert run_of(adjusted.plan, "T04").driver_id == "D04"
    assert (adjusted.from_tractor_id, adjusted.to_tractor_id, adjusted.move_id) == ("T02", "T04", "M1")
    assert adjusted.change.tractors_used == 0


def test_joining_a_run_saves_a_tractor_and_a_late_drop_is_not_a_violation(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    adjusted = rearrange(problem, plan, matrix, move_id="M1", tractor_id="T03", position=5)

    assert runs_of(adjusted.plan) == {"T01": ("M2", "M3"), "T03": ("M4", "M1")}
    assert adjusted.violations == []
    assert adjusted.late_moves == ["M1"]
    assert adjusted.plan.summary.late_moves == 1
    assert adjusted.change.tractors_used == -1
    assert adjusted.change.late_moves == 1
    assert adjusted.change.deadhead_km < 0
    assert adjusted.before == plan_figures(problem, plan, matrix)


def test_a_reorder_that_misses_a_cutoff_names_the_move(problem: Problem, plan: Plan, matrix: TravelMatrix) -> None:
    joined = rearrange(problem, plan, matrix, move_id="M1", tractor_id="T03", position=1).plan

    reordered = rearrange(problem, joined, matrix, move_id="M1", tractor_id="T03", position=0)

    assert runs_of(reordered.plan)["T03"] == ("M1", "M4")
    assert len(reordered.violations) == 1
    assert reordered.violations[0].startswith("tractor T03: move M4 dropped at")
    assert "after the cut-off 12:00+08:00" in reordered.violations[0]
    assert reordered.details == [Violation(text=reordered.violations[0], tractor_id="T03", move_id="M4")]


def test_a_hazmat_move_on_a_tractor_without_a_hazmat_crew_lists_what_is_missing(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    adjusted = rearrange(problem, plan, matrix, move_id="M4", tractor_id="T01", position=2)

    hazmat = [text for text in adjusted.violations if "hazmat move M4" in text]
    assert hazmat == [
        "tractor T01: hazmat move M4 needs a tractor approved for dangerous goods",
        "tractor T01: hazmat move M4 needs a dangerous-goods driver certificate but driver D01 has none",
        "tractor T01: hazmat move M4 needs a dangerous-goods escort certificate but the run has no escort",
    ]
    assert "T03" not in runs_of(adjusted.plan)


def test_a_collect_put_before_its_position_move_waits_for_nothing_and_says_so(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    adjusted = rearrange(problem, plan, matrix, move_id="M3", tractor_id="T01", position=0)

    assert runs_of(adjusted.plan)["T01"] == ("M3", "M2")
    assert any(text.startswith("tractor T01: move M3 hooked at") for text in adjusted.violations)


def test_an_unassigned_move_put_on_a_tractor_leaves_the_unassigned_list(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    adjusted = rearrange(problem, plan, matrix, move_id="M5", tractor_id="T04", position=0)

    assert adjusted.plan.unassigned == ()
    assert adjusted.plan.summary.moves_unassigned == 0
    assert adjusted.change.moves_unassigned == -1
    assert adjusted.violations == [
        text for text in adjusted.violations if text.startswith("trailer GDB-9902 is out of service")
    ]
    assert len(adjusted.violations) == 1


def test_an_unassigned_position_move_takes_the_free_empty_trailer_and_its_collect_follows(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    without_t01 = msgspec.structs.replace(
        plan,
        runs=tuple(run for run in plan.runs if run.tractor_id != "T01"),
        unassigned=(
            *(Unassigned(move_id=m, reason=UnassignedReason.FLEET_FULL, detail="") for m in ("M2", "M3")),
            *plan.unassigned,
        ),
    )

    positioned = rearrange(problem, without_t01, matrix, move_id="M2", tractor_id="T04", position=0)
    collected = rearrange(problem, positioned.plan, matrix, move_id="M3", tractor_id="T04", position=1)

    assert hooked_trailer(run_of(positioned.plan, "T04"), "M2") == "GDR-7101"
    assert hooked_trailer(run_of(collected.plan, "T04"), "M3") == "GDR-7101"
    assert [entry.move_id for entry in collected.plan.unassigned] == ["M5"]
    assert collected.violations == []


def test_a_collect_whose_position_move_is_unassigned_cannot_be_placed(
    problem: Problem, plan: Plan, matrix: TravelMatrix
) -> None:
    without_t01 = msgspec.structs.replace(
        plan,
        runs=tuple(run for run in plan.runs if run.tractor_id != "T01"),
        unassigned=(*(Unassigned(move_id=m, reason=UnassignedReason.FLEET_FULL, detail="") for m in ("M2", "M3")),),
    )

    with pytest.raises(ValueError, match="move M3 collects the trailer of move M2, which is not planned"):
        rearrange(problem, without_t01, matrix, move_id="M3", tractor_id="T04", position=0)


@pytest.mark.parametrize(
    ("move_id", "tractor_id", "named"),
    [("M99", "T01", "move M99"), ("M1", "T99", "tractor T99")],
)
def test_an_unknown_id_raises(
    problem: Problem, plan: Plan, matrix: TravelMatrix, move_id: str, tractor_id: str, named: str
) -> None:
    with pytest.raises(UnknownIdError, match=named):
        rearrange(problem, plan, matrix, move_id=move_id, tractor_id=tractor_id, position=0)
    assert issubclass(UnknownIdError, ValueError)


def test_a_run_under_way_cannot_change(problem: Problem, plan: Plan, matrix: TravelMatrix) -> None:
    started = msgspec.structs.replace(problem, fixed_runs=(run_of(plan, "T03"),))

    with pytest.raises(ValueError, match="the run of tractor T03 is under way"):
        rearrange(started, plan, matrix, move_id="M1", tractor_id="T03", position=0)


def test_the_position_is_clamped(problem: Problem, plan: Plan, matrix: TravelMatrix) -> None:
    first = rearrange(problem, plan, matrix, move_id="M3", tractor_id="T01", position=-4)
    last = rearrange(problem, plan, matrix, move_id="M2", tractor_id="T01", position=99)

    assert runs_of(first.plan)["T01"] == ("M3", "M2")
    assert runs_of(last.plan)["T01"] == ("M3", "M2")


def test_retiming_an_impossible_order_still_times_every_move(problem: Problem, matrix: TravelMatrix) -> None:
    trailers = {"M1": "GDB-5518", "M2": "GDR-7101", "M3": "GDR-7101", "M4": "GDT-3307"}

    run = retime_run(problem, matrix, tractor_id="T04", moves=["M3", "M4", "M1", "M2"], trailers=trailers)

    assert run.moves == ("M3", "M4", "M1", "M2")
    assert [a.move_id for a in run.activities if a.kind == ActivityKind.DROP] == ["M3", "M4", "M1", "M2"]
    assert all(before.end == after.start for before, after in itertools.pairwise(run.activities))
    assert run.activities[-1].to_place_id == "dg-yard"


def test_an_adjustment_encodes_for_the_pages(problem: Problem, plan: Plan, matrix: TravelMatrix) -> None:
    adjusted = rearrange(problem, plan, matrix, move_id="M4", tractor_id="T01", position=0)

    decoded = msgspec.json.decode(msgspec.json.encode(adjusted), type=Adjustment)

    assert decoded.violations == adjusted.violations
    assert all(detail.move_id == "M4" for detail in decoded.details if "hazmat" in detail.text)
