"""What regulators and customs do beyond reading a waybill: find active waybills by their equipment.

Every waybill an authority is shown is logged (who, when, which waybill, what was asked, why), and
the shipper of record reads that log.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation
from accounts.schemas import Principal
from core.errors import ForbiddenError, RuleViolationError
from core.identifiers import validate_container_number, validate_vehicle_plate
from waybill.authority_schemas import (
    AccessLog,
    AccessLogEntryRead,
    EquipmentKind,
    EquipmentLookup,
    EquipmentMatch,
    MatchedLeg,
)
from waybill.models import AccessLogEntry, TransportLeg, Waybill
from waybill.schemas import CarrierRef, Equipment, LegStatus, OrganisationRef, TransportMode, WaybillStatus
from waybill.service import AUTHORITY_ROLES, load_waybill_for, record_authority_access

__all__ = ("LOOKUP_LIMIT", "equipment_query", "list_access_log", "lookup_by_equipment")

LOOKUP_LIMIT = 50
"""Most waybills one look-up returns (and logs)."""
_ACTIVE = (WaybillStatus.ISSUED.value, WaybillStatus.IN_TRANSIT.value)
_COLUMNS = {
    EquipmentKind.VEHICLE_PLATE: col(TransportLeg.vehicle_plate),
    EquipmentKind.TRAILER_PLATE: col(TransportLeg.trailer_plate),
    EquipmentKind.CONTAINER_NUMBER: col(TransportLeg.container_number),
}


def equipment_query(
    *, vehicle_plate: str | None = None, trailer_plate: str | None = None, container_number: str | None = None
) -> tuple[EquipmentKind, str]:
    """The one identifier asked for, normalised as legs store it.

    Raises:
        RuleViolationError: none or several identifiers given, or one that is not valid.
    """
    given = {
        kind: value
        for kind, value in (
            (EquipmentKind.VEHICLE_PLATE, vehicle_plate),
            (EquipmentKind.TRAILER_PLATE, trailer_plate),
            (EquipmentKind.CONTAINER_NUMBER, container_number),
        )
        if value is not None
    }
    if len(given) != 1:
        raise RuleViolationError("give exactly one of vehicle_plate, trailer_plate, container_number")
    ((kind, raw),) = given.items()
    try:
        if kind is EquipmentKind.CONTAINER_NUMBER:
            value = validate_container_number(raw.strip().upper())
        else:
            value = validate_vehicle_plate(raw.strip(), trailer=kind is EquipmentKind.TRAILER_PLATE)
    except ValueError as exc:
        raise RuleViolationError(str(exc), field=kind.value) from None
    return kind, value


def _matched_leg(leg: TransportLeg) -> MatchedLeg:
    carrier = CarrierRef(uscc=leg.carrier_uscc, name=leg.carrier_name or "") if leg.carrier_uscc else None
    return MatchedLeg(
        sequence=leg.sequence,
        mode=TransportMode(leg.mode),
        status=LegStatus(leg.status),
        carrier=carrier,
        equipment=Equipment(
            vehicle_plate=leg.vehicle_plate,
            trailer_plate=leg.trailer_plate,
            container_number=leg.container_number,
            rail_wagon=leg.rail_wagon,
            vessel_name=leg.vessel_name,
            voyage=leg.voyage,
            unaccompanied=leg.unaccompanied,
        ),
        planned_departure=leg.planned_departure,
        planned_arrival=leg.planned_arrival,
    )


async def lookup_by_equipment(
    session: AsyncSession,
    *,
    principal: Principal,
    kind: EquipmentKind,
    value: str,
    reason: str | None,
    limit: int = LOOKUP_LIMIT,
) -> EquipmentLookup:
    """Active waybills with a leg carrying this equipment, newest first; each one returned is logged.

    Raises:
        ForbiddenError: the caller is not a regulator or customs office.
    """
    if principal.role not in AUTHORITY_ROLES:
        raise ForbiddenError("only regulators and customs look waybills up by equipment")
    column = _COLUMNS[kind]
    carrying = sa.select(col(TransportLeg.waybill_id)).where(column == value)
    rows = (
        await session.execute(
            sa.select(Waybill, col(Organisation.uscc), col(Organisation.name))
            .join(Organisation, col(Organisation.id) == col(Waybill.shipper_id))
            .where(col(Waybill.status).in_(_ACTIVE), col(Waybill.id).in_(carrying))
            .order_by(col(Waybill.created_at).desc(), col(Waybill.id).desc())
            .limit(limit + 1)
        )
    ).all()
    found = rows[:limit]
    legs: dict[int, list[MatchedLeg]] = {}
    if found:
        leg_rows = await session.scalars(
            sa.select(TransportLeg)
            .where(col(TransportLeg.waybill_id).in_([row[0].id for row in found]), column == value)
            .order_by(col(TransportLeg.waybill_id), col(TransportLeg.sequence))
        )
        for leg in leg_rows:
            legs.setdefault(leg.waybill_id, []).append(_matched_leg(leg))
    asked = f"lookup by {kind.value} {value}"
    items = []
    for waybill, uscc, name in found:
        assert waybill.id is not None
        await record_authority_access(
            session, principal=principal, waybill=waybill, reason=reason, request=asked, action="lookup"
        )
        items.append(
            EquipmentMatch(
                number=waybill.number,
                status=WaybillStatus(waybill.status),
                shipper=OrganisationRef(uscc=uscc, name=name),
                pickup_division_code=waybill.pickup_division_code,
                delivery_division_code=waybill.delivery_division_code,
                issued_at=waybill.issued_at,
                legs=legs.get(waybill.id, []),
            )
        )
    await session.flush()
    return EquipmentLookup(kind=kind, value=value, items=items, truncated=len(rows) > limit)


async def list_access_log(
    session: AsyncSession, *, principal: Principal, number: str, before: int | None = None, limit: int = 100
) -> AccessLog:
    """Authority accesses to the caller's own waybill, newest first.

    Raises:
        NotFoundError: the caller may not see the waybill.
        ForbiddenError: the caller sees the waybill but is not its shipper of record.
    """
    waybill = await load_waybill_for(session, principal=principal, number=number)
    if waybill.shipper_id != principal.organisation_id:
        raise ForbiddenError("only the shipper of record reads a waybill's access log")
    stmt = (
        sa.select(AccessLogEntry, col(Organisation.uscc), col(Organisation.name), col(Organisation.role))
        .join(Organisation, col(Organisation.id) == col(AccessLogEntry.organisation_id))
        .where(col(AccessLogEntry.waybill_id) == waybill.id)
    )
    if before is not None:
        stmt = stmt.where(col(AccessLogEntry.id) < before)
    rows = (await session.execute(stmt.order_by(col(AccessLogEntry.id).desc()).limit(limit + 1))).all()
    entries = [
        AccessLogEntryRead(
            at=entry.at,
            by=OrganisationRef(uscc=uscc, name=name),
            role=str(role),
            action=entry.action,
            reason=entry.reason,
            request=entry.request,
        )
        for entry, uscc, name, role in rows[:limit]
    ]
    next_before = rows[limit - 1][0].id if len(rows) > limit else None
    return AccessLog(number=waybill.number, entries=entries, next_before=next_before)
