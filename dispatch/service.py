"""The carrier's drop-and-hook fleet: places, drivers, tractors, trailers, moves, and the planning problem.

Every function works within one carrier (``carrier_id``, the organisation's id): another carrier's
objects do not exist for it (``NotFoundError``) and cannot be referenced (``RuleViolationError``
naming the field). Functions never commit: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from accounts.schemas import Principal
from core.cursors import page_by_id
from core.db import as_utc, utcnow
from core.errors import ConflictError, NotFoundError, RuleViolationError
from dispatch.models import DispatchDriver, DispatchMove, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.schemas import (
    MAX_ID,
    DriverCreate,
    DriverPage,
    DriverQualification,
    DriverRead,
    DriverUpdate,
    MoveCreate,
    MovePage,
    MoveRead,
    MoveStatus,
    MoveUpdate,
    OpeningWindow,
    PlaceCreate,
    PlacePage,
    PlaceRead,
    PlaceUpdate,
    TractorCreate,
    TractorPage,
    TractorRead,
    TractorUpdate,
    TrailerCreate,
    TrailerPage,
    TrailerRead,
    TrailerUpdate,
    YardInventory,
    YardInventoryRow,
    check_driver,
    check_move,
    check_place,
    check_tractor,
)
from dispatch.solver import problem as planning
from dispatch.solver.problem import MoveKind, PlaceKind, Policy, Problem, Qualification, TrailerType
from waybill.service import legs_of, load_waybill_for

__all__ = (
    "MoveFilters",
    "TrailerFilters",
    "build_problem",
    "create_driver",
    "create_move",
    "create_place",
    "create_tractor",
    "create_trailer",
    "delete_driver",
    "delete_move",
    "delete_place",
    "delete_tractor",
    "delete_trailer",
    "get_driver",
    "get_move",
    "get_place",
    "get_tractor",
    "get_trailer",
    "list_drivers",
    "list_moves",
    "list_places",
    "list_tractors",
    "list_trailers",
    "update_driver",
    "update_move",
    "update_place",
    "update_tractor",
    "update_trailer",
    "yard_inventory",
)

RowT = TypeVar("RowT", bound=SQLModel)


class TrailerFilters(msgspec.Struct, kw_only=True, frozen=True):
    """Filters of a trailer list; all optional, combined with AND."""

    place_id: int | None = None
    type: TrailerType | None = None
    loaded: bool | None = None


class MoveFilters(msgspec.Struct, kw_only=True, frozen=True):
    """Filters of a move list; all optional, combined with AND."""

    status: Sequence[MoveStatus] = ()
    kind: MoveKind | None = None


# --- shared helpers -------------------------------------------------------------------------------


async def _owned(session: AsyncSession, model: type[RowT], carrier_id: uuid.UUID, object_id: int, what: str) -> RowT:
    """The carrier's row, or 404 (another carrier's row is as absent as a missing one)."""
    row = await session.get(model, object_id) if 1 <= object_id <= MAX_ID else None
    if row is None or getattr(row, "carrier_id", None) != carrier_id:
        raise NotFoundError(f"{what} {object_id} not found")
    return row


async def _referenced(
    session: AsyncSession, model: type[RowT], carrier_id: uuid.UUID, object_id: int | None, *, field: str, what: str
) -> RowT | None:
    """The carrier's row named by a reference field, or a 422 naming the field."""
    if object_id is None:
        return None
    row = await session.get(model, object_id)
    if row is None or getattr(row, "carrier_id", None) != carrier_id:
        raise RuleViolationError(f"the carrier has no {what} {object_id}", field=field)
    return row


def _rule(check: Callable[..., None], **values: Any) -> None:
    """Run a ``check_*`` rule on merged values; its ``ValueError`` becomes a 422 naming the field."""
    try:
        check(**values)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        raise RuleViolationError(message or field, field=field if message else None) from None


def _changes(update: msgspec.Struct) -> dict[str, Any]:
    """The fields a partial update sets (``None`` included, ``UNSET`` left out)."""
    return {name: value for name in update.__struct_fields__ if (value := getattr(update, name)) is not msgspec.UNSET}


