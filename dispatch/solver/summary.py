"""The figures of a plan, as the planners report them (the checker recomputes its own)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from dispatch.solver.problem import ActivityKind, PlanSummary, Problem, Run

__all__ = ("LATE_TOLERANCE", "late_move_ids", "summarise")

LATE_TOLERANCE = timedelta(seconds=1)
"""A drop this little after ``deliver_by`` is on time (whole-second schedules)."""


def late_move_ids(problem: Problem, runs: Sequence[Run]) -> list[str]:
    """The moves dropped after their ``deliver_by``."""
    due = {move.id: move.deliver_by for move in problem.moves if move.deliver_by is not None}
    return [
        str(activity.move_id)
        for run in runs
        for activity in run.activities
        if activity.kind == ActivityKind.DROP
        and activity.move_id in due
        and activity.end > due[activity.move_id] + LATE_TOLERANCE
    ]


def summarise(problem: Problem, runs: Sequence[Run], *, unassigned: int, objective: int = 0) -> PlanSummary:
    """Tractors used, moves planned and left out, late moves, kilometres and time on duty of the runs."""
    return PlanSummary(
        tractors_used=len(runs),
        moves_planned=sum(len(run.moves) for run in runs),
        moves_unassigned=unassigned,
        late_moves=len(late_move_ids(problem, runs)),
        km=sum(run.km for run in runs),
        deadhead_km=sum(run.deadhead_km for run in runs),
        duty_minutes=sum(_duty_minutes(run) for run in runs),
        objective=objective,
    )


def _duty_minutes(run: Run) -> float:
    if not run.activities:
        return 0.0
    return (run.activities[-1].end - run.activities[0].start).total_seconds() / 60
