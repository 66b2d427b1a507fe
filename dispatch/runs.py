"""Runs handed to drivers: a tractor's run of the accepted plan as a run sheet, and the driver's check-ins.

A run sheet lists the stops of one tractor's run in order (hook at the move's origin, drop at its
destination) with the planned times of the stored plan and what the driver has tapped so far. A
check-in records one tap (arrived, hooked, departed at a hook stop; arrived, dropped, delivered at a
drop stop), moves the move on, and reports the matching journey event on the move's waybill leg.
Tapping again changes nothing: the first check-in stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.schemas import Principal
from accounts.service import get_organisation
from core.errors import DomainError, InvalidStateError, NotFoundError
from core.types import OutputStruct
from dispatch.models import DispatchDriver, DispatchMove, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.plan_models import DispatchAssignment, DispatchCheckIn, DispatchPlan
from dispatch.schemas import MoveStatus
from dispatch.solver.problem import Activity, ActivityKind, Place, Plan, Problem, Run
from waybill.event_schemas import EventType, TransportEventCreate
from waybill.events import record_events
from waybill.service import legs_of, load_waybill_for

__all__ = (
    "STOP_ACTIONS",
    "CheckInRead",
    "RunSheet",
    "RunStop",
    "RunSummary",
    "StopKind",
    "accepted_runs",
    "load_run_sheet",
    "record_check_in",
    "run_carrier",
)

StopKind = Literal["hook", "drop"]

STOP_ACTIONS: dict[str, tuple[str, ...]] = {
    "hook": ("arrived", "hooked", "departed"),
    "drop": ("arrived", "dropped", "delivered"),
}
"""The taps of each kind of stop, in the order a driver makes them."""

_FINAL_ACTIONS = {"hook": {"departed"}, "drop": {"dropped", "delivered"}}
"""Taps after which a stop is behind the driver."""

_EVENT_OF: dict[tuple[str, str], EventType] = {
    ("hook", "arrived"): EventType.GATE_IN,
    ("hook", "hooked"): EventType.PICKED_UP,
    ("hook", "departed"): EventType.DEPARTED,
    ("drop", "arrived"): EventType.ARRIVED,
    ("drop", "dropped"): EventType.DROPPED,
    ("drop", "delivered"): EventType.DELIVERED,
}
"""The journey event each tap reports. Arriving at the origin is a gate-in, so that the leg's arrival
stays the arrival at its destination; a delivery on a leg before the last is a handover."""

_RECEIVER_MAX = 100
_VISIBLE_PLAN_STATUSES = ("accepted", "superseded")


class RunStop(OutputStruct, frozen=True):
    """One stop of a run: hook a trailer at a move's origin, or drop it at the move's destination."""

    sequence: int
    """Order of the stop in the run, from 1."""
    stop: StopKind
    move_id: int
    place_id: int
    place_code: str
    place_name: str
    latitude: float
    longitude: float
    planned_start: datetime
    """Planned arrival: the end of the drive before the stop."""
    planned_end: datetime
    """Planned end of the hook or drop."""
    trailer_plate: str | None
    trailer_type: str | None
    waybill_number: str | None
    leg_index: int | None
    hazmat: bool
    done: dict[str, datetime]
    """The taps made so far: action -> when (UTC)."""

    @property
    def actions(self) -> tuple[str, ...]:
        """The taps of this stop, in order."""
        return STOP_ACTIONS[self.stop]

    @property
    def finished(self) -> bool:
        """Whether the stop's last tap is made."""
        return bool(_FINAL_ACTIONS[self.stop] & set(self.done))


class RunSheet(OutputStruct, frozen=True):
    """One tractor's run of a plan, as its driver works it."""

    plan_id: uuid.UUID
    plan_status: str
    """``accepted`` (the run to work) or ``superseded`` (replaced; no more check-ins)."""
    tractor_id: int
    tractor_plate: str
    driver_name: str | None
    driver_phone: str | None
    escort_name: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    km: float
    stops: list[RunStop]
    move_status: dict[int, str]
    """Status of each move of the run (``MoveStatus``)."""
    next_stop: int | None
    """Sequence of the first stop not yet behind the driver; none when the run is worked through."""