def _stored(value: Any) -> Any:
    """A value as its column keeps it: enums as their values, times in UTC, structs as JSON."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):  # StrEnum members included
        return str(value)
    if isinstance(value, list):
        return msgspec.to_builtins(value)
    return value


def _apply(row: SQLModel, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, _stored(value))
    row.updated_at = utcnow()  # type: ignore[attr-defined]


async def _flush(session: AsyncSession, conflict: str, *, field: str | None = None) -> None:
    """Flush; a unique or foreign-key violation (a concurrent change) becomes a 409."""
    try:
        await session.flush()
    except IntegrityError:
        raise ConflictError(conflict, field=field) from None


async def _delete(session: AsyncSession, row: SQLModel, uses: list[tuple[int, str]], what: str) -> None:
    """Delete a row no other row refers to; otherwise 409 saying what refers to it."""
    used = [f"{count} {noun}{'s' if count != 1 else ''}" for count, noun in uses if count]
    if used:
        raise ConflictError(f"{what} is referred to by {', '.join(used)}; change or delete those first")
    await session.delete(row)
    await _flush(session, f"{what} was referred to by a concurrent change; try again")


async def _count(session: AsyncSession, model: type[SQLModel], *conditions: sa.ColumnElement[bool]) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions)) or 0)


# --- places ---------------------------------------------------------------------------------------


def _windows(raw: list[dict[str, str]]) -> list[OpeningWindow]:
    return msgspec.convert(raw, list[OpeningWindow])


def _place_read(place: DispatchPlace) -> PlaceRead:
    assert place.id is not None
    return PlaceRead(
        id=place.id,
        code=place.code,
        name=place.name,
        kind=PlaceKind(place.kind),
        latitude=place.latitude,
        longitude=place.longitude,
        locode=place.locode,
        opening_hours=_windows(place.opening_hours),
        cutoff_times=list(place.cutoff_times),
        created_at=place.created_at,
        updated_at=place.updated_at,
    )


async def _check_code_free(session: AsyncSession, carrier_id: uuid.UUID, code: str) -> None:
    taken = await session.scalar(
        sa.select(col(DispatchPlace.id)).where(
            col(DispatchPlace.carrier_id) == carrier_id, col(DispatchPlace.code) == code
        )
    )
    if taken is not None:
        raise ConflictError(f"the carrier has a place with code {code} already (id {taken})", field="code")


async def create_place(session: AsyncSession, *, carrier_id: uuid.UUID, data: PlaceCreate) -> PlaceRead:
    """Add a place; its code must be new among the carrier's places."""
    await _check_code_free(session, carrier_id, data.code)
    place = DispatchPlace(
        carrier_id=carrier_id,
        code=data.code,
        name=data.name,
        kind=data.kind.value,
        latitude=data.latitude,
        longitude=data.longitude,
        locode=data.locode,
        opening_hours=msgspec.to_builtins(data.opening_hours),
        cutoff_times=list(data.cutoff_times),
    )
    session.add(place)
    await _flush(session, f"the carrier has a place with code {data.code} already", field="code")
    return _place_read(place)


async def get_place(session: AsyncSession, *, carrier_id: uuid.UUID, place_id: int) -> PlaceRead:
    """One of the carrier's places."""
    return _place_read(await _owned(session, DispatchPlace, carrier_id, place_id, "place"))


async def list_places(
    session: AsyncSession, *, carrier_id: uuid.UUID, kind: PlaceKind | None = None, cursor: str | None, limit: int
) -> PlacePage:
    """A page of the carrier's places, by id."""
    stmt = sa.select(DispatchPlace).where(col(DispatchPlace.carrier_id) == carrier_id)
    if kind is not None:
        stmt = stmt.where(col(DispatchPlace.kind) == kind.value)
    rows, next_cursor = await page_by_id(session, DispatchPlace, stmt, cursor, limit)
    return PlacePage(items=[_place_read(row) for row in rows], next_cursor=next_cursor)


async def update_place(
    session: AsyncSession, *, carrier_id: uuid.UUID, place_id: int, update: PlaceUpdate
) -> PlaceRead:
    """Change a place; the result must satisfy the same rules as a new one."""
    place = await _owned(session, DispatchPlace, carrier_id, place_id, "place")
    changes = _changes(update)
    _rule(
        check_place,
        kind=changes.get("kind", PlaceKind(place.kind)),
        opening_hours=changes.get("opening_hours", _windows(place.opening_hours)),
        cutoff_times=changes.get("cutoff_times", place.cutoff_times),
    )
    if changes.get("code", place.code) != place.code:
        await _check_code_free(session, carrier_id, changes["code"])
    _apply(place, changes)
    await _flush(session, f"the carrier has a place with code {place.code} already", field="code")
    return _place_read(place)


