"""Planning runs: a carrier asks for a plan, a background job solves it, the carrier accepts it.

The job (``dispatch.tasks.plan_dispatch``) builds the problem from the carrier's fleet, runs the
solver in a thread and writes its progress to the plan row about twice a second, then stores the
plan. Accepting a done plan turns its runs into assignments (one per planned move, in run order)
and marks the moves planned; the previously accepted plan is superseded; a plan that breaks a
rule (see :mod:`dispatch.solver.plan_check`) is refused. Re-planning keeps the accepted runs in which
a move has started as fixed runs.

The dispatcher may adjust a done plan move by move (:func:`adjust_plan`, see :mod:`dispatch.adjust`)
and re-plan around the runs they pin (:func:`replan_around`): a new plan in which those runs are
fixed runs too.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.schemas import Principal
from core.errors import ForbiddenError, InvalidStateError, NotFoundError, RuleViolationError
from core.types import InputStruct, OutputStruct
from dispatch.adjust import Adjustment, UnknownIdError, check_plan, rearrange
from dispatch.models import DispatchMove, DispatchTractor, DispatchTrailer
from dispatch.plan_models import DispatchAssignment, DispatchPlan
from dispatch.service import build_problem
from dispatch.solver.dropandhook import SolveProgress, solve
from dispatch.solver.matrix import matrix_for
from dispatch.solver.problem import ActivityKind, Plan, Problem, Run
from waybill.schemas import LegUpdate
from waybill.service import leg_equipment, legs_of, load_waybill_for, update_leg

__all__ = (
    "AssignmentRead",
    "PlanCreate",
    "PlanProgress",
    "PlanRead",
    "accept_plan",
    "adjust_plan",
    "create_plan",
    "get_plan",
    "list_plans",
    "plan_check_of",
    "replan_around",
    "run_plan",
)

PROGRESS_INTERVAL_S = 0.5
"""How often a running plan's progress is written."""
TIME_LIMIT_RANGE_S = (1.0, 300.0)
"""The solver time a plan may ask for."""


class PlanCreate(InputStruct, frozen=True):
    """A request for a plan of the carrier's open moves."""

    start: datetime | None = None
    """Plan from this instant (RFC 3339 with offset); now when omitted."""
    horizon_hours: float = msgspec.field(default=24.0)
    time_limit_s: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("start: needs a UTC offset")
        if not 1 <= self.horizon_hours <= 72:
            raise ValueError("horizon_hours: must be between 1 and 72")
        if not 1 <= self.time_limit_s <= 300:
            raise ValueError("time_limit_s: must be between 1 and 300")
        if not 0 <= self.seed < 2**31:
            raise ValueError("seed: must be between 0 and 2147483647")


class PlanProgress(OutputStruct, frozen=True):
    """The best plan so far while the solver runs."""

    elapsed_s: float
    objective: int
    tractors: int
    unassigned: int
    deadhead_km: float = 0.0


class AssignmentRead(OutputStruct, frozen=True):
    """A move of an accepted plan and who performs it when."""

    move_id: int
    tractor_id: int
    driver_id: int | None
    trailer_id: int | None
    sequence: int
    planned_hook_at: datetime | None
    planned_drop_at: datetime | None
    waybill_number: str | None
    leg_index: int | None


class PlanRead(OutputStruct, frozen=True):
    """A planning run: its state, progress and, once done, the plan."""

    id: uuid.UUID
    status: str
    start: datetime
    horizon_hours: float
    time_limit_s: float
    seed: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    accepted_at: datetime | None
    progress: PlanProgress | None
    plan: Plan | None
    error: str | None
    assignments: list[AssignmentRead] | None = None


def _read(row: DispatchPlan, assignments: list[DispatchAssignment] | None = None) -> PlanRead:
    return PlanRead(
        id=row.id,
        status=row.status,
        start=row.start,
        horizon_hours=row.horizon_hours,
        time_limit_s=row.time_limit_s,
        seed=row.seed,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        accepted_at=row.accepted_at,
        progress=msgspec.convert(row.progress, PlanProgress) if row.progress else None,
        plan=msgspec.convert(row.plan, Plan) if row.plan else None,
        error=row.error,
        assignments=None
        if assignments is None
        else [
            AssignmentRead(
                move_id=a.move_id,
                tractor_id=a.tractor_id,
                driver_id=a.driver_id,
                trailer_id=a.trailer_id,
                sequence=a.sequence,
                planned_hook_at=a.planned_hook_at,
                planned_drop_at=a.planned_drop_at,
                waybill_number=a.waybill_number,
                leg_index=a.leg_index,
            )
            for a in assignments
        ],
    )


