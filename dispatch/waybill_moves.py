"""Moves from waybills: the carrier's road legs that no move performs yet become haul moves.

A leg qualifies when its waybill is issued or in transit, it goes by road, the carrier carries it
(its USCC is the leg's carrier) and it is not completed. Its ends become the carrier's dispatch
places: the place with the end's UN/LOCODE, else the nearest place within ``NEAREST_PLACE_KM`` of
the end's coordinates. The trailer is the carrier's trailer with the leg's trailer plate; the hook
and drop times are the leg's planned departure and arrival. Each move is made by ``create_move``
(the same rules as any move); a leg that cannot become one is listed with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.schemas import Principal
from core.errors import DomainError
from core.identifiers import validate_vehicle_plate
from dispatch.models import DispatchMove, DispatchPlace, DispatchTrailer
from dispatch.schemas import MoveCreate, MoveRead
from dispatch.service import create_move
from dispatch.solver.matrix import great_circle_km
from dispatch.solver.problem import MoveKind
from dispatch.solver.problem import Place as Point
from waybill.models import DangerousShipment, TransportLeg, Waybill
from waybill.schemas import LegStatus, TransportMode, WaybillStatus

__all__ = ("NEAREST_PLACE_KM", "FromWaybills", "SkippedLeg", "moves_from_waybills")

NEAREST_PLACE_KM = 3.0
"""How far a leg's end may be from a dispatch place without a matching UN/LOCODE."""
_OPEN_WAYBILLS = (WaybillStatus.ISSUED.value, WaybillStatus.IN_TRANSIT.value)


class SkippedLeg(msgspec.Struct, kw_only=True, frozen=True):
    """A waybill leg that did not become a move, and why."""

    waybill_number: str
    leg_index: int
    reason: str


class FromWaybills(msgspec.Struct, kw_only=True, frozen=True):
    """The moves made from waybill legs, and the legs left out with their reasons."""

    created: list[MoveRead]
    skipped: list[SkippedLeg]


class _LegSkippedError(Exception):
    """The leg cannot become a move; the message says why."""


async def moves_from_waybills(session: AsyncSession, *, principal: Principal) -> FromWaybills:
    """Make a haul move for each of the carrier's open road legs that has none yet.

    Running it again makes no duplicates: a leg with a move (``waybill_number`` and ``leg_index``)
    is passed over silently. Does not commit.
    """
    carrier_id = principal.organisation_id
    legs = await _open_road_legs(session, principal.uscc)
    done = await _legs_with_moves(session, principal)
    places = list(await session.scalars(sa.select(DispatchPlace).where(col(DispatchPlace.carrier_id) == carrier_id)))
    trailers = {
        trailer.plate: trailer
        for trailer in await session.scalars(
            sa.select(DispatchTrailer).where(col(DispatchTrailer.carrier_id) == carrier_id)
        )
    }
    dangerous = await _dangerous_waybills(session, {waybill.id for waybill, _ in legs if waybill.id is not None})
    created: list[MoveRead] = []
    skipped: list[SkippedLeg] = []
    for waybill, leg in legs:
        if (waybill.number, leg.sequence) in done:
            continue
        try:
            draft = _draft(waybill, leg, places, trailers, hazmat=waybill.id in dangerous)
            created.append(await create_move(session, principal=principal, data=draft))
        except _LegSkippedError as exc:
            skipped.append(SkippedLeg(waybill_number=waybill.number, leg_index=leg.sequence, reason=str(exc)))
        except DomainError as exc:
            skipped.append(SkippedLeg(waybill_number=waybill.number, leg_index=leg.sequence, reason=exc.detail))
    return FromWaybills(created=created, skipped=skipped)