async def delete_place(session: AsyncSession, *, carrier_id: uuid.UUID, place_id: int) -> None:
    """Delete a place no tractor, trailer or move refers to (409 otherwise)."""
    place = await _owned(session, DispatchPlace, carrier_id, place_id, "place")
    uses = [
        (
            await _count(
                session,
                DispatchTractor,
                sa.or_(
                    col(DispatchTractor.home_place_id) == place_id, col(DispatchTractor.current_place_id) == place_id
                ),
            ),
            "tractor",
        ),
        (await _count(session, DispatchTrailer, col(DispatchTrailer.place_id) == place_id), "trailer"),
        (
            await _count(
                session,
                DispatchMove,
                sa.or_(col(DispatchMove.origin_id) == place_id, col(DispatchMove.destination_id) == place_id),
            ),
            "move",
        ),
    ]
    await _delete(session, place, uses, f"place {place.code}")


# --- drivers --------------------------------------------------------------------------------------


def _qualifications(raw: list[dict[str, str]]) -> list[DriverQualification]:
    return msgspec.convert(raw, list[DriverQualification])


def _driver_read(driver: DispatchDriver) -> DriverRead:
    assert driver.id is not None
    return DriverRead(
        id=driver.id,
        name=driver.name,
        phone=driver.phone,
        shift_start=driver.shift_start,
        shift_end=driver.shift_end,
        qualifications=_qualifications(driver.qualifications),
        driven_minutes_last_24h=driver.driven_minutes_last_24h,
        continuous_driving_minutes=driver.continuous_driving_minutes,
        created_at=driver.created_at,
        updated_at=driver.updated_at,
    )


async def create_driver(session: AsyncSession, *, carrier_id: uuid.UUID, data: DriverCreate) -> DriverRead:
    """Add a driver or escort."""
    driver = DispatchDriver(
        carrier_id=carrier_id,
        name=data.name,
        phone=data.phone,
        shift_start=_stored(data.shift_start),
        shift_end=_stored(data.shift_end),
        qualifications=msgspec.to_builtins(data.qualifications),
        driven_minutes_last_24h=data.driven_minutes_last_24h,
        continuous_driving_minutes=data.continuous_driving_minutes,
    )
    session.add(driver)
    await _flush(session, "the driver could not be stored; try again")
    return _driver_read(driver)


async def get_driver(session: AsyncSession, *, carrier_id: uuid.UUID, driver_id: int) -> DriverRead:
    """One of the carrier's drivers."""
    return _driver_read(await _owned(session, DispatchDriver, carrier_id, driver_id, "driver"))


async def list_drivers(session: AsyncSession, *, carrier_id: uuid.UUID, cursor: str | None, limit: int) -> DriverPage:
    """A page of the carrier's drivers, by id."""
    stmt = sa.select(DispatchDriver).where(col(DispatchDriver.carrier_id) == carrier_id)
    rows, next_cursor = await page_by_id(session, DispatchDriver, stmt, cursor, limit)
    return DriverPage(items=[_driver_read(row) for row in rows], next_cursor=next_cursor)


async def update_driver(
    session: AsyncSession, *, carrier_id: uuid.UUID, driver_id: int, update: DriverUpdate
) -> DriverRead:
    """Change a driver; the shift must still end after it starts."""
    driver = await _owned(session, DispatchDriver, carrier_id, driver_id, "driver")
    changes = _changes(update)
    _rule(
        check_driver,
        shift_start=changes.get("shift_start", driver.shift_start),
        shift_end=changes.get("shift_end", driver.shift_end),
        qualifications=changes.get("qualifications", _qualifications(driver.qualifications)),
    )
    _apply(driver, changes)
    await _flush(session, "the driver was changed concurrently; try again")
    return _driver_read(driver)


async def delete_driver(session: AsyncSession, *, carrier_id: uuid.UUID, driver_id: int) -> None:
    """Delete a driver no tractor has as driver or escort (409 otherwise)."""
    driver = await _owned(session, DispatchDriver, carrier_id, driver_id, "driver")
    crews = await _count(
        session,
        DispatchTractor,
        sa.or_(col(DispatchTractor.driver_id) == driver_id, col(DispatchTractor.escort_id) == driver_id),
    )
    await _delete(session, driver, [(crews, "tractor")], f"driver {driver_id}")


# --- tractors -------------------------------------------------------------------------------------


def _tractor_read(tractor: DispatchTractor) -> TractorRead:
    assert tractor.id is not None
    return TractorRead(
        id=tractor.id,
        plate=tractor.plate,
        home_place_id=tractor.home_place_id,
        current_place_id=tractor.current_place_id,
        available_from=tractor.available_from,
        available_until=tractor.available_until,
        hazmat_approved=tractor.hazmat_approved,
        out_of_service=tractor.out_of_service,
        driver_id=tractor.driver_id,
        escort_id=tractor.escort_id,
        created_at=tractor.created_at,
        updated_at=tractor.updated_at,
    )