async def create_plan(session: AsyncSession, *, carrier_id: uuid.UUID, data: PlanCreate) -> PlanRead:
    """A queued planning run (the caller commits, then enqueues the job)."""
    row = DispatchPlan(
        carrier_id=carrier_id,
        start=data.start or datetime.now(UTC),
        horizon_hours=data.horizon_hours,
        time_limit_s=data.time_limit_s,
        seed=data.seed,
    )
    session.add(row)
    await session.flush()
    return _read(row)


async def _load(
    session: AsyncSession, *, carrier_id: uuid.UUID, plan_id: uuid.UUID, for_update: bool = False
) -> DispatchPlan:
    row = await session.get(DispatchPlan, plan_id, with_for_update=for_update or None, populate_existing=for_update)
    if row is None or row.carrier_id != carrier_id:
        raise NotFoundError(f"no plan {plan_id}")
    return row


async def get_plan(session: AsyncSession, *, carrier_id: uuid.UUID, plan_id: uuid.UUID) -> PlanRead:
    """One of the carrier's plans (with its assignments once accepted)."""
    row = await _load(session, carrier_id=carrier_id, plan_id=plan_id)
    return _read(row, await _assignments(session, row.id) if row.status == "accepted" else None)


async def list_plans(session: AsyncSession, *, carrier_id: uuid.UUID, limit: int) -> list[PlanRead]:
    """The carrier's latest plans, newest first (without the plans themselves)."""
    rows = await session.scalars(
        sa.select(DispatchPlan)
        .where(col(DispatchPlan.carrier_id) == carrier_id)
        .order_by(col(DispatchPlan.created_at).desc())
        .limit(limit)
    )
    return [msgspec.structs.replace(_read(row), plan=None) for row in rows]


async def _assignments(session: AsyncSession, plan_id: uuid.UUID) -> list[DispatchAssignment]:
    rows = await session.scalars(
        sa.select(DispatchAssignment)
        .where(col(DispatchAssignment.plan_id) == plan_id)
        .order_by(col(DispatchAssignment.tractor_id), col(DispatchAssignment.sequence))
    )
    return list(rows)


async def accept_plan(session: AsyncSession, *, principal: Principal, plan_id: uuid.UUID) -> PlanRead:
    """Turn a done plan into assignments and mark its moves planned; the previous accepted plan is superseded.

    A move tied to a waybill leg puts its tractor's and trailer's plates on that leg (through the
    waybill service, so the leg's own rules and audit apply); a leg that can no longer change is left.

    Raises:
        InvalidStateError: the plan is not done.
        RuleViolationError: the plan breaks a rule (``violations`` lists them; late moves alone do not
            stop it).
    """
    carrier_id = principal.organisation_id
    row = await _load(session, carrier_id=carrier_id, plan_id=plan_id)
    if row.status != "done" or row.plan is None:
        raise InvalidStateError(f"only a done plan can be accepted; this one is {row.status}")
    plan = msgspec.convert(row.plan, Plan)
    await _refuse_if_infeasible(row, plan)
    previous = await session.scalars(
        sa.select(DispatchPlan).where(
            col(DispatchPlan.carrier_id) == carrier_id, col(DispatchPlan.status) == "accepted"
        )
    )
    for old in previous:
        old.status = "superseded"
        await session.execute(sa.delete(DispatchAssignment).where(col(DispatchAssignment.plan_id) == old.id))
    moves = {
        move.id: move
        for move in await session.scalars(sa.select(DispatchMove).where(col(DispatchMove.carrier_id) == carrier_id))
    }
    for run in plan.runs:
        for sequence, move_id in enumerate(run.moves, start=1):
            move = moves.get(int(move_id))
            if move is None:
                continue
            hook, drop = _handling(run, move_id)
            session.add(
                DispatchAssignment(
                    plan_id=row.id,
                    carrier_id=carrier_id,
                    tractor_id=int(run.tractor_id),
                    driver_id=int(run.driver_id) if run.driver_id else None,
                    move_id=int(move_id),
                    sequence=sequence,
                    trailer_id=int(hook.trailer_id) if hook is not None and hook.trailer_id else None,
                    planned_hook_at=hook.start if hook is not None else None,
                    planned_drop_at=drop.end if drop is not None else None,
                    waybill_number=move.waybill_number,
                    leg_index=move.leg_index,
                )
            )
            if move.status == "open":
                move.status = "planned"
            if move.waybill_number and move.leg_index and hook is not None:
                await _equip_leg(session, principal, move, run.tractor_id, hook.trailer_id)
    row.status = "accepted"
    row.accepted_at = datetime.now(UTC)
    await session.flush()
    return _read(row, await _assignments(session, row.id))