class RunSummary(OutputStruct, frozen=True):
    """A run in the carrier's list of runs."""

    plan_id: uuid.UUID
    tractor_id: int
    tractor_plate: str
    driver_name: str | None
    moves: int
    moves_done: int
    first_start: datetime | None
    last_end: datetime | None
    next_stop_label: str | None
    """``stop · place code · place name`` of the next stop; none when the run is worked through."""


class CheckInRead(OutputStruct, frozen=True):
    """A recorded tap; ``new`` is false when the same tap was recorded before."""

    id: int
    move_id: int
    stop: StopKind
    action: str
    at: datetime
    receiver_name: str | None
    event_id: uuid.UUID | None
    new: bool


# --- loading ----------------------------------------------------------------------------------------


async def _visible_plan(session: AsyncSession, carrier_id: uuid.UUID, plan_id: uuid.UUID) -> DispatchPlan:
    """The carrier's accepted or superseded plan; any other plan has no runs to hand out."""
    row = await session.get(DispatchPlan, plan_id)
    if row is None or row.carrier_id != carrier_id or row.status not in _VISIBLE_PLAN_STATUSES or row.plan is None:
        raise NotFoundError(f"no accepted plan {plan_id}")
    return row


def _run_of(plan: Plan, tractor_id: int, plan_id: uuid.UUID) -> Run:
    run = next((run for run in plan.runs if run.tractor_id == str(tractor_id)), None)
    if run is None:
        raise NotFoundError(f"plan {plan_id} has no run of tractor {tractor_id}")
    return run