async def _check_tractor_refs(session: AsyncSession, carrier_id: uuid.UUID, values: dict[str, Any]) -> None:
    for field, model, what in (
        ("home_place_id", DispatchPlace, "place"),
        ("current_place_id", DispatchPlace, "place"),
        ("driver_id", DispatchDriver, "driver"),
        ("escort_id", DispatchDriver, "driver"),
    ):
        if field in values:
            await _referenced(session, model, carrier_id, values[field], field=field, what=what)


async def _check_plate_free(session: AsyncSession, model: type[SQLModel], carrier_id: uuid.UUID, plate: str) -> None:
    taken = await session.scalar(
        sa.select(col(model.id)).where(  # type: ignore[attr-defined]
            col(model.carrier_id) == carrier_id,  # type: ignore[attr-defined]
            col(model.plate) == plate,  # type: ignore[attr-defined]
        )
    )
    if taken is not None:
        raise ConflictError(f"the carrier has a vehicle with plate {plate} already (id {taken})", field="plate")


async def create_tractor(session: AsyncSession, *, carrier_id: uuid.UUID, data: TractorCreate) -> TractorRead:
    """Add a tractor; its places and crew must be the carrier's, its plate new among its tractors."""
    await _check_tractor_refs(session, carrier_id, msgspec.structs.asdict(data))
    await _check_plate_free(session, DispatchTractor, carrier_id, data.plate)
    tractor = DispatchTractor(
        carrier_id=carrier_id,
        plate=data.plate,
        home_place_id=data.home_place_id,
        current_place_id=data.current_place_id,
        available_from=as_utc(data.available_from),
        available_until=as_utc(data.available_until),
        hazmat_approved=data.hazmat_approved,
        out_of_service=data.out_of_service,
        driver_id=data.driver_id,
        escort_id=data.escort_id,
    )
    session.add(tractor)
    await _flush(session, f"the carrier has a tractor with plate {data.plate} already", field="plate")
    return _tractor_read(tractor)


async def get_tractor(session: AsyncSession, *, carrier_id: uuid.UUID, tractor_id: int) -> TractorRead:
    """One of the carrier's tractors."""
    return _tractor_read(await _owned(session, DispatchTractor, carrier_id, tractor_id, "tractor"))


async def list_tractors(
    session: AsyncSession,
    *,
    carrier_id: uuid.UUID,
    out_of_service: bool | None = None,
    cursor: str | None,
    limit: int,
) -> TractorPage:
    """A page of the carrier's tractors, by id."""
    stmt = sa.select(DispatchTractor).where(col(DispatchTractor.carrier_id) == carrier_id)
    if out_of_service is not None:
        stmt = stmt.where(col(DispatchTractor.out_of_service) == out_of_service)
    rows, next_cursor = await page_by_id(session, DispatchTractor, stmt, cursor, limit)
    return TractorPage(items=[_tractor_read(row) for row in rows], next_cursor=next_cursor)


async def update_tractor(
    session: AsyncSession, *, carrier_id: uuid.UUID, tractor_id: int, update: TractorUpdate
) -> TractorRead:
    """Change a tractor; new places and crew must be the carrier's."""
    tractor = await _owned(session, DispatchTractor, carrier_id, tractor_id, "tractor")
    changes = _changes(update)
    _rule(
        check_tractor,
        available_from=changes.get("available_from", tractor.available_from),
        available_until=changes.get("available_until", tractor.available_until),
        driver_id=changes.get("driver_id", tractor.driver_id),
        escort_id=changes.get("escort_id", tractor.escort_id),
    )
    await _check_tractor_refs(session, carrier_id, changes)
    if changes.get("plate", tractor.plate) != tractor.plate:
        await _check_plate_free(session, DispatchTractor, carrier_id, changes["plate"])
    _apply(tractor, changes)
    await _flush(session, f"the carrier has a tractor with plate {tractor.plate} already", field="plate")
    return _tractor_read(tractor)


async def delete_tractor(session: AsyncSession, *, carrier_id: uuid.UUID, tractor_id: int) -> None:
    """Delete a tractor (nothing refers to tractors)."""
    tractor = await _owned(session, DispatchTractor, carrier_id, tractor_id, "tractor")
    await _delete(session, tractor, [], f"tractor {tractor.plate}")


# --- trailers -------------------------------------------------------------------------------------


def _trailer_read(trailer: DispatchTrailer) -> TrailerRead:
    assert trailer.id is not None
    return TrailerRead(
        id=trailer.id,
        plate=trailer.plate,
        type=TrailerType(trailer.type),
        place_id=trailer.place_id,
        loaded=trailer.loaded,
        hazmat_approved=trailer.hazmat_approved,
        out_of_service=trailer.out_of_service,
        available_from=trailer.available_from,
        created_at=trailer.created_at,
        updated_at=trailer.updated_at,
    )