async def _equip_leg(
    session: AsyncSession, principal: Principal, move: DispatchMove, tractor_id: str, trailer_id: str | None
) -> None:
    tractor = await session.get(DispatchTractor, int(tractor_id))
    trailer = await session.get(DispatchTrailer, int(trailer_id)) if trailer_id else None
    number, sequence = str(move.waybill_number), int(move.leg_index or 0)
    try:
        waybill = await load_waybill_for(session, principal=principal, number=number)
        leg = next(leg for leg in await legs_of(session, int(waybill.id or 0)) if leg.sequence == sequence)
        equipment = msgspec.structs.replace(
            leg_equipment(leg),
            vehicle_plate=tractor.plate if tractor is not None else None,
            trailer_plate=trailer.plate if trailer is not None else None,
        )
        await update_leg(
            session, principal=principal, number=number, sequence=sequence, update=LegUpdate(equipment=equipment)
        )
    except (StopIteration, NotFoundError, ForbiddenError, InvalidStateError, RuleViolationError, ValueError):
        return  # the leg is gone, not the carrier's, finished, or already carries these plates


async def _refuse_if_infeasible(row: DispatchPlan, plan: Plan) -> None:
    """A plan that breaks a rule of its problem is not accepted; one stored without its problem is not checked."""
    if row.problem is None:
        return
    violations, _ = await _checked(msgspec.convert(row.problem, Problem), plan)
    if violations:
        count = f"{len(violations)} rule{'s' if len(violations) > 1 else ''}"
        raise RuleViolationError(f"the plan breaks {count}: {'; '.join(violations)}", violations=violations)


async def _checked(problem: Problem, plan: Plan) -> tuple[list[str], list[str]]:
    """``(violations, late moves)`` of the plan, with the problem's matrix (a routing server is called off the loop)."""
    matrix = await asyncio.to_thread(matrix_for, problem.places, problem.matrix)
    return check_plan(problem, plan, matrix)


def _stored(row: DispatchPlan) -> tuple[Problem, Plan]:
    if row.problem is None or row.plan is None:
        raise InvalidStateError(f"the plan has no stored problem and plan; it is {row.status}")
    return msgspec.convert(row.problem, Problem), msgspec.convert(row.plan, Plan)


async def plan_check_of(
    session: AsyncSession, *, carrier_id: uuid.UUID, plan_id: uuid.UUID
) -> tuple[list[str], list[str]]:
    """``(violations, late move ids)`` of one of the carrier's done or accepted plans.

    Raises:
        NotFoundError: no such plan of the carrier.
        InvalidStateError: the plan is neither done nor accepted.
    """
    row = await _load(session, carrier_id=carrier_id, plan_id=plan_id)
    if row.status not in {"done", "accepted"}:
        raise InvalidStateError(f"only a done or accepted plan can be checked; this one is {row.status}")
    return await _checked(*_stored(row))


async def adjust_plan(
    session: AsyncSession,
    *,
    carrier_id: uuid.UUID,
    plan_id: uuid.UUID,
    move_id: int | str,
    tractor_id: int | str,
    position: int,
) -> Adjustment:
    """Move one move of a done plan to ``position`` (0-based, clamped) in a tractor's run, and store the plan.

    The plan is stored even when it breaks rules (the adjustment lists them, and such a plan cannot
    be accepted until they are put right). See :func:`dispatch.adjust.rearrange`.

    Raises:
        NotFoundError: no such plan of the carrier, or the move or tractor is not in its problem.
        InvalidStateError: the plan is not done (queued, running, failed, accepted or superseded).
        RuleViolationError: the move cannot go there (a run under way, no free empty trailer...).
    """
    row = await _load(session, carrier_id=carrier_id, plan_id=plan_id, for_update=True)
    if row.status != "done":
        raise InvalidStateError(f"only a done plan can be adjusted; this one is {row.status}")
    problem, plan = _stored(row)
    matrix = await asyncio.to_thread(matrix_for, problem.places, problem.matrix)
    try:
        adjustment = rearrange(
            problem, plan, matrix, move_id=str(move_id), tractor_id=str(tractor_id), position=position
        )
    except UnknownIdError as exc:
        raise NotFoundError(str(exc)) from exc
    except ValueError as exc:
        raise RuleViolationError(str(exc)) from exc
    row.plan = msgspec.to_builtins(adjustment.plan)
    if row.progress is not None:
        summary = adjustment.plan.summary
        row.progress = {
            **row.progress,
            "tractors": summary.tractors_used,
            "unassigned": summary.moves_unassigned,
            "deadhead_km": summary.deadhead_km,
        }
    await session.flush()
    return adjustment