async def _open_road_legs(session: AsyncSession, uscc: str) -> list[tuple[Waybill, TransportLeg]]:
    rows = await session.execute(
        sa.select(Waybill, TransportLeg)
        .join(TransportLeg, col(TransportLeg.waybill_id) == col(Waybill.id))
        .where(
            col(TransportLeg.carrier_uscc) == uscc,
            col(TransportLeg.mode) == TransportMode.ROAD.value,
            col(TransportLeg.status) != LegStatus.COMPLETED.value,
            col(Waybill.status).in_(_OPEN_WAYBILLS),
        )
        .order_by(col(Waybill.id), col(TransportLeg.sequence))
    )
    return [(waybill, leg) for waybill, leg in rows]


async def _legs_with_moves(session: AsyncSession, principal: Principal) -> set[tuple[str, int]]:
    rows = await session.execute(
        sa.select(col(DispatchMove.waybill_number), col(DispatchMove.leg_index)).where(
            col(DispatchMove.carrier_id) == principal.organisation_id,
            col(DispatchMove.waybill_number).is_not(None),
        )
    )
    return {(number, index) for number, index in rows if number is not None and index is not None}


async def _dangerous_waybills(session: AsyncSession, waybill_ids: set[int]) -> set[int]:
    if not waybill_ids:
        return set()
    rows = await session.scalars(
        sa.select(col(DangerousShipment.waybill_id)).where(col(DangerousShipment.waybill_id).in_(waybill_ids))
    )
    return set(rows)


def _draft(
    waybill: Waybill,
    leg: TransportLeg,
    places: Sequence[DispatchPlace],
    trailers: dict[str, DispatchTrailer],
    *,
    hazmat: bool,
) -> MoveCreate:
    origin = _place_for(leg.from_place, leg.from_locode, places, "start")
    destination = _place_for(leg.to_place, leg.to_locode, places, "end")
    trailer = _trailer_for(leg.trailer_plate, trailers)
    if origin.id == destination.id:
        raise _LegSkippedError(f"the leg starts and ends at the same place ({origin.code})")
    body: dict[str, Any] = {
        "kind": MoveKind.HAUL.value,
        "trailer_id": trailer.id,
        "trailer_type": trailer.type,
        "origin_id": origin.id,
        "destination_id": destination.id,
        "ready_at": leg.planned_departure,
        "deliver_by": leg.planned_arrival,
        "hazmat": hazmat,
        "waybill_number": waybill.number,
        "leg_index": leg.sequence,
    }
    try:
        return msgspec.convert(body, MoveCreate)
    except msgspec.ValidationError as exc:
        raise _LegSkippedError(str(exc)) from None


def _place_for(point: dict[str, Any], locode: str | None, places: Sequence[DispatchPlace], end: str) -> DispatchPlace:
    """The dispatch place with the point's UN/LOCODE, else the nearest within ``NEAREST_PLACE_KM``."""
    if locode:
        for place in places:
            if place.locode == locode:
                return place
    name = point.get("name") or locode or "?"
    latitude, longitude = point.get("latitude"), point.get("longitude")
    if latitude is None or longitude is None:
        raise _LegSkippedError(f"no dispatch place for the leg's {end} {name}: add one with its UN/LOCODE")
    here = Point(id="leg", latitude=latitude, longitude=longitude)
    distances = [(great_circle_km(here, _point(place)), place) for place in places]
    near = [(km, place) for km, place in distances if km <= NEAREST_PLACE_KM]
    if not near:
        raise _LegSkippedError(
            f"no dispatch place for the leg's {end} {name}: none within {NEAREST_PLACE_KM:g} km"
            + (f" or with UN/LOCODE {locode}" if locode else "")
        )
    return min(near, key=lambda pair: pair[0])[1]


def _point(place: DispatchPlace) -> Point:
    return Point(id=str(place.id), latitude=place.latitude, longitude=place.longitude)


def _trailer_for(plate: str | None, trailers: dict[str, DispatchTrailer]) -> DispatchTrailer:
    if not plate:
        raise _LegSkippedError("the leg names no trailer plate")
    try:
        compact = validate_vehicle_plate(plate, trailer=True)
    except ValueError:
        compact = plate
    if compact not in trailers:
        raise _LegSkippedError(f"the carrier has no trailer {plate}: add it to the fleet")
    return trailers[compact]