async def create_trailer(session: AsyncSession, *, carrier_id: uuid.UUID, data: TrailerCreate) -> TrailerRead:
    """Add a trailer at one of the carrier's places; its plate must be new among its trailers."""
    await _referenced(session, DispatchPlace, carrier_id, data.place_id, field="place_id", what="place")
    await _check_plate_free(session, DispatchTrailer, carrier_id, data.plate)
    trailer = DispatchTrailer(
        carrier_id=carrier_id,
        plate=data.plate,
        type=data.type.value,
        place_id=data.place_id,
        loaded=data.loaded,
        hazmat_approved=data.hazmat_approved,
        out_of_service=data.out_of_service,
        available_from=as_utc(data.available_from),
    )
    session.add(trailer)
    await _flush(session, f"the carrier has a trailer with plate {data.plate} already", field="plate")
    return _trailer_read(trailer)


async def get_trailer(session: AsyncSession, *, carrier_id: uuid.UUID, trailer_id: int) -> TrailerRead:
    """One of the carrier's trailers."""
    return _trailer_read(await _owned(session, DispatchTrailer, carrier_id, trailer_id, "trailer"))


async def list_trailers(
    session: AsyncSession, *, carrier_id: uuid.UUID, filters: TrailerFilters, cursor: str | None, limit: int
) -> TrailerPage:
    """A page of the carrier's trailers, by id."""
    stmt = sa.select(DispatchTrailer).where(col(DispatchTrailer.carrier_id) == carrier_id)
    if filters.place_id is not None:
        stmt = stmt.where(col(DispatchTrailer.place_id) == filters.place_id)
    if filters.type is not None:
        stmt = stmt.where(col(DispatchTrailer.type) == filters.type.value)
    if filters.loaded is not None:
        stmt = stmt.where(col(DispatchTrailer.loaded) == filters.loaded)
    rows, next_cursor = await page_by_id(session, DispatchTrailer, stmt, cursor, limit)
    return TrailerPage(items=[_trailer_read(row) for row in rows], next_cursor=next_cursor)


async def update_trailer(
    session: AsyncSession, *, carrier_id: uuid.UUID, trailer_id: int, update: TrailerUpdate
) -> TrailerRead:
    """Change a trailer (moved, loaded, repaired); a new place must be the carrier's."""
    trailer = await _owned(session, DispatchTrailer, carrier_id, trailer_id, "trailer")
    changes = _changes(update)
    if "place_id" in changes:
        await _referenced(session, DispatchPlace, carrier_id, changes["place_id"], field="place_id", what="place")
    if changes.get("plate", trailer.plate) != trailer.plate:
        await _check_plate_free(session, DispatchTrailer, carrier_id, changes["plate"])
    _apply(trailer, changes)
    await _flush(session, f"the carrier has a trailer with plate {trailer.plate} already", field="plate")
    return _trailer_read(trailer)


async def delete_trailer(session: AsyncSession, *, carrier_id: uuid.UUID, trailer_id: int) -> None:
    """Delete a trailer no move refers to (409 otherwise)."""
    trailer = await _owned(session, DispatchTrailer, carrier_id, trailer_id, "trailer")
    moves = await _count(session, DispatchMove, col(DispatchMove.trailer_id) == trailer_id)
    await _delete(session, trailer, [(moves, "move")], f"trailer {trailer.plate}")


# --- moves ----------------------------------------------------------------------------------------


def _move_read(move: DispatchMove) -> MoveRead:
    assert move.id is not None
    return MoveRead(
        id=move.id,
        kind=MoveKind(move.kind),
        status=MoveStatus(move.status),
        origin_id=move.origin_id,
        destination_id=move.destination_id,
        trailer_id=move.trailer_id,
        trailer_type=TrailerType(move.trailer_type) if move.trailer_type is not None else None,
        ready_at=move.ready_at,
        deliver_by=move.deliver_by,
        cutoff=move.cutoff,
        after_move_id=move.after_move_id,
        loading_minutes=move.loading_minutes,
        hazmat=move.hazmat,
        waybill_number=move.waybill_number,
        leg_index=move.leg_index,
        created_at=move.created_at,
        updated_at=move.updated_at,
    )