async def replan_around(
    session: AsyncSession,
    *,
    carrier_id: uuid.UUID,
    plan_id: uuid.UUID,
    pinned_tractor_ids: Collection[int | str],
    time_limit_s: float,
) -> PlanRead:
    """A queued plan that keeps the pinned tractors' runs of a done or accepted plan and plans the rest.

    The new plan has the source's start, horizon and seed; the caller commits and enqueues it as
    after :func:`create_plan`. When it runs, the pinned runs are fixed runs next to the runs already
    under way (see :func:`run_plan`).

    Raises:
        NotFoundError: no such plan of the carrier, or it has no run of a pinned tractor.
        InvalidStateError: the source plan is neither done nor accepted.
        RuleViolationError: the time limit is out of range.
    """
    low, high = TIME_LIMIT_RANGE_S
    if not low <= time_limit_s <= high:
        raise RuleViolationError(f"time_limit_s: must be between {low:g} and {high:g}", field="time_limit_s")
    source = await _load(session, carrier_id=carrier_id, plan_id=plan_id)
    if source.status not in {"done", "accepted"} or source.plan is None:
        raise InvalidStateError(f"only a done or accepted plan can be re-planned; this one is {source.status}")
    plan = msgspec.convert(source.plan, Plan)
    pinned = {str(tractor_id) for tractor_id in pinned_tractor_ids}
    runs = {run.tractor_id: run for run in plan.runs if run.tractor_id in pinned}
    missing = sorted(pinned - set(runs))
    if missing:
        raise NotFoundError(f"the plan has no run of tractor {', '.join(missing)}")
    row = DispatchPlan(
        carrier_id=carrier_id,
        start=source.start,
        horizon_hours=source.horizon_hours,
        time_limit_s=time_limit_s,
        seed=source.seed,
        pinned_runs=[msgspec.to_builtins(run) for run in runs.values()],
        source_plan_id=source.id,
    )
    session.add(row)
    await session.flush()
    return _read(row)


def _with_pinned(started: tuple[Run, ...], pinned: list[dict[str, Any]] | None) -> tuple[Run, ...]:
    """The runs under way, then the pinned runs of other tractors that share no move with them."""
    taken_tractors = {run.tractor_id for run in started}
    taken_moves = {move_id for run in started for move_id in run.moves}
    kept = [
        run
        for run in (msgspec.convert(entry, Run) for entry in pinned or [])
        if run.tractor_id not in taken_tractors and not taken_moves.intersection(run.moves)
    ]
    return (*started, *kept)


def _handling(run: Run, move_id: str) -> tuple[Any, Any]:
    hook = next((a for a in run.activities if a.kind == ActivityKind.HOOK and a.move_id == move_id), None)
    drop = next((a for a in run.activities if a.kind == ActivityKind.DROP and a.move_id == move_id), None)
    return hook, drop


async def _started_runs(session: AsyncSession, carrier_id: uuid.UUID) -> tuple[Run, ...]:
    """Runs of the accepted plan in which a move is in progress or done: kept as they are."""
    accepted = await session.scalar(
        sa.select(DispatchPlan).where(
            col(DispatchPlan.carrier_id) == carrier_id, col(DispatchPlan.status) == "accepted"
        )
    )
    if accepted is None or accepted.plan is None:
        return ()
    started = {
        str(move_id)
        for move_id in await session.scalars(
            sa.select(col(DispatchMove.id)).where(
                col(DispatchMove.carrier_id) == carrier_id,
                col(DispatchMove.status).in_(["in_progress", "done"]),
            )
        )
    }
    plan = msgspec.convert(accepted.plan, Plan)
    return tuple(run for run in plan.runs if started & set(run.moves))


