"""A plan as text for people: per tractor its stops with arrival, service and departure times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from dispatch.solver.problem import Activity, ActivityKind, Plan, Problem, Run

__all__ = ("format_plan",)


def format_plan(problem: Problem, plan: Plan) -> str:
    """The plan as text: a summary, then each run's stops, then the moves left out and why."""
    zone = ZoneInfo(problem.policy.timezone)
    summary = plan.summary
    lines = [
        f"{summary.tractors_used} tractors, {summary.moves_planned} moves planned, "
        f"{summary.moves_unassigned} unassigned, {summary.late_moves} late; "
        f"{summary.km:.1f} km of which {summary.deadhead_km:.1f} km deadhead; "
        f"{summary.duty_minutes / 60:.1f} h on duty ({plan.solver})",
    ]
    for run in plan.runs:
        lines.append("")
        lines.extend(_run_lines(run, zone))
    if plan.unassigned:
        lines.append("")
        lines.append("Unassigned moves:")
        lines.extend(f"  {item.move_id}: {item.reason} ({item.detail})" for item in plan.unassigned)
    return "\n".join(lines)


def _run_lines(run: Run, zone: ZoneInfo) -> Iterator[str]:
    crew = ", ".join(person for person in (run.driver_id, run.escort_id) if person)
    yield (
        f"Tractor {run.tractor_id} ({crew}): {len(run.moves)} moves, {run.km:.1f} km, {run.deadhead_km:.1f} km deadhead"
    )
    if run.activities:
        yield f"  {_time(run.activities[0].start, zone)} depart {run.activities[0].place_id}"
    for arrival, stop in _stops(run.activities):
        work = ", ".join(_describe(activity) for activity in stop)
        yield (f"  {_time(arrival, zone)} arrive {stop[0].place_id}: {work}; depart {_time(stop[-1].end, zone)}")
    if run.activities:
        last_activity = run.activities[-1]
        yield f"  {_time(last_activity.end, zone)} end at {last_activity.to_place_id or last_activity.place_id}"


def _stops(activities: tuple[Activity, ...]) -> Iterator[tuple[datetime, list[Activity]]]:
    """Each stop with a hook or drop: the arrival time and its activities (waits, breaks, hooks, drops)."""
    arrival = activities[0].start if activities else None
    current: list[Activity] = []
    for activity in [*activities, None]:
        if activity is None or activity.kind == ActivityKind.DRIVE:
            if arrival is not None and any(a.kind in (ActivityKind.HOOK, ActivityKind.DROP) for a in current):
                yield arrival, current
            current = []
            arrival = activity.end if activity is not None else None
        else:
            current.append(activity)


def _describe(activity: Activity) -> str:
    if activity.kind in (ActivityKind.HOOK, ActivityKind.DROP):
        return f"{activity.kind} {activity.trailer_id} (move {activity.move_id})"
    return f"{activity.kind} {(activity.end - activity.start).total_seconds() / 60:.0f} min"


def _time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")