def _move_values(move: DispatchMove) -> dict[str, Any]:
    """The stored move in the terms of ``check_move``."""
    return {
        "kind": MoveKind(move.kind),
        "trailer_id": move.trailer_id,
        "trailer_type": TrailerType(move.trailer_type) if move.trailer_type is not None else None,
        "origin_id": move.origin_id,
        "destination_id": move.destination_id,
        "after_move_id": move.after_move_id,
        "ready_at": move.ready_at,
        "deliver_by": move.deliver_by,
        "cutoff": move.cutoff,
        "waybill_number": move.waybill_number,
        "leg_index": move.leg_index,
    }


async def _check_move_refs(
    session: AsyncSession, principal: Principal, values: dict[str, Any], *, move_id: int | None = None
) -> None:
    carrier_id = principal.organisation_id
    for field in ("origin_id", "destination_id"):
        if field in values:
            await _referenced(session, DispatchPlace, carrier_id, values[field], field=field, what="place")
    if "trailer_id" in values:
        await _referenced(
            session, DispatchTrailer, carrier_id, values["trailer_id"], field="trailer_id", what="trailer"
        )
    if values.get("after_move_id") is not None:
        await _check_after_move(session, carrier_id, values["after_move_id"], move_id)
    if values.get("waybill_number") is not None and values.get("leg_index") is not None:
        await _check_waybill_leg(session, principal, values["waybill_number"], values["leg_index"])


async def _check_after_move(
    session: AsyncSession, carrier_id: uuid.UUID, after_move_id: int, move_id: int | None
) -> None:
    """The earlier move is the carrier's, and following the chain back never comes to this move."""
    parent = await _referenced(session, DispatchMove, carrier_id, after_move_id, field="after_move_id", what="move")
    seen: set[int] = set()
    while parent is not None and parent.id not in seen:
        if parent.id == move_id:
            raise RuleViolationError(
                "a move cannot come after itself, directly or through others", field="after_move_id"
            )
        assert parent.id is not None
        seen.add(parent.id)
        parent = await session.get(DispatchMove, parent.after_move_id) if parent.after_move_id is not None else None


async def _check_waybill_leg(session: AsyncSession, principal: Principal, number: str, leg_index: int) -> None:
    """The waybill is one the carrier may see, and it has that leg."""
    try:
        waybill = await load_waybill_for(session, principal=principal, number=number)
    except NotFoundError:
        raise RuleViolationError(f"waybill {number} not found", field="waybill_number") from None
    assert waybill.id is not None
    if leg_index not in {leg.sequence for leg in await legs_of(session, waybill.id)}:
        raise RuleViolationError(f"waybill {number} has no leg {leg_index}", field="leg_index")


async def create_move(session: AsyncSession, *, principal: Principal, data: MoveCreate) -> MoveRead:
    """Add a move; its places, trailer, earlier move and waybill leg must be the carrier's."""
    values = msgspec.structs.asdict(data)
    await _check_move_refs(session, principal, values)
    move = DispatchMove(carrier_id=principal.organisation_id, **{name: _stored(v) for name, v in values.items()})
    session.add(move)
    await _flush(session, "something the move refers to was deleted meanwhile; try again")
    return _move_read(move)


async def get_move(session: AsyncSession, *, carrier_id: uuid.UUID, move_id: int) -> MoveRead:
    """One of the carrier's moves."""
    return _move_read(await _owned(session, DispatchMove, carrier_id, move_id, "move"))


async def list_moves(
    session: AsyncSession, *, carrier_id: uuid.UUID, filters: MoveFilters, cursor: str | None, limit: int
) -> MovePage:
    """A page of the carrier's moves, by id."""
    stmt = sa.select(DispatchMove).where(col(DispatchMove.carrier_id) == carrier_id)
    if filters.status:
        stmt = stmt.where(col(DispatchMove.status).in_([status.value for status in filters.status]))
    if filters.kind is not None:
        stmt = stmt.where(col(DispatchMove.kind) == filters.kind.value)
    rows, next_cursor = await page_by_id(session, DispatchMove, stmt, cursor, limit)
    return MovePage(items=[_move_read(row) for row in rows], next_cursor=next_cursor)


async def update_move(session: AsyncSession, *, principal: Principal, move_id: int, update: MoveUpdate) -> MoveRead:
    """Change a move; the result must satisfy the rules of a new move, references stay within the carrier."""
    move = await _owned(session, DispatchMove, principal.organisation_id, move_id, "move")
    changes = _changes(update)
    current = _move_values(move)
    merged = current | {name: v for name, v in changes.items() if name in current}
    _rule(check_move, **merged)
    refs = {name: v for name, v in changes.items() if name in {"origin_id", "destination_id", "trailer_id"}}
    refs["after_move_id"] = changes.get("after_move_id")
    if "waybill_number" in changes or "leg_index" in changes:
        refs["waybill_number"], refs["leg_index"] = merged["waybill_number"], merged["leg_index"]
    await _check_move_refs(session, principal, refs, move_id=move_id)
    _apply(move, changes)
    await _flush(session, "something the move refers to was deleted meanwhile; try again")
    return _move_read(move)


