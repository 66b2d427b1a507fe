"""What a carrier's dispatcher sees at a glance: the fleet board and the moves board.

The fleet board lists tractors, crews and trailers with where they are and their state (free, on a run
of the accepted plan, out of service), the crews' hours left today and the yard inventory. The moves
board lists moves by status with the tractor the accepted plan gives them. ``board_version`` changes
whenever either board would, so pages can poll it cheaply and reload only when something happened.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dispatch.models import DispatchDriver, DispatchMove, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.plan_models import DispatchAssignment, DispatchCheckIn, DispatchPlan
from dispatch.schemas import MoveStatus, YardInventoryRow
from dispatch.service import yard_inventory
from dispatch.solver.problem import Policy

__all__ = (
    "CrewRow",
    "FleetBoard",
    "FleetState",
    "MoveRow",
    "MovesBoard",
    "TractorRow",
    "TrailerRow",
    "board_version",
    "fleet_board",
    "moves_board",
)

RowT = TypeVar("RowT", DispatchPlace, DispatchDriver, DispatchTractor, DispatchTrailer)

MOVES_PAGE_SIZE = 50
_FINISHED = (MoveStatus.DONE.value, MoveStatus.CANCELLED.value)


class FleetState(StrEnum):
    """Where a tractor, driver or trailer stands today."""

    FREE = "free"
    ON_RUN = "on_run"
    OUT_OF_SERVICE = "out_of_service"


class PlaceRef(msgspec.Struct, frozen=True, kw_only=True):
    """A place as the boards show it."""

    id: int
    code: str
    name: str


class TractorRow(msgspec.Struct, frozen=True, kw_only=True):
    """A tractor on the fleet board."""

    id: int
    plate: str
    place: PlaceRef | None
    driver: str | None
    escort: str | None
    hazmat: bool
    state: FleetState
    run_plan_id: uuid.UUID | None
    """The accepted plan whose run it is on, when on a run."""


class CrewRow(msgspec.Struct, frozen=True, kw_only=True):
    """A driver or escort on the fleet board, with the time left today."""

    id: int
    name: str
    phone: str | None
    qualifications: list[str]
    shift_start: datetime
    shift_end: datetime
    driving_left_minutes: float
    """Driving still allowed in 24 hours (the policy's cap minus the driving already done)."""
    hours_left: float
    """Hours of the shift left today, capped at the driving left plus two hours of handling and breaks."""
    tractor: str | None
    state: FleetState


class TrailerRow(msgspec.Struct, frozen=True, kw_only=True):
    """A trailer on the fleet board."""

    id: int
    plate: str
    type: str
    place: PlaceRef
    loaded: bool
    hazmat: bool
    state: FleetState


class FleetBoard(msgspec.Struct, frozen=True, kw_only=True):
    """The carrier's fleet today and where its trailers stand."""

    tractors: list[TractorRow]
    crews: list[CrewRow]
    trailers: list[TrailerRow]
    inventory: list[YardInventoryRow]
    counts: dict[str, dict[str, int]]
    """``{"tractors"|"crews"|"trailers": {state: count}}``."""


class MoveRow(msgspec.Struct, frozen=True, kw_only=True):
    """A move on the moves board."""

    id: int
    kind: str
    status: str
    trailer: str | None
    trailer_type: str | None
    origin: PlaceRef | None
    destination: PlaceRef
    ready_at: datetime | None
    deliver_by: datetime | None
    cutoff: datetime | None
    hazmat: bool
    waybill_number: str | None
    leg_index: int | None
    tractor: str | None
    """The tractor of the accepted plan that performs it."""
    planned_hook_at: datetime | None
    planned_drop_at: datetime | None
    last_check_in: str | None
    """The driver's latest tap on it (``action``), if any."""


class MovesBoard(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the carrier's moves in one status, and how many moves each status has."""

    rows: list[MoveRow]
    counts: dict[str, int]
    status: str
    page: int
    pages: int


def _place_ref(place: DispatchPlace | None) -> PlaceRef | None:
    if place is None or place.id is None:
        return None
    return PlaceRef(id=place.id, code=place.code, name=place.name)


async def _by_id(session: AsyncSession, model: type[RowT], carrier_id: uuid.UUID) -> dict[int, RowT]:
    rows = await session.scalars(sa.select(model).where(sa.column("carrier_id") == carrier_id))
    return {int(row.id or 0): row for row in rows}


async def _open_assignments(session: AsyncSession, carrier_id: uuid.UUID) -> list[DispatchAssignment]:
    """Assignments of the accepted plan whose move is not finished yet."""
    rows = await session.scalars(
        sa.select(DispatchAssignment)
        .join(DispatchPlan, col(DispatchPlan.id) == col(DispatchAssignment.plan_id))
        .join(DispatchMove, col(DispatchMove.id) == col(DispatchAssignment.move_id))
        .where(
            col(DispatchAssignment.carrier_id) == carrier_id,
            col(DispatchPlan.status) == "accepted",
            col(DispatchMove.status).not_in(_FINISHED),
        )
    )
    return list(rows)


def _driving_left_minutes(driver: DispatchDriver, policy: Policy) -> float:
    cap = policy.max_driving_minutes_per_24h
    return max(0.0, (cap if cap is not None else 24 * 60) - driver.driven_minutes_last_24h)


def _shift_left_hours(driver: DispatchDriver, now: datetime) -> float:
    return max(0.0, (driver.shift_end - max(now, driver.shift_start)).total_seconds() / 3600)


async def fleet_board(session: AsyncSession, *, carrier_id: uuid.UUID, now: datetime) -> FleetBoard:
    """The carrier's tractors, crews and trailers with their state, and the yard inventory."""
    places = await _by_id(session, DispatchPlace, carrier_id)
    drivers = await _by_id(session, DispatchDriver, carrier_id)
    tractors = sorted((await _by_id(session, DispatchTractor, carrier_id)).values(), key=lambda t: t.plate)
    trailers = sorted((await _by_id(session, DispatchTrailer, carrier_id)).values(), key=lambda t: t.plate)
    running = await _open_assignments(session, carrier_id)
    tractor_plan = {a.tractor_id: a.plan_id for a in running}
    trailers_on_run = {a.trailer_id for a in running if a.trailer_id is not None}
    tractor_rows = [_tractor_row(t, places, drivers, tractor_plan) for t in tractors]
    crew_rows = _crew_rows(tractors, drivers, tractor_rows, now)
    trailer_rows = [
        TrailerRow(
            id=int(t.id or 0),
            plate=t.plate,
            type=t.type,
            place=_place_ref(places.get(t.place_id)) or PlaceRef(id=t.place_id, code="?", name="?"),
            loaded=t.loaded,
            hazmat=t.hazmat_approved,
            state=_state(t.out_of_service, t.id in trailers_on_run),
        )
        for t in trailers
    ]
    inventory = await yard_inventory(session, carrier_id=carrier_id)
    return FleetBoard(
        tractors=tractor_rows,
        crews=crew_rows,
        trailers=trailer_rows,
        inventory=inventory.rows,
        counts={
            "tractors": dict(Counter(row.state.value for row in tractor_rows)),
            "crews": dict(Counter(row.state.value for row in crew_rows)),
            "trailers": dict(Counter(row.state.value for row in trailer_rows)),
        },
    )


def _state(out_of_service: bool, on_run: bool) -> FleetState:
    if out_of_service:
        return FleetState.OUT_OF_SERVICE
    return FleetState.ON_RUN if on_run else FleetState.FREE


def _tractor_row(
    tractor: DispatchTractor,
    places: dict[int, DispatchPlace],
    drivers: dict[int, DispatchDriver],
    tractor_plan: dict[int, uuid.UUID],
) -> TractorRow:
    place_id = tractor.current_place_id or tractor.home_place_id
    driver = drivers.get(tractor.driver_id) if tractor.driver_id else None
    escort = drivers.get(tractor.escort_id) if tractor.escort_id else None
    return TractorRow(
        id=int(tractor.id or 0),
        plate=tractor.plate,
        place=_place_ref(places.get(place_id)),
        driver=driver.name if driver else None,
        escort=escort.name if escort else None,
        hazmat=tractor.hazmat_approved,
        state=_state(tractor.out_of_service, tractor.id in tractor_plan),
        run_plan_id=tractor_plan.get(int(tractor.id or 0)),
    )


def _crew_rows(
    tractors: list[DispatchTractor], drivers: dict[int, DispatchDriver], rows: list[TractorRow], now: datetime
) -> list[CrewRow]:
    crew_of: dict[int, TractorRow] = {}
    for tractor, tractor_row in zip(tractors, rows, strict=True):
        for crew_id in (tractor.driver_id, tractor.escort_id):
            if crew_id is not None:
                crew_of[crew_id] = tractor_row
    policy = Policy()
    result = []
    for driver in sorted(drivers.values(), key=lambda d: d.name):
        driving_left = _driving_left_minutes(driver, policy)
        row = crew_of.get(int(driver.id or 0))
        on_run = row is not None and row.state is FleetState.ON_RUN
        result.append(
            CrewRow(
                id=int(driver.id or 0),
                name=driver.name,
                phone=driver.phone,
                qualifications=[q.get("qualification", "") for q in driver.qualifications],
                shift_start=driver.shift_start,
                shift_end=driver.shift_end,
                driving_left_minutes=driving_left,
                hours_left=round(min(_shift_left_hours(driver, now), driving_left / 60 + 2), 1),
                tractor=row.plate if row else None,
                state=FleetState.ON_RUN if on_run else FleetState.FREE,
            )
        )
    return result


async def moves_board(session: AsyncSession, *, carrier_id: uuid.UUID, status: MoveStatus, page: int = 1) -> MovesBoard:
    """One page of the carrier's moves in ``status`` (oldest first) with their tractor and places."""
    counts = {s.value: 0 for s in MoveStatus}
    for value, count in await session.execute(
        sa.select(col(DispatchMove.status), sa.func.count())
        .where(col(DispatchMove.carrier_id) == carrier_id)
        .group_by(col(DispatchMove.status))
    ):
        counts[value] = int(count)
    pages = max(1, -(-counts.get(status.value, 0) // MOVES_PAGE_SIZE))
    page = min(max(page, 1), pages)
    moves = list(
        await session.scalars(
            sa.select(DispatchMove)
            .where(col(DispatchMove.carrier_id) == carrier_id, col(DispatchMove.status) == status.value)
            .order_by(col(DispatchMove.ready_at).asc().nulls_first(), col(DispatchMove.id))
            .limit(MOVES_PAGE_SIZE)
            .offset((page - 1) * MOVES_PAGE_SIZE)
        )
    )
    return MovesBoard(
        rows=await _move_rows(session, carrier_id, moves), counts=counts, status=status.value, page=page, pages=pages
    )


async def _move_rows(session: AsyncSession, carrier_id: uuid.UUID, moves: list[DispatchMove]) -> list[MoveRow]:
    places = await _by_id(session, DispatchPlace, carrier_id)
    trailers = await _by_id(session, DispatchTrailer, carrier_id)
    tractors = await _by_id(session, DispatchTractor, carrier_id)
    ids = [m.id for m in moves]
    assignments = {
        a.move_id: a
        for a in await session.scalars(
            sa.select(DispatchAssignment)
            .join(DispatchPlan, col(DispatchPlan.id) == col(DispatchAssignment.plan_id))
            .where(col(DispatchAssignment.move_id).in_(ids), col(DispatchPlan.status) == "accepted")
        )
    }
    last_tap: dict[int, str] = {}
    for move_id, action in await session.execute(
        sa.select(col(DispatchCheckIn.move_id), col(DispatchCheckIn.action))
        .where(col(DispatchCheckIn.move_id).in_(ids))
        .order_by(col(DispatchCheckIn.at), col(DispatchCheckIn.id))
    ):
        last_tap[move_id] = action
    rows = []
    for move in moves:
        assignment = assignments.get(int(move.id or 0))
        trailer_id = move.trailer_id or (assignment.trailer_id if assignment else None)
        trailer = trailers.get(trailer_id) if trailer_id else None
        tractor = tractors.get(assignment.tractor_id) if assignment else None
        rows.append(
            MoveRow(
                id=int(move.id or 0),
                kind=move.kind,
                status=move.status,
                trailer=trailer.plate if trailer else None,
                trailer_type=move.trailer_type or (trailer.type if trailer else None),
                origin=_place_ref(places.get(move.origin_id) if move.origin_id else None),
                destination=_place_ref(places.get(move.destination_id))
                or PlaceRef(id=move.destination_id, code="?", name="?"),
                ready_at=move.ready_at,
                deliver_by=move.deliver_by,
                cutoff=move.cutoff,
                hazmat=move.hazmat,
                waybill_number=move.waybill_number,
                leg_index=move.leg_index,
                tractor=tractor.plate if tractor else None,
                planned_hook_at=assignment.planned_hook_at if assignment else None,
                planned_drop_at=assignment.planned_drop_at if assignment else None,
                last_check_in=last_tap.get(int(move.id or 0)),
            )
        )
    return rows


async def board_version(session: AsyncSession, *, carrier_id: uuid.UUID) -> str:
    """A short token that changes whenever a move, a check-in or a plan of the carrier changes."""
    moves = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.max(col(DispatchMove.updated_at))).where(
                col(DispatchMove.carrier_id) == carrier_id
            )
        )
    ).one()
    check_ins = await session.scalar(
        sa.select(sa.func.max(col(DispatchCheckIn.id))).where(col(DispatchCheckIn.carrier_id) == carrier_id)
    )
    plans = (
        await session.execute(
            sa.select(sa.func.count(), sa.func.max(col(DispatchPlan.accepted_at))).where(
                col(DispatchPlan.carrier_id) == carrier_id
            )
        )
    ).one()
    fleet = await session.scalar(
        sa.select(sa.func.max(col(DispatchTrailer.updated_at))).where(col(DispatchTrailer.carrier_id) == carrier_id)
    )
    parts = (moves[0], moves[1], check_ins, plans[0], plans[1], fleet)
    return "-".join(
        "" if part is None else str(part.timestamp() if isinstance(part, datetime) else part) for part in parts
    )