async def _by_id(session: AsyncSession, model: type[Any], carrier_id: uuid.UUID, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(sa.select(model).where(col(model.carrier_id) == carrier_id, col(model.id).in_(wanted)))
    return {row.id: row for row in rows}


def _arrival(activities: tuple[Activity, ...], index: int) -> datetime:
    """When the tractor reaches the place of ``activities[index]``: the end of the drive before it."""
    for earlier in reversed(activities[:index]):
        if earlier.kind is ActivityKind.DRIVE:
            return earlier.end
        if earlier.kind not in (ActivityKind.WAIT, ActivityKind.BREAK):
            break
    return activities[index].start


async def _check_ins(session: AsyncSession, plan_id: uuid.UUID, move_ids: Iterable[int]) -> list[DispatchCheckIn]:
    rows = await session.scalars(
        sa.select(DispatchCheckIn)
        .where(col(DispatchCheckIn.plan_id) == plan_id, col(DispatchCheckIn.move_id).in_(sorted(set(move_ids))))
        .order_by(col(DispatchCheckIn.at), col(DispatchCheckIn.id))
    )
    return list(rows)


@dataclass(frozen=True)
class _RunRows:
    """The carrier's rows a run refers to, by id, and the taps made on its moves."""

    moves: dict[int, DispatchMove]
    places: dict[int, DispatchPlace]
    trailers: dict[int, DispatchTrailer]
    crew: dict[int, DispatchDriver]
    tractors: dict[int, DispatchTractor]
    problem_places: dict[str, Place]
    """The places as the solver got them: names a place that was deleted since."""
    done: dict[tuple[int, str], dict[str, datetime]]


def _handling(run: Run) -> list[tuple[int, Activity]]:
    """The run's hooks and drops of moves, with their index among its activities."""
    return [
        (index, activity)
        for index, activity in enumerate(run.activities)
        if activity.kind in (ActivityKind.HOOK, ActivityKind.DROP) and activity.move_id is not None
    ]


async def _run_rows(session: AsyncSession, row: DispatchPlan, runs: Sequence[Run]) -> _RunRows:
    """The rows of several runs of one plan at once: a query per table, not per run."""
    carrier_id = row.carrier_id
    handling = [activity for run in runs for _, activity in _handling(run)]
    move_ids = [int(m) for run in runs for m in run.moves]
    done: dict[tuple[int, str], dict[str, datetime]] = {}
    for check_in in await _check_ins(session, row.id, move_ids):
        done.setdefault((check_in.move_id, check_in.stop), {})[check_in.action] = check_in.at
    trailer_ids = (int(a.trailer_id) for a in handling if a.trailer_id)
    crew_ids = (int(d) for run in runs for d in (run.driver_id, run.escort_id) if d)
    return _RunRows(
        moves=await _by_id(session, DispatchMove, carrier_id, move_ids),
        places=await _by_id(session, DispatchPlace, carrier_id, (int(a.place_id) for a in handling)),
        trailers=await _by_id(session, DispatchTrailer, carrier_id, trailer_ids),
        crew=await _by_id(session, DispatchDriver, carrier_id, crew_ids),
        tractors=await _by_id(session, DispatchTractor, carrier_id, (int(run.tractor_id) for run in runs)),
        problem_places={p.id: p for p in msgspec.convert(row.problem, Problem).places} if row.problem else {},
        done=done,
    )


def _place_facts(rows: _RunRows, place_id: str) -> tuple[str, str, float, float]:
    """Code, name, latitude and longitude of a place of the run."""
    place = rows.places.get(int(place_id))
    if place is not None:
        return place.code, place.name, place.latitude, place.longitude
    solver_place = rows.problem_places.get(place_id)
    if solver_place is not None:
        return place_id, solver_place.name or place_id, solver_place.latitude, solver_place.longitude
    return place_id, place_id, 0.0, 0.0


def _stop(rows: _RunRows, run: Run, index: int, sequence: int) -> RunStop:
    activity = run.activities[index]
    move_id = int(activity.move_id or 0)
    stop: StopKind = "hook" if activity.kind is ActivityKind.HOOK else "drop"
    move = rows.moves.get(move_id)
    trailer = rows.trailers.get(int(activity.trailer_id)) if activity.trailer_id else None
    code, name, latitude, longitude = _place_facts(rows, activity.place_id)
    return RunStop(
        sequence=sequence,
        stop=stop,
        move_id=move_id,
        place_id=int(activity.place_id),
        place_code=code,
        place_name=name,
        latitude=latitude,
        longitude=longitude,
        planned_start=_arrival(run.activities, index),
        planned_end=activity.end,
        trailer_plate=trailer.plate if trailer is not None else None,
        trailer_type=trailer.type if trailer is not None else (move.trailer_type if move else None),
        waybill_number=move.waybill_number if move is not None else None,
        leg_index=move.leg_index if move is not None else None,
        hazmat=bool(move.hazmat) if move is not None else False,
        done=rows.done.get((move_id, stop), {}),
    )


def _sheet(rows: _RunRows, row: DispatchPlan, run: Run) -> RunSheet:
    stops = [_stop(rows, run, index, sequence) for sequence, (index, _) in enumerate(_handling(run), start=1)]
    tractor = rows.tractors.get(int(run.tractor_id))
    driver = rows.crew.get(int(run.driver_id)) if run.driver_id else None
    escort = rows.crew.get(int(run.escort_id)) if run.escort_id else None
    return RunSheet(
        plan_id=row.id,
        plan_status=row.status,
        tractor_id=int(run.tractor_id),
        tractor_plate=tractor.plate if tractor is not None else run.tractor_id,
        driver_name=driver.name if driver is not None else None,
        driver_phone=driver.phone if driver is not None else None,
        escort_name=escort.name if escort is not None else None,
        planned_start=run.activities[0].start if run.activities else None,
        planned_end=run.activities[-1].end if run.activities else None,
        km=run.km,
        stops=stops,
        move_status={int(m): rows.moves[int(m)].status for m in run.moves if int(m) in rows.moves},
        next_stop=_next_stop(stops),
    )


def _next_stop(stops: list[RunStop]) -> int | None:
    """The last stop the driver tapped if it is not finished, else the stop after it."""
    last_tapped = max((index for index, stop in enumerate(stops) if stop.done), default=-1)
    if last_tapped >= 0 and not stops[last_tapped].finished:
        return stops[last_tapped].sequence
    following = stops[last_tapped + 1 :]
    return following[0].sequence if following else None


async def load_run_sheet(
    session: AsyncSession, *, carrier_id: uuid.UUID, plan_id: uuid.UUID, tractor_id: int
) -> RunSheet:
    """The run sheet of one tractor's run of the carrier's accepted (or superseded) plan.

    Raises:
        NotFoundError: no such plan of the carrier, the plan was never accepted, or the tractor has no run in it.
    """
    row = await _visible_plan(session, carrier_id, plan_id)
    run = _run_of(msgspec.convert(row.plan, Plan), tractor_id, plan_id)
    return _sheet(await _run_rows(session, row, [run]), row, run)


def _summary(sheet: RunSheet) -> RunSummary:
    upcoming = next((stop for stop in sheet.stops if stop.sequence == sheet.next_stop), None)
    return RunSummary(
        plan_id=sheet.plan_id,
        tractor_id=sheet.tractor_id,
        tractor_plate=sheet.tractor_plate,
        driver_name=sheet.driver_name,
        moves=len(sheet.move_status),
        moves_done=sum(status == MoveStatus.DONE.value for status in sheet.move_status.values()),
        first_start=sheet.stops[0].planned_start if sheet.stops else sheet.planned_start,
        last_end=sheet.stops[-1].planned_end if sheet.stops else sheet.planned_end,
        next_stop_label=(
            f"{upcoming.stop} · {upcoming.place_code} · {upcoming.place_name}" if upcoming is not None else None
        ),
    )


async def accepted_runs(session: AsyncSession, *, carrier_id: uuid.UUID) -> list[RunSummary]:
    """The runs of the carrier's accepted plan, by tractor plate; none without an accepted plan."""
    row = await session.scalar(
        sa.select(DispatchPlan).where(
            col(DispatchPlan.carrier_id) == carrier_id, col(DispatchPlan.status) == "accepted"
        )
    )
    if row is None or row.plan is None:
        return []
    runs = [run for run in msgspec.convert(row.plan, Plan).runs if run.moves]
    rows = await _run_rows(session, row, runs)
    summaries = [_summary(_sheet(rows, row, run)) for run in runs]
    return sorted(summaries, key=lambda summary: (summary.tractor_plate, summary.tractor_id))


async def run_carrier(session: AsyncSession, *, plan_id: uuid.UUID) -> Principal:
    """The carrier whose run this is, as the services know callers: a driver's taps act for it.

    Raises:
        NotFoundError: no such plan.
    """
    row = await session.get(DispatchPlan, plan_id)
    if row is None:
        raise NotFoundError(f"no plan {plan_id}")
    organisation = await get_organisation(session, organisation_id=row.carrier_id)
    return Principal(
        organisation_id=organisation.id, uscc=organisation.uscc, name=organisation.name, role=organisation.role
    )


# --- check-ins -------------------------------------------------------------------------------------


def _check_action(stop: str, action: str, receiver_name: str | None) -> str | None:
    """The receiver's name to store (delivered only); refuses an action the stop does not have."""
    if stop not in STOP_ACTIONS:
        raise DomainError(f"stop must be hook or drop, not {stop!r}", field="stop")
    if action not in STOP_ACTIONS[stop]:
        raise DomainError(f"a {stop} stop has no action {action!r}", field="action")
    if action != "delivered":
        return None
    name = " ".join((receiver_name or "").split())
    if not name:
        raise DomainError("a delivery needs the name of who received it", field="receiver_name")
    if len(name) > _RECEIVER_MAX:
        raise DomainError(f"the receiver's name is longer than {_RECEIVER_MAX} characters", field="receiver_name")
    return name


def _read_check_in(row: DispatchCheckIn, *, new: bool) -> CheckInRead:
    return CheckInRead(
        id=int(row.id or 0),
        move_id=row.move_id,
        stop=row.stop,  # type: ignore[arg-type]
        action=row.action,
        at=row.at,
        receiver_name=row.receiver_name,
        event_id=row.event_id,
        new=new,
    )


def _journey_event(
    *,
    plan_id: uuid.UUID,
    move: DispatchMove,
    stop: str,
    action: str,
    at: datetime,
    place: RunStop,
    receiver: str | None,
) -> TransportEventCreate:
    """The journey event of a tap, validated as the events API validates it."""
    event_type = _EVENT_OF[(stop, action)]
    body: dict[str, object] = {
        "event_type": event_type.value,
        "event_time": at,
        "leg": move.leg_index,
        "place": {"latitude": place.latitude, "longitude": place.longitude, "name": place.place_name[:200]},
        # Deterministic, so that a tap reported twice (a retry, two phones) is applied once.
        "external_ref": f"run:{plan_id.hex}:{move.id}:{stop}:{action}",
    }
    equipment = {"trailer_plate": place.trailer_plate} if place.trailer_plate else None
    if equipment:
        body["equipment"] = equipment
    if event_type is EventType.DELIVERED:
        body["proof_of_delivery"] = {
            "receiver_name": receiver,
            "received_at": at,
            "signature_ref": f"driver-page:{body['external_ref']}",
        }
    try:
        return msgspec.convert(body, TransportEventCreate)
    except msgspec.ValidationError as exc:
        raise DomainError(f"the journey event cannot be made: {exc}") from exc


def _as_handover(event: TransportEventCreate, receiver: str | None) -> TransportEventCreate:
    """A delivery on a leg before the last: the goods are handed over to the next leg."""
    return msgspec.convert(
        {
            **msgspec.to_builtins(event),
            "event_type": EventType.HANDOVER.value,
            "proof_of_delivery": None,
            "handover": {"to_party": receiver} if receiver else None,
        },
        TransportEventCreate,
    )


async def _post_journey_event(
    session: AsyncSession, principal: Principal, event: TransportEventCreate, number: str, receiver: str | None
) -> uuid.UUID:
    if event.event_type is EventType.DELIVERED:
        waybill = await load_waybill_for(session, principal=principal, number=number)
        last_leg = max((leg.sequence for leg in await legs_of(session, int(waybill.id or 0))), default=event.leg)
        if event.leg != last_leg:
            event = _as_handover(event, receiver)
    recorded, _ = await record_events(session, principal=principal, number=number, events=[event])
    return recorded[0].event_id


async def _plan_taking_check_ins(session: AsyncSession, carrier_id: uuid.UUID, plan_id: uuid.UUID) -> DispatchPlan:
    """The carrier's accepted plan; a superseded one is refused, any other is not found."""
    row = await session.get(DispatchPlan, plan_id)
    if row is not None and row.carrier_id == carrier_id and row.status == "superseded":
        raise InvalidStateError("this run was replaced by a newer plan; ask the dispatcher for the new run")
    if row is None or row.carrier_id != carrier_id or row.status != "accepted" or row.plan is None:
        raise NotFoundError(f"no accepted plan {plan_id}")
    return row


def _moved_on(status: str, action: str) -> str:
    """The move's status after a tap: hooking starts it, dropping or delivering ends it."""
    if action in ("dropped", "delivered"):
        return MoveStatus.DONE.value
    if action in ("hooked", "departed") and status in (MoveStatus.OPEN.value, MoveStatus.PLANNED.value):
        return MoveStatus.IN_PROGRESS.value
    return status


async def record_check_in(
    session: AsyncSession,
    *,
    principal: Principal,
    plan_id: uuid.UUID,
    tractor_id: int,
    move_id: int,
    stop: str,
    action: str,
    at: datetime,
    receiver_name: str | None = None,
) -> CheckInRead:
    """Record a driver's tap on a stop of a run of the accepted plan (the caller commits).

    The move goes in progress when hooked and done when dropped or delivered; a move on a waybill
    leg reports the journey event of the tap on that leg (its id is kept on the check-in). The same
    tap again returns the first check-in and changes nothing. Nothing is written when the journey
    rules refuse the event.

    Args:
        principal: the carrier the driver works for (``run_carrier``).
        stop: ``hook`` or ``drop``.
        action: ``arrived``, ``hooked`` or ``departed`` at a hook stop; ``arrived``, ``dropped`` or
            ``delivered`` at a drop stop.
        at: when it happened (UTC-aware).
        receiver_name: who received the goods; required for ``delivered``.

    Raises:
        NotFoundError: not the carrier's plan, not accepted, or the move is not in this tractor's run.
        InvalidStateError: the plan was superseded; or the waybill takes no more events.
        DomainError: an unknown stop or action, or a delivery without a receiver (400).
        ForbiddenError, RuleViolationError: the journey rules refuse the event.
    """
    receiver = _check_action(stop, action, receiver_name)
    carrier_id = principal.organisation_id
    row = await _plan_taking_check_ins(session, carrier_id, plan_id)
    assignment = await session.scalar(
        sa.select(DispatchAssignment).where(
            col(DispatchAssignment.plan_id) == plan_id,
            col(DispatchAssignment.tractor_id) == tractor_id,
            col(DispatchAssignment.move_id) == move_id,
        )
    )
    if assignment is None:
        raise NotFoundError(f"move {move_id} is not in the run of tractor {tractor_id}")
    earlier = await session.scalar(
        sa.select(DispatchCheckIn).where(
            col(DispatchCheckIn.plan_id) == plan_id,
            col(DispatchCheckIn.move_id) == move_id,
            col(DispatchCheckIn.stop) == stop,
            col(DispatchCheckIn.action) == action,
        )
    )
    if earlier is not None:
        return _read_check_in(earlier, new=False)
    move = await session.get(DispatchMove, move_id)
    if move is None or move.carrier_id != carrier_id:
        raise NotFoundError(f"no move {move_id}")
    run = _run_of(msgspec.convert(row.plan, Plan), tractor_id, plan_id)
    sheet = _sheet(await _run_rows(session, row, [run]), row, run)
    place = next((s for s in sheet.stops if s.move_id == move_id and s.stop == stop), None)
    if place is None:
        raise NotFoundError(f"move {move_id} has no {stop} stop in this run")
    event_id = None
    if move.waybill_number and move.leg_index:
        event = _journey_event(
            plan_id=plan_id, move=move, stop=stop, action=action, at=at, place=place, receiver=receiver
        )
        event_id = await _post_journey_event(session, principal, event, move.waybill_number, receiver)
    check_in = DispatchCheckIn(
        carrier_id=carrier_id,
        plan_id=plan_id,
        tractor_id=tractor_id,
        move_id=move_id,
        stop=stop,
        action=action,
        at=at,
        receiver_name=receiver,
        event_id=event_id,
    )
    session.add(check_in)
    status = _moved_on(move.status, action)
    if status != move.status:
        move.status, move.updated_at = status, at
    await _follow_fleet(session, assignment, place.place_id, action, at)
    await session.flush()
    return _read_check_in(check_in, new=True)


async def _follow_fleet(
    session: AsyncSession, assignment: DispatchAssignment, place_id: int, action: str, at: datetime
) -> None:
    """Where the tap puts the tractor (at the stop once it arrived) and the trailer (where it was dropped)."""
    tractor = await session.get(DispatchTractor, assignment.tractor_id)
    if tractor is not None and tractor.carrier_id == assignment.carrier_id and action in ("arrived", "dropped"):
        tractor.current_place_id, tractor.updated_at = place_id, at
    if action != "dropped" or assignment.trailer_id is None:
        return
    trailer = await session.get(DispatchTrailer, assignment.trailer_id)
    if trailer is not None and trailer.carrier_id == assignment.carrier_id:
        trailer.place_id, trailer.updated_at = place_id, at