async def delete_move(session: AsyncSession, *, carrier_id: uuid.UUID, move_id: int) -> None:
    """Delete a move no other move follows (409 otherwise)."""
    move = await _owned(session, DispatchMove, carrier_id, move_id, "move")
    followers = await _count(session, DispatchMove, col(DispatchMove.after_move_id) == move_id)
    await _delete(session, move, [(followers, "move")], f"move {move_id}")


# --- yard inventory -------------------------------------------------------------------------------


async def yard_inventory(
    session: AsyncSession,
    *,
    carrier_id: uuid.UUID,
    place_id: int | None = None,
    trailer_type: TrailerType | None = None,
) -> YardInventory:
    """How many of the carrier's trailers stand at each place, by type: empty, loaded, out of service."""
    in_service = sa.not_(col(DispatchTrailer.out_of_service))

    def tally(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    stmt = (
        sa.select(
            col(DispatchPlace.id),
            col(DispatchPlace.code),
            col(DispatchPlace.name),
            col(DispatchTrailer.type),
            tally(sa.and_(in_service, sa.not_(col(DispatchTrailer.loaded)))).label("empty"),
            tally(sa.and_(in_service, col(DispatchTrailer.loaded))).label("loaded"),
            tally(col(DispatchTrailer.out_of_service)).label("out_of_service"),
            sa.func.count().label("total"),
        )
        .join(DispatchPlace, col(DispatchPlace.id) == col(DispatchTrailer.place_id))
        .where(col(DispatchTrailer.carrier_id) == carrier_id)
        .group_by(col(DispatchPlace.id), col(DispatchPlace.code), col(DispatchPlace.name), col(DispatchTrailer.type))
        .order_by(col(DispatchPlace.code), col(DispatchTrailer.type))
    )
    if place_id is not None:
        stmt = stmt.where(col(DispatchTrailer.place_id) == place_id)
    if trailer_type is not None:
        stmt = stmt.where(col(DispatchTrailer.type) == trailer_type.value)
    rows = (await session.execute(stmt)).all()
    return YardInventory(
        rows=[
            YardInventoryRow(
                place_id=row[0],
                place_code=row[1],
                place_name=row[2],
                trailer_type=TrailerType(row[3]),
                empty=int(row.empty),
                loaded=int(row.loaded),
                out_of_service=int(row.out_of_service),
                total=int(row.total),
            )
            for row in rows
        ]
    )


# --- the planning problem -------------------------------------------------------------------------


async def build_problem(
    session: AsyncSession,
    *,
    carrier_id: uuid.UUID,
    start: datetime,
    horizon_hours: float = 24,
    policy: Policy | None = None,
) -> Problem:
    """The carrier's fleet as the planner's ``Problem``, from ``start`` for ``horizon_hours``.

    Every id in the problem is the decimal string of the row's database id (``"17"`` is
    ``DispatchPlace.id == 17`` among places, ``DispatchMove.id == 17`` among moves); place codes are
    only names. So a plan maps back to rows with ``int(plan_id)``.

    What goes in:

    - every place, driver and trailer of the carrier (out-of-service trailers too, flagged, so that
      a haul of one is reported rather than silently dropped);
    - tractors that are not out of service, starting at their current place (else their home);
    - open moves that can be hooked within the horizon (no ``ready_at`` or ``ready_at`` before
      its end), and the open moves they come after. A move that comes after a move that is no
      longer open (planned, in progress, done, cancelled) has that link dropped: it starts from the
      earlier move's destination with the earlier move's trailer, unless it names its own.

    Args:
        session: a session; nothing is written.
        carrier_id: the carrier organisation's id.
        start: plan from this instant (timezone-aware).
        horizon_hours: length of the plan, more than 0 and at most 72.
        policy: operating rules; the planner's defaults when omitted.

    Raises:
        ValueError: ``start`` is naive or ``horizon_hours`` out of range.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not 0 < horizon_hours <= 72:
        raise ValueError("horizon_hours must be more than 0 and at most 72")
    end = start + timedelta(hours=horizon_hours)

    async def rows(model: type[RowT], *conditions: sa.ColumnElement[bool]) -> list[RowT]:
        stmt = sa.select(model).where(col(model.carrier_id) == carrier_id, *conditions)  # type: ignore[attr-defined]
        return list(await session.scalars(stmt.order_by(col(model.id))))  # type: ignore[attr-defined]

    places = await rows(DispatchPlace)
    drivers = await rows(DispatchDriver)
    tractors = await rows(DispatchTractor, sa.not_(col(DispatchTractor.out_of_service)))
    trailers = await rows(DispatchTrailer)
    all_moves = {move.id: move for move in await rows(DispatchMove)}
    open_moves = {move_id: move for move_id, move in all_moves.items() if move.status == MoveStatus.OPEN.value}

    chosen: set[int] = set()
    for move in open_moves.values():
        if move.ready_at is None or move.ready_at < end:
            current: DispatchMove | None = move
            while current is not None and current.id is not None and current.id not in chosen:
                chosen.add(current.id)
                current = open_moves.get(current.after_move_id) if current.after_move_id is not None else None

    return Problem(
        start=start,
        horizon_hours=horizon_hours,
        places=tuple(_problem_place(place) for place in places),
        tractors=tuple(_problem_tractor(tractor) for tractor in tractors),
        drivers=tuple(_problem_driver(driver) for driver in drivers),
        trailers=tuple(_problem_trailer(trailer) for trailer in trailers),
        moves=tuple(_problem_move(open_moves[move_id], all_moves) for move_id in sorted(chosen)),
        policy=policy or Policy(),
    )


def _problem_id(value: int | None) -> str:
    assert value is not None
    return str(value)


def _optional_id(value: int | None) -> str | None:
    return None if value is None else str(value)


def _problem_place(place: DispatchPlace) -> planning.Place:
    return planning.Place(
        id=_problem_id(place.id),
        name=place.name,
        kind=PlaceKind(place.kind),
        latitude=place.latitude,
        longitude=place.longitude,
        opening_hours=tuple(planning.OpeningHours(open=w["open"], close=w["close"]) for w in place.opening_hours),
    )


def _problem_driver(driver: DispatchDriver) -> planning.Driver:
    return planning.Driver(
        id=_problem_id(driver.id),
        name=driver.name,
        shift_start=driver.shift_start,
        shift_end=driver.shift_end,
        qualifications=frozenset(Qualification(q["qualification"]) for q in driver.qualifications),
        driven_minutes_last_24h=driver.driven_minutes_last_24h,
        continuous_driving_minutes=driver.continuous_driving_minutes,
    )


def _problem_tractor(tractor: DispatchTractor) -> planning.Tractor:
    return planning.Tractor(
        id=_problem_id(tractor.id),
        plate=tractor.plate,
        home_place_id=_problem_id(tractor.home_place_id),
        start_place_id=_optional_id(tractor.current_place_id),
        available_from=tractor.available_from,
        available_until=tractor.available_until,
        hazmat_approved=tractor.hazmat_approved,
        driver_id=_optional_id(tractor.driver_id),
        escort_id=_optional_id(tractor.escort_id),
    )


def _problem_trailer(trailer: DispatchTrailer) -> planning.Trailer:
    return planning.Trailer(
        id=_problem_id(trailer.id),
        plate=trailer.plate,
        type=TrailerType(trailer.type),
        place_id=_problem_id(trailer.place_id),
        loaded=trailer.loaded,
        hazmat_approved=trailer.hazmat_approved,
        out_of_service=trailer.out_of_service,
        available_from=trailer.available_from,
    )


def _problem_move(move: DispatchMove, all_moves: dict[int | None, DispatchMove]) -> planning.Move:
    origin_id, trailer_id, after_move_id = move.origin_id, move.trailer_id, move.after_move_id
    earlier = all_moves.get(after_move_id) if after_move_id is not None else None
    if earlier is not None and earlier.status != MoveStatus.OPEN.value:
        # The earlier move is planned, under way or done: nothing left to wait for in this plan.
        after_move_id = None
        origin_id = origin_id if origin_id is not None else earlier.destination_id
        trailer_id = trailer_id if trailer_id is not None else earlier.trailer_id
    return planning.Move(
        id=_problem_id(move.id),
        kind=MoveKind(move.kind),
        trailer_id=_optional_id(trailer_id),
        trailer_type=TrailerType(move.trailer_type) if move.trailer_type is not None else None,
        origin_id=_optional_id(origin_id),
        destination_id=_problem_id(move.destination_id),
        ready_at=move.ready_at,
        deliver_by=move.deliver_by,
        cutoff=move.cutoff,
        after_move=_optional_id(after_move_id),
        loading_minutes=move.loading_minutes,
        hazmat=move.hazmat,
        waybill_number=move.waybill_number,
        leg_index=move.leg_index,
    )
