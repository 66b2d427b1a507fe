"""A stored plan explained for the dispatcher: its runs with names, its figures beside the current plan's,
what it leaves unassigned and why, and what breaks in it.

Everything is read from the plan row: the problem the solver got (names, plates, places) and the plan
it returned, so a plan reads the same later even when the fleet has changed since.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.errors import NotFoundError
from dispatch.adjust import check_plan, describe_violations
from dispatch.plan_models import DispatchPlan
from dispatch.solver.matrix import matrix_for
from dispatch.solver.problem import ActivityKind, Plan, PlanSummary, Problem, Run, Unassigned

__all__ = ("Figure", "PlanView", "RunView", "ViolationView", "load_plan_row", "plan_view", "violation_kind")

_VIOLATION_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("dangerous_goods", re.compile(r"hazmat|dangerous goods|dangerous-goods")),
    ("time_window", re.compile(r"before it is ready|after the cut-off|opening hours|trailer is ready")),
    ("break", re.compile(r"continuous driving")),
    ("duty", re.compile(r"on duty for")),
    ("driving_hours", re.compile(r"previous 24 hours|night")),
    ("shift", re.compile(r"shift (starts|ends)|the run (starts|ends) at .* (before|after)")),
    ("trailer", re.compile(r"trailer|hooks|drops|tows")),
)
_MENTIONS = re.compile(r"\b(tractor|driver|escort|trailer|move) ([^\s:,;()']+)")


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """One figure of the comparison: this plan's value, the current plan's, and which is better."""

    key: str
    value: float
    current: float | None
    better: str | None
    """``"this"``, ``"current"`` or None (equal, or no current plan)."""


class ViolationView(msgspec.Struct, frozen=True, kw_only=True):
    """A broken rule: its kind (for a translated heading), the run and move it concerns, and the checker's words."""

    kind: str
    text: str
    """The checker's sentence with ids replaced by plates, names and move numbers."""
    tractor_plate: str | None
    move_id: str | None


def violation_kind(text: str) -> str:
    """What kind of rule a checker sentence says is broken: ``dangerous_goods``, ``time_window``, ``break``,
    ``duty``, ``driving_hours``, ``shift``, ``trailer`` or ``other``."""
    return next((kind for kind, pattern in _VIOLATION_KINDS if pattern.search(text)), "other")


def _named(problem: Problem, text: str) -> str:
    names = {
        "tractor": {t.id: t.plate or t.id for t in problem.tractors},
        "driver": {d.id: d.name or d.id for d in problem.drivers},
        "escort": {d.id: d.name or d.id for d in problem.drivers},
        "trailer": {t.id: t.plate or t.id for t in problem.trailers},
        "move": {m.id: f"#{m.id}" for m in problem.moves},
    }

    def name(match: re.Match[str]) -> str:
        word, ident = match.group(1), match.group(2)
        return f"{word} {names[word].get(ident, ident)}"

    return _MENTIONS.sub(name, text)


class RunView(msgspec.Struct, frozen=True, kw_only=True):
    """A run as the plan page lists it."""

    run: Run
    tractor_plate: str
    driver_name: str
    moves: int
    km: float
    deadhead_km: float
    start: datetime | None
    end: datetime | None
    pinned: bool


class UnassignedView(msgspec.Struct, frozen=True, kw_only=True):
    """A move left out, and why."""

    move_id: str
    label: str
    reason: str
    detail: str