async def run_plan(session_factory: Callable[[], Any], *, plan_id: uuid.UUID) -> None:
    """Solve a queued plan and store the result; a failure is stored, never left running."""
    async with session_factory() as session:
        row = await session.get(DispatchPlan, plan_id)
        if row is None or row.status != "queued":
            return
        row.status, row.started_at = "running", datetime.now(UTC)
        try:
            problem = await build_problem(
                session, carrier_id=row.carrier_id, start=row.start, horizon_hours=row.horizon_hours
            )
            fixed = _with_pinned(await _started_runs(session, row.carrier_id), row.pinned_runs)
            problem = msgspec.structs.replace(problem, fixed_runs=fixed)
        except ValueError as exc:
            row.status, row.error, row.finished_at = "failed", str(exc), datetime.now(UTC)
            await session.commit()
            return
        row.problem = msgspec.to_builtins(problem)
        await session.commit()
        time_limit_s, seed = row.time_limit_s, row.seed
    try:
        plan = await _solve_with_progress(session_factory, plan_id, problem, time_limit_s, seed)
    except Exception as exc:  # a failed run must say why, not stay "running"
        await _finish(session_factory, plan_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    await _finish(session_factory, plan_id, status="done", plan=plan)


async def _solve_with_progress(
    session_factory: Callable[[], Any], plan_id: uuid.UUID, problem: Problem, time_limit_s: float, seed: int
) -> Plan:
    """Solve in a child process (OR-Tools holds the GIL, which would stall the web app that runs the
    job on the embedded default) and write its progress to the plan row as it comes."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    child = context.Process(
        target=_solve_in_child,
        args=(msgspec.json.encode(problem), time_limit_s, seed, messages),
        name=f"plan-{plan_id}",
        daemon=True,
    )
    child.start()
    try:
        while True:
            try:
                kind, payload = await asyncio.to_thread(messages.get, True, PROGRESS_INTERVAL_S)
            except queue.Empty:
                if not child.is_alive() and messages.empty():
                    raise RuntimeError(f"the solver process ended with exit code {child.exitcode}") from None
                continue
            if kind == "plan":
                return msgspec.json.decode(payload, type=Plan)
            if kind == "error":
                raise RuntimeError(payload.decode())
            await _write_progress(session_factory, plan_id, msgspec.json.decode(payload))
    finally:
        await asyncio.to_thread(child.join, 5)
        if child.is_alive():
            child.kill()


def _solve_in_child(problem_json: bytes, time_limit_s: float, seed: int, messages: Any) -> None:
    """The child process: solve and send ``("progress" | "plan" | "error", bytes)`` messages."""
    last = [0.0]

    def report(progress: SolveProgress) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL_S:
            last[0] = now
            messages.put(("progress", msgspec.json.encode(progress)))

    try:
        problem = msgspec.json.decode(problem_json, type=Problem)
        matrix = matrix_for(problem.places, problem.matrix)
        plan = solve(problem, time_limit_s=time_limit_s, seed=seed, matrix=matrix, on_progress=report)
        messages.put(("plan", msgspec.json.encode(plan)))
    except Exception as exc:  # reported to the parent, which stores it on the plan
        messages.put(("error", f"{type(exc).__name__}: {exc}".encode()))


async def _write_progress(session_factory: Callable[[], Any], plan_id: uuid.UUID, progress: Any) -> None:
    async with session_factory() as session:
        row = await session.get(DispatchPlan, plan_id)
        if row is not None:
            row.progress = progress
            await session.commit()


async def _finish(
    session_factory: Callable[[], Any],
    plan_id: uuid.UUID,
    *,
    status: str,
    plan: Plan | None = None,
    error: str | None = None,
) -> None:
    async with session_factory() as session:
        row = await session.get(DispatchPlan, plan_id)
        if row is None:
            return
        row.status, row.error, row.finished_at = status, error, datetime.now(UTC)
        if plan is not None:
            row.plan = msgspec.to_builtins(plan)
            if row.progress is None:
                summary = plan.summary
                row.progress = {
                    "elapsed_s": row.time_limit_s,
                    "objective": summary.objective,
                    "tractors": summary.tractors_used,
                    "unassigned": summary.moves_unassigned,
                    "deadhead_km": summary.deadhead_km,
                }
        await session.commit()