class PlanView(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the plan page shows about a done (or accepted) plan."""

    problem: Problem
    plan: Plan
    runs: list[RunView]
    figures: list[Figure]
    unassigned: list[UnassignedView]
    violations: list[ViolationView]
    late_moves: list[str]
    current_plan_id: uuid.UUID | None


async def load_plan_row(session: AsyncSession, *, carrier_id: uuid.UUID, plan_id: uuid.UUID) -> DispatchPlan:
    """One of the carrier's plan rows; another carrier's plan is not found."""
    row = await session.get(DispatchPlan, plan_id)
    if row is None or row.carrier_id != carrier_id:
        raise NotFoundError(f"no plan {plan_id}")
    return row


async def _current_plan(session: AsyncSession, carrier_id: uuid.UUID) -> DispatchPlan | None:
    return await session.scalar(
        sa.select(DispatchPlan).where(
            col(DispatchPlan.carrier_id) == carrier_id, col(DispatchPlan.status) == "accepted"
        )
    )


def move_label(problem: Problem, move_id: str) -> str:
    """``#12 南沙港 → 东莞仓`` style label of a move of the problem."""
    places = {place.id: place.name or place.id for place in problem.places}
    move = next((m for m in problem.moves if m.id == move_id), None)
    if move is None:
        return f"#{move_id}"
    origin = places.get(move.origin_id or "", "…")
    return f"#{move_id} {origin} → {places.get(move.destination_id, move.destination_id)}"


def _figures(summary: PlanSummary, current: PlanSummary | None) -> list[Figure]:
    keys = ("tractors_used", "km", "deadhead_km", "late_moves", "moves_unassigned")
    figures = []
    for key in keys:
        value = float(getattr(summary, key))
        other = None if current is None else float(getattr(current, key))
        better = None if other is None or abs(other - value) < 0.05 else ("this" if value < other else "current")
        figures.append(Figure(key=key, value=value, current=other, better=better))
    return figures


def _run_view(problem: Problem, run: Run, pinned: set[str]) -> RunView:
    tractors = {tractor.id: tractor for tractor in problem.tractors}
    drivers = {driver.id: driver for driver in problem.drivers}
    tractor = tractors.get(run.tractor_id)
    driver = drivers.get(run.driver_id or "")
    return RunView(
        run=run,
        tractor_plate=tractor.plate if tractor and tractor.plate else run.tractor_id,
        driver_name=driver.name if driver and driver.name else "—",
        moves=len(run.moves),
        km=run.km,
        deadhead_km=run.deadhead_km,
        start=run.activities[0].start if run.activities else None,
        end=run.activities[-1].end if run.activities else None,
        pinned=run.tractor_id in pinned,
    )


def _unassigned(problem: Problem, entries: tuple[Unassigned, ...]) -> list[UnassignedView]:
    return [
        UnassignedView(
            move_id=entry.move_id,
            label=move_label(problem, entry.move_id),
            reason=entry.reason.value,
            detail=entry.detail,
        )
        for entry in entries
    ]


async def plan_view(session: AsyncSession, row: DispatchPlan) -> PlanView:
    """The plan row explained: runs, comparison with the accepted plan, unassigned moves, violations."""
    if row.problem is None or row.plan is None:
        raise NotFoundError(f"plan {row.id} has no result yet")
    problem = msgspec.convert(row.problem, Problem)
    plan = msgspec.convert(row.plan, Plan)
    current = await _current_plan(session, row.carrier_id)
    current_summary = (
        msgspec.convert(current.plan, Plan).summary
        if current is not None and current.plan is not None and current.id != row.id
        else None
    )
    violations, late = check_plan(problem, plan, matrix_for(problem.places, problem.matrix))
    pinned = {str(run.get("tractor_id")) for run in row.pinned_runs or []}
    runs = sorted(
        (_run_view(problem, run, pinned) for run in plan.runs if run.moves),
        key=lambda view: (view.start is None, view.start or datetime.max, view.tractor_plate),
    )
    return PlanView(
        problem=problem,
        plan=plan,
        runs=runs,
        figures=_figures(plan.summary, current_summary),
        unassigned=_unassigned(problem, plan.unassigned),
        violations=_violation_views(problem, violations),
        late_moves=late,
        current_plan_id=current.id if current is not None and current.id != row.id else None,
    )


def _violation_views(problem: Problem, violations: list[str]) -> list[ViolationView]:
    plates = {t.id: t.plate or t.id for t in problem.tractors}
    return [
        ViolationView(
            kind=violation_kind(v.text),
            text=_named(problem, v.text),
            tractor_plate=plates.get(v.tractor_id or ""),
            move_id=v.move_id,
        )
        for v in describe_violations(problem, violations)
    ]


def route_points(problem: Problem, run: Run) -> list[tuple[float, float]]:
    """The places a run visits in order, as ``(lat, lon)``: where it starts, then each drive's end."""
    places = {place.id: (place.latitude, place.longitude) for place in problem.places}
    drives = [a for a in run.activities if a.kind is ActivityKind.DRIVE and a.to_place_id]
    if not drives:
        return []
    points = [places[drives[0].place_id]] if drives[0].place_id in places else []
    for drive in drives:
        point = places.get(drive.to_place_id or "")
        if point is not None and (not points or points[-1] != point):
            points.append(point)
    return points
