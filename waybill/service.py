"""The e-waybill service: issue, read, list, amend, cancel, and change legs.

Every function takes the caller as a ``Principal`` and applies the visibility rules itself, so no
route can forget them. Functions never commit: the caller owns the transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation, OrganisationPlace
from accounts.schemas import OrganisationRole, Principal
from accounts.service import organisation_by_uscc
from core.db import as_utc, utc_builtins, utcnow
from core.errors import ConflictError, ForbiddenError, InvalidStateError, NotFoundError, RuleViolationError
from core.identifiers import generate_waybill_number
from core.signing import platform_signer
from dangerous_goods.assessment import Assessment
from dangerous_goods.registry import carrier_permit, people_by_certificate, vehicles_by_plate
from integrations.notices import notify_waybill_change
from waybill.chain import LinkKind, append_chain_link, make_link, version_payload
from waybill.dangerous_index import index_dangerous_shipment
from waybill.models import (
    AccessLogEntry,
    IdempotencyRecord,
    TransportLeg,
    Waybill,
    WaybillChange,
    WaybillVersion,
)
from waybill.persistence import IdempotencyKeyTakenError, insert_new_waybill
from waybill.rules.dangerous_goods import (
    DangerousLoad,
    LegCrew,
    LoadRefusal,
    RegisteredPermit,
    RegisteredPerson,
    RegisteredVehicle,
    assess_cargo,
    check_carrier_permit,
    check_emergency_contact,
    check_leg_registry,
    dangerous_load,
)
from waybill.rules.lifecycle import (
    check_amendable,
    check_cancellable,
    check_leg_changeable,
)
from waybill.schemas import (
    Cancellation,
    CancellationReason,
    CarrierRef,
    ChangeList,
    ChangeRead,
    Driver,
    Equipment,
    LegPlan,
    LegRead,
    LegStatus,
    LegUpdate,
    OrganisationRef,
    Place,
    TransportMode,
    WaybillAmendment,
    WaybillCancellation,
    WaybillCreate,
    WaybillDocument,
    WaybillPage,
    WaybillRead,
    WaybillStatus,
    WaybillSummary,
    WaybillVersionList,
    WaybillVersionRead,
)

__all__ = (
    "AUTHORITY_ROLES",
    "WaybillFilters",
    "amend_waybill",
    "cancel_waybill",
    "create_waybill",
    "get_waybill",
    "issue_waybill",
    "leg_equipment",
    "legs_at_places_of",
    "legs_of",
    "list_changes",
    "list_versions",
    "list_waybills",
    "load_waybill_for",
    "load_waybill_for_reading",
    "read_waybill",
    "record_authority_access",
    "update_leg",
)

CREATE_OPERATION = "createWaybill"
_NUMBER_ATTEMPTS = 5


class WaybillFilters(msgspec.Struct, kw_only=True, frozen=True):
    """Filters of a waybill list; all optional, combined with AND."""

    status: Sequence[WaybillStatus] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    mode: TransportMode | None = None
    place: str | None = None
    carrier_uscc: str | None = None


# --- visibility -------------------------------------------------------------------------------


AUTHORITY_ROLES = frozenset({OrganisationRole.REGULATOR, OrganisationRole.CUSTOMS})
"""Roles that may read any issued waybill; each such read is logged and shown to the shipper."""


def legs_at_places_of(organisation_id: uuid.UUID) -> sa.Select[int]:
    """Ids of waybills with a leg starting or ending at a place where the organisation acts."""
    places = sa.select(col(OrganisationPlace.locode)).where(col(OrganisationPlace.organisation_id) == organisation_id)
    return sa.select(col(TransportLeg.waybill_id)).where(
        sa.or_(col(TransportLeg.from_locode).in_(places), col(TransportLeg.to_locode).in_(places))
    )


def _visible_to(principal: Principal) -> sa.ColumnElement[bool]:
    """Which waybills the caller may see: shippers their own, carriers those they carry a leg of,
    ports those with a leg at one of their terminals, authorities every issued one; nobody but
    the shipper sees a draft."""
    not_draft = col(Waybill.status) != WaybillStatus.DRAFT.value
    match principal.role:
        case OrganisationRole.SHIPPER:
            return col(Waybill.shipper_id) == principal.organisation_id
        case OrganisationRole.CARRIER:
            carried = sa.select(col(TransportLeg.waybill_id)).where(col(TransportLeg.carrier_uscc) == principal.uscc)
            return sa.and_(not_draft, col(Waybill.id).in_(carried))
        case OrganisationRole.PORT:
            return sa.and_(not_draft, col(Waybill.id).in_(legs_at_places_of(principal.organisation_id)))
        case OrganisationRole.REGULATOR | OrganisationRole.CUSTOMS:
            return not_draft
        case _:
            return sa.false()


def _not_found(number: str) -> NotFoundError:
    return NotFoundError(f"waybill {number} not found")


async def _load(session: AsyncSession, principal: Principal, number: str, *, for_update: bool = False) -> Waybill:
    stmt = sa.select(Waybill).where(col(Waybill.number) == number, _visible_to(principal))
    if for_update:
        stmt = stmt.with_for_update()
    waybill = await session.scalar(stmt)
    if waybill is None:
        raise _not_found(number)
    return waybill


async def load_waybill_for(
    session: AsyncSession, *, principal: Principal, number: str, for_update: bool = False
) -> Waybill:
    """The waybill row if the caller may see it (404 ``NotFoundError`` otherwise)."""
    return await _load(session, principal, number, for_update=for_update)


async def load_waybills_for(
    session: AsyncSession, *, principal: Principal, numbers: Collection[str], for_update: bool = False
) -> list[Waybill]:
    """The waybills among ``numbers`` the caller may see, in id order (the order rows are locked in)."""
    stmt = (
        sa.select(Waybill)
        .where(col(Waybill.number).in_(list(numbers)), _visible_to(principal))
        .order_by(col(Waybill.id))
    )
    if for_update:
        stmt = stmt.with_for_update()
    return list(await session.scalars(stmt))


async def legs_of_many(session: AsyncSession, waybill_ids: Collection[int]) -> dict[int, list[TransportLeg]]:
    """The legs of several waybills, each in sequence."""
    result = await session.scalars(
        sa.select(TransportLeg)
        .where(col(TransportLeg.waybill_id).in_(list(waybill_ids)))
        .order_by(col(TransportLeg.waybill_id), col(TransportLeg.sequence))
    )
    legs: dict[int, list[TransportLeg]] = {waybill_id: [] for waybill_id in waybill_ids}
    for leg in result:
        legs[leg.waybill_id].append(leg)
    return legs


async def load_waybill_for_reading(
    session: AsyncSession, *, principal: Principal, number: str, access_reason: str | None, request: str, action: str
) -> Waybill:
    """``load_waybill_for`` plus the access-log entry of an authority's read."""
    waybill = await _load(session, principal, number)
    await _record_authority_read(session, principal, waybill, reason=access_reason, request=request, action=action)
    return waybill


async def read_waybill(session: AsyncSession, *, waybill: Waybill) -> WaybillRead:
    """The full API view of a waybill row already loaded (no visibility check here)."""
    return await _read_full(session, waybill)


async def record_authority_access(
    session: AsyncSession, *, principal: Principal, waybill: Waybill, reason: str | None, request: str, action: str
) -> None:
    """Log an access by a regulator or customs office (no-op for other roles)."""
    await _record_authority_read(session, principal, waybill, reason=reason, request=request, action=action)


def _require_shipper_of(principal: Principal, waybill: Waybill, action: str) -> None:
    if waybill.shipper_id != principal.organisation_id:
        raise ForbiddenError(f"only the shipper of record may {action} this waybill")


async def _record_authority_read(
    session: AsyncSession, principal: Principal, waybill: Waybill, *, reason: str | None, request: str, action: str
) -> None:
    if principal.role in AUTHORITY_ROLES:
        assert waybill.id is not None
        session.add(
            AccessLogEntry(
                waybill_id=waybill.id,
                organisation_id=principal.organisation_id,
                api_key_id=principal.api_key_id,
                action=action,
                reason=reason,
                request=request[:500],
            )
        )


# --- conversions ------------------------------------------------------------------------------


def _document(raw: dict[str, Any]) -> WaybillDocument:
    return msgspec.convert(raw, WaybillDocument)


def _place(raw: dict[str, Any]) -> Place:
    return msgspec.convert(raw, Place)


def leg_equipment(leg: TransportLeg) -> Equipment:
    """The equipment of a stored leg, as the API shows it."""
    return Equipment(
        vehicle_plate=leg.vehicle_plate,
        trailer_plate=leg.trailer_plate,
        container_number=leg.container_number,
        rail_wagon=leg.rail_wagon,
        vessel_name=leg.vessel_name,
        voyage=leg.voyage,
        unaccompanied=leg.unaccompanied,
    )


def _leg_driver(leg: TransportLeg) -> Driver | None:
    if leg.driver_name is None:
        return None
    return Driver(name=leg.driver_name, phone=leg.driver_phone, certificate_number=leg.driver_certificate)


def _leg_escort(leg: TransportLeg) -> Driver | None:
    if leg.escort_name is None:
        return None
    return Driver(name=leg.escort_name, phone=leg.escort_phone, certificate_number=leg.escort_certificate)


def _route_read(stored: list[list[float]] | None) -> list[tuple[float, float]] | None:
    return None if stored is None else [(lat, lon) for lat, lon in stored]


def _route_row(route: list[tuple[float, float]] | None) -> list[list[float]] | None:
    return None if route is None else [[lat, lon] for lat, lon in route]


def _route_digest(stored: list[list[float]] | None) -> str | None:
    """A short stand-in for a route in change records (a route has up to 5,000 points)."""
    if stored is None:
        return None
    return f"{len(stored)} points, sha256 {hashlib.sha256(msgspec.json.encode(stored)).hexdigest()[:16]}"


def _leg_read(leg: TransportLeg) -> LegRead:
    carrier = None
    if leg.carrier_uscc is not None:
        carrier = CarrierRef(uscc=leg.carrier_uscc, name=leg.carrier_name or "")
    return LegRead(
        sequence=leg.sequence,
        mode=TransportMode(leg.mode),
        status=LegStatus(leg.status),
        from_place=_place(leg.from_place),
        to_place=_place(leg.to_place),
        carrier=carrier,
        planned_departure=leg.planned_departure,
        planned_arrival=leg.planned_arrival,
        equipment=leg_equipment(leg),
        driver=_leg_driver(leg),
        escort=_leg_escort(leg),
        started_at=leg.started_at,
        completed_at=leg.completed_at,
        updated_at=leg.updated_at,
        planned_route=_route_read(leg.planned_route),
    )


def _waybill_read(
    waybill: Waybill, shipper: OrganisationRef, document: WaybillDocument, legs: Sequence[LegRead]
) -> WaybillRead:
    cancellation = None
    if waybill.cancelled_at is not None and waybill.cancellation_reason is not None:
        cancellation = Cancellation(
            reason_code=CancellationReason(waybill.cancellation_reason),
            note=waybill.cancellation_note,
            cancelled_at=waybill.cancelled_at,
        )
    return WaybillRead(
        number=waybill.number,
        version=waybill.version,
        status=WaybillStatus(waybill.status),
        shipper=shipper,
        shipper_reference=waybill.shipper_reference,
        document=document,
        legs=list(legs),
        created_at=waybill.created_at,
        updated_at=waybill.updated_at,
        issued_at=waybill.issued_at,
        cancellation=cancellation,
    )


async def _read_full(session: AsyncSession, waybill: Waybill) -> WaybillRead:
    assert waybill.id is not None
    row = (
        await session.execute(
            sa.select(col(WaybillVersion.document), col(Organisation.uscc), col(Organisation.name))
            .join(Organisation, col(Organisation.id) == col(Waybill.shipper_id))
            .select_from(Waybill)
            .join(
                WaybillVersion,
                sa.and_(
                    col(WaybillVersion.waybill_id) == col(Waybill.id),
                    col(WaybillVersion.version) == col(Waybill.version),
                ),
            )
            .where(col(Waybill.id) == waybill.id)
        )
    ).one()
    legs = await legs_of(session, waybill.id)
    return _waybill_read(
        waybill,
        OrganisationRef(uscc=row.uscc, name=row.name),
        _document(row.document),
        [_leg_read(leg) for leg in legs],
    )


async def legs_of(session: AsyncSession, waybill_id: int) -> Sequence[TransportLeg]:
    """A waybill's legs in sequence."""
    result = await session.scalars(
        sa.select(TransportLeg).where(col(TransportLeg.waybill_id) == waybill_id).order_by(col(TransportLeg.sequence))
    )
    return result.all()


def _record_change(
    session: AsyncSession,
    principal: Principal,
    waybill_id: int,
    action: str,
    *,
    version: int | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        WaybillChange(
            waybill_id=waybill_id,
            action=action,
            version=version,
            organisation_id=principal.organisation_id,
            api_key_id=principal.api_key_id,
            at=at or utcnow(),
            detail=detail or {},
        )
    )


# --- creating ---------------------------------------------------------------------------------


def _refuse_dangerous_load(document: WaybillDocument) -> Assessment | None:
    """Refuse a waybill whose dangerous goods fail the ADR assessment, citing the rule and the line.

    Returns:
        The assessment of the load, or ``None`` if the waybill carries no dangerous goods.
    """
    verdict = assess_cargo(document.cargo)
    if isinstance(verdict, LoadRefusal):
        raise RuleViolationError(verdict.message, field=verdict.field)
    return verdict


def _refuse_incomplete_dangerous_document(document: WaybillDocument) -> None:
    """Refuse a dangerous-goods waybill that lacks what the national waybill format requires of it."""
    refusal = check_emergency_contact(document)
    if refusal is not None:
        raise RuleViolationError(refusal.message, field=refusal.field)


_LOCAL_TIME = ZoneInfo("Asia/Shanghai")


class _RoadLeg(msgspec.Struct, kw_only=True, frozen=True):
    """A road leg as the registry check sees it, with the path of its fields in the request."""

    prefix: str
    carrier_uscc: str | None
    planned_departure: datetime | None
    crew: LegCrew


def _local_date(at: datetime) -> date:
    return at.astimezone(_LOCAL_TIME).date()


async def _refuse_unqualified_crews(
    session: AsyncSession, *, assessment: Assessment | None, legs: Sequence[_RoadLeg]
) -> None:
    """Refuse a dangerous-goods road leg whose carrier's permit, vehicle, driver or escort the registry does not back.

    Legs whose carrier is not on the platform are not checked: it keeps no registry here. The
    carrier's road transport permit is checked on every such leg; vehicle, driver and escort once the
    leg names any of them.
    """
    if assessment is None:
        return
    load: DangerousLoad = dangerous_load(assessment)
    today = _local_date(utcnow())
    for leg in legs:
        if leg.carrier_uscc is None:
            continue
        carrier = await organisation_by_uscc(session, leg.carrier_uscc, role=OrganisationRole.CARRIER)
        if carrier is None:
            continue
        carrier_id = carrier.id
        on = _local_date(leg.planned_departure) if leg.planned_departure else today
        permit_row = await carrier_permit(session, carrier_id=carrier_id)
        permit = (
            RegisteredPermit(
                permit_number=permit_row.permit_number,
                permitted_classes=tuple(permit_row.permitted_classes),
                expires_on=permit_row.expires_on,
            )
            if permit_row is not None
            else None
        )
        refusal = check_carrier_permit(
            load=load, carrier_name=carrier.name, permit=permit, prefix=leg.prefix, on=on, today=today
        )
        if refusal is not None:
            raise RuleViolationError(refusal.message, field=refusal.field)
        if not leg.crew.names_anything:
            continue
        crew = leg.crew
        vehicle = None
        if crew.vehicle_plate is not None:
            found = await vehicles_by_plate(session, carrier_id=carrier_id, plates=[crew.vehicle_plate])
            row = found.get(crew.vehicle_plate)
            if row is not None:
                vehicle = RegisteredVehicle(
                    plate=row.plate,
                    permitted_classes=tuple(row.permitted_classes),
                    tank_allowed=row.tank_allowed,
                    permit_expires_on=row.permit_expires_on,
                )
        numbers = {p.certificate_number for p in (crew.driver, crew.escort) if p and p.certificate_number}
        records = await people_by_certificate(session, carrier_id=carrier_id, numbers=numbers)
        people = {
            key: RegisteredPerson(
                role=row.role,
                certificate_number=row.certificate_number,
                qualified_classes=tuple(row.qualified_classes),
                expires_on=row.expires_on,
            )
            for key, row in records.items()
        }
        refusal = check_leg_registry(
            load=load,
            crew=crew,
            prefix=leg.prefix,
            vehicle=vehicle,
            people=people,
            on=on,
            today=today,
        )
        if refusal is not None:
            raise RuleViolationError(refusal.message, field=refusal.field)


def _planned_road_leg(index: int, leg: LegPlan) -> _RoadLeg | None:
    if leg.mode is not TransportMode.ROAD:
        return None
    return _RoadLeg(
        prefix=f"legs[{index}]",
        carrier_uscc=leg.carrier.uscc if leg.carrier else None,
        planned_departure=leg.planned_departure,
        crew=LegCrew(vehicle_plate=leg.equipment.vehicle_plate, driver=leg.driver, escort=leg.escort),
    )


def _stored_road_leg(leg: TransportLeg, prefix: str) -> _RoadLeg | None:
    if leg.mode != TransportMode.ROAD.value:
        return None
    return _RoadLeg(
        prefix=prefix,
        carrier_uscc=leg.carrier_uscc,
        planned_departure=leg.planned_departure,
        crew=LegCrew(vehicle_plate=leg.vehicle_plate, driver=_leg_driver(leg), escort=_leg_escort(leg)),
    )


def _leg_row(leg: LegPlan, now: datetime) -> dict[str, Any]:
    return {
        "sequence": leg.sequence,
        "mode": leg.mode.value,
        "status": LegStatus.PLANNED.value,
        "carrier_uscc": leg.carrier.uscc if leg.carrier else None,
        "carrier_name": leg.carrier.name if leg.carrier else None,
        "from_place": msgspec.to_builtins(leg.from_place),
        "to_place": msgspec.to_builtins(leg.to_place),
        "from_division_code": leg.from_place.division_code,
        "to_division_code": leg.to_place.division_code,
        "from_locode": leg.from_place.locode,
        "to_locode": leg.to_place.locode,
        "planned_departure": as_utc(leg.planned_departure),
        "planned_arrival": as_utc(leg.planned_arrival),
        "vehicle_plate": leg.equipment.vehicle_plate,
        "trailer_plate": leg.equipment.trailer_plate,
        "container_number": leg.equipment.container_number,
        "rail_wagon": leg.equipment.rail_wagon,
        "vessel_name": leg.equipment.vessel_name,
        "voyage": leg.equipment.voyage,
        "unaccompanied": leg.equipment.unaccompanied,
        "driver_name": leg.driver.name if leg.driver else None,
        "driver_phone": leg.driver.phone if leg.driver else None,
        "driver_certificate": leg.driver.certificate_number if leg.driver else None,
        "escort_name": leg.escort.name if leg.escort else None,
        "escort_phone": leg.escort.phone if leg.escort else None,
        "escort_certificate": leg.escort.certificate_number if leg.escort else None,
        "planned_route": _route_row(leg.planned_route),
        "updated_at": now,
    }


def _new_leg_read(leg: LegPlan, now: datetime) -> LegRead:
    return LegRead(
        sequence=leg.sequence,
        mode=leg.mode,
        status=LegStatus.PLANNED,
        from_place=leg.from_place,
        to_place=leg.to_place,
        carrier=leg.carrier,
        planned_departure=as_utc(leg.planned_departure),
        planned_arrival=as_utc(leg.planned_arrival),
        equipment=leg.equipment,
        driver=leg.driver,
        escort=leg.escort,
        started_at=None,
        completed_at=None,
        updated_at=now,
        planned_route=leg.planned_route,
    )


def _key_used_before(key: str | None) -> RuleViolationError:
    return RuleViolationError(
        f"Idempotency-Key {key!r} was used before with a different request body", field="Idempotency-Key"
    )


async def _replay_idempotent(
    session: AsyncSession, principal: Principal, key: str, request_sha256: str
) -> WaybillRead | None:
    record = await session.get(IdempotencyRecord, (principal.organisation_id, CREATE_OPERATION, key))
    if record is None:
        return None
    if record.request_sha256 != request_sha256:
        raise _key_used_before(key)
    waybill = await _load(session, principal, record.resource)
    return await _read_full(session, waybill)


async def _existing_number_for_reference(session: AsyncSession, principal: Principal, reference: str) -> str | None:
    return await session.scalar(
        sa.select(col(Waybill.number)).where(
            col(Waybill.shipper_id) == principal.organisation_id, col(Waybill.shipper_reference) == reference
        )
    )


async def create_waybill(
    session: AsyncSession,
    *,
    principal: Principal,
    data: WaybillCreate,
    idempotency_key: str | None = None,
    request_sha256: str = "",
) -> tuple[WaybillRead, bool]:
    """Issue a waybill (or keep it as a draft) with the caller as shipper of record.

    Returns the waybill and whether it was created now; a repeated request with the same
    ``Idempotency-Key`` and body returns the waybill made the first time.

    Raises:
        ForbiddenError: the caller is not a shipper.
        ConflictError: the shipper has a waybill with this ``shipper_reference`` already.
        RuleViolationError: the idempotency key was used with another body.
    """
    if principal.role is not OrganisationRole.SHIPPER:
        raise ForbiddenError("only shipper organisations issue waybills")
    connection = await session.connection()
    now = utcnow()
    stored_document = utc_builtins(data.document())
    document = _document(stored_document)
    assessment = _refuse_dangerous_load(document)
    _refuse_incomplete_dangerous_document(document)
    await _refuse_unqualified_crews(
        session,
        assessment=assessment,
        legs=[road for index, leg in enumerate(data.legs) if (road := _planned_road_leg(index, leg))],
    )
    status = WaybillStatus.DRAFT if data.draft else WaybillStatus.ISSUED
    header = {
        "shipper_id": principal.organisation_id,
        "shipper_reference": data.shipper_reference,
        "status": status.value,
        "version": 1,
        "pickup_division_code": document.pickup.division_code,
        "delivery_division_code": document.delivery.division_code,
        "pickup_locode": document.pickup.locode,
        "delivery_locode": document.delivery.locode,
        "created_at": now,
        "updated_at": now,
        "issued_at": None if data.draft else now,
    }
    version_row = {
        "version": 1,
        "document": stored_document,
        "reason": None,
        "created_at": now,
        "created_by_id": principal.organisation_id,
    }
    leg_rows = [_leg_row(leg, now) for leg in data.legs]
    change_row = {
        "action": "created" if data.draft else "issued",
        "version": 1,
        "organisation_id": principal.organisation_id,
        "api_key_id": principal.api_key_id,
        "at": now,
        "detail": {"shipper_reference": data.shipper_reference},
    }
    signer = platform_signer()
    waybill_id: int | None = None
    number = ""
    for _ in range(_NUMBER_ATTEMPTS):
        number = generate_waybill_number(now.year, now.month)
        # Link 1 of the tamper-evident record covers version 1; its payload names the number.
        first_link = make_link(
            position=1,
            prev_hash=None,
            kind=LinkKind.VERSION.value,
            ref="1",
            payload=version_payload(
                waybill_number=number,
                version=1,
                document=stored_document,
                reason=None,
                created_at=now,
                created_by_uscc=principal.uscc,
            ),
            signer=signer,
        )
        idempotency = None
        if idempotency_key is not None:
            idempotency = {
                "organisation_id": principal.organisation_id,
                "operation": CREATE_OPERATION,
                "key": idempotency_key,
                "request_sha256": request_sha256,
                "resource": number,
                "created_at": now,
            }
        try:
            waybill_id = await insert_new_waybill(
                connection,
                header={**header, "number": number, "chain_length": 1, "chain_head": first_link.hash},
                version=version_row,
                chain_link={**msgspec.structs.asdict(first_link), "created_at": now},
                legs=leg_rows,
                change=change_row,
                idempotency=idempotency,
            )
        except IdempotencyKeyTakenError:
            raise _key_used_before(idempotency_key) from None
        if waybill_id is not None:
            break
        if idempotency_key is not None:
            replay = await _replay_idempotent(session, principal, idempotency_key, request_sha256)
            if replay is not None:
                return replay, False
        existing = await _existing_number_for_reference(session, principal, data.shipper_reference)
        if existing is not None:
            raise ConflictError(
                f"shipper reference {data.shipper_reference!r} is already used by waybill {existing}",
                field="shipper_reference",
                existing_waybill=existing,
            )
    if waybill_id is None:  # pragma: no cover - five random 40-bit collisions in a row
        raise ConflictError("could not allocate a waybill number; retry the request")

    created = WaybillRead(
        number=number,
        version=1,
        status=status,
        shipper=OrganisationRef(uscc=principal.uscc, name=principal.name),
        shipper_reference=data.shipper_reference,
        document=document,
        legs=[_new_leg_read(leg, now) for leg in data.legs],
        created_at=now,
        updated_at=now,
        issued_at=header["issued_at"],  # type: ignore[arg-type]
    )
    if assessment is not None:
        await index_dangerous_shipment(session, waybill_id=waybill_id, waybill=created, assessment=assessment)
    if not data.draft:
        await notify_waybill_change(session, created, action="issued")
    return created, True


# --- reading ----------------------------------------------------------------------------------


async def get_waybill(
    session: AsyncSession, *, principal: Principal, number: str, access_reason: str | None = None, request: str = ""
) -> WaybillRead:
    """Read a waybill the caller may see; a regulator's read is recorded with its reason."""
    waybill = await load_waybill_for_reading(
        session,
        principal=principal,
        number=number,
        access_reason=access_reason,
        request=request,
        action="read",
    )
    return await _read_full(session, waybill)


async def list_versions(
    session: AsyncSession, *, principal: Principal, number: str, access_reason: str | None = None, request: str = ""
) -> WaybillVersionList:
    """Every version of the goods part, oldest first."""
    waybill = await load_waybill_for_reading(
        session,
        principal=principal,
        number=number,
        access_reason=access_reason,
        request=request,
        action="read_versions",
    )
    rows = await session.execute(
        sa.select(WaybillVersion, col(Organisation.uscc), col(Organisation.name))
        .join(Organisation, col(Organisation.id) == col(WaybillVersion.created_by_id))
        .where(col(WaybillVersion.waybill_id) == waybill.id)
        .order_by(col(WaybillVersion.version))
    )
    versions = [
        WaybillVersionRead(
            version=v.version,
            document=_document(v.document),
            reason=v.reason,
            created_at=v.created_at,
            created_by=OrganisationRef(uscc=uscc, name=name),
        )
        for v, uscc, name in rows
    ]
    return WaybillVersionList(number=waybill.number, current_version=waybill.version, versions=versions)


async def list_changes(
    session: AsyncSession, *, principal: Principal, number: str, access_reason: str | None = None, request: str = ""
) -> ChangeList:
    """The audit trail of a waybill: who changed what, and when."""
    waybill = await load_waybill_for_reading(
        session,
        principal=principal,
        number=number,
        access_reason=access_reason,
        request=request,
        action="read_changes",
    )
    rows = await session.execute(
        sa.select(WaybillChange, col(Organisation.uscc), col(Organisation.name))
        .join(Organisation, col(Organisation.id) == col(WaybillChange.organisation_id))
        .where(col(WaybillChange.waybill_id) == waybill.id)
        .order_by(col(WaybillChange.id))
    )
    changes = [
        ChangeRead(
            action=c.action, at=c.at, by=OrganisationRef(uscc=uscc, name=name), version=c.version, detail=c.detail
        )
        for c, uscc, name in rows
    ]
    return ChangeList(number=waybill.number, changes=changes)


_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
_DIVISION_PREFIX = re.compile(r"^[1-8][0-9]{1,5}$")


def _place_filter(place: str) -> sa.ColumnElement[bool]:
    """A UN/LOCODE matches exactly; digits match an administrative division and everything in it."""
    legs = sa.select(col(TransportLeg.waybill_id))
    if _LOCODE.match(place):
        return sa.or_(
            col(Waybill.pickup_locode) == place,
            col(Waybill.delivery_locode) == place,
            col(Waybill.id).in_(
                legs.where(sa.or_(col(TransportLeg.from_locode) == place, col(TransportLeg.to_locode) == place))
            ),
        )
    if _DIVISION_PREFIX.match(place):
        prefix = place.rstrip("0") if len(place) == 6 else place
        prefix = prefix if len(prefix) >= 2 else place[:2]
        pattern = f"{prefix}%"
        return sa.or_(
            col(Waybill.pickup_division_code).like(pattern),
            col(Waybill.delivery_division_code).like(pattern),
            col(Waybill.id).in_(
                legs.where(
                    sa.or_(
                        col(TransportLeg.from_division_code).like(pattern),
                        col(TransportLeg.to_division_code).like(pattern),
                    )
                )
            ),
        )
    raise RuleViolationError(
        "place is a UN/LOCODE (e.g. CNSHK) or an administrative division code or prefix (e.g. 4406)", field="place"
    )


def encode_cursor(created_at: datetime, waybill_id: int) -> str:
    """An opaque cursor pointing after this waybill."""
    raw = msgspec.json.encode([created_at.isoformat(), waybill_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Read a cursor made by ``encode_cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, waybill_id = msgspec.json.decode(raw, type=tuple[datetime, int])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise RuleViolationError("cursor is not one this API returned", field="cursor") from None
    if at.tzinfo is None:
        raise RuleViolationError("cursor is not one this API returned", field="cursor")
    return at, waybill_id


async def list_waybills(
    session: AsyncSession, *, principal: Principal, filters: WaybillFilters, cursor: str | None, limit: int
) -> WaybillPage:
    """A page of the waybills the caller may see, newest first."""
    stmt = sa.select(
        col(Waybill.id),
        col(Waybill.number),
        col(Waybill.version),
        col(Waybill.status),
        col(Waybill.shipper_reference),
        col(Waybill.pickup_division_code),
        col(Waybill.delivery_division_code),
        col(Waybill.created_at),
        col(Waybill.updated_at),
    ).where(_visible_to(principal))
    if filters.status:
        stmt = stmt.where(col(Waybill.status).in_([s.value for s in filters.status]))
    if filters.created_from is not None:
        stmt = stmt.where(col(Waybill.created_at) >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(col(Waybill.created_at) < filters.created_to)
    if filters.mode is not None:
        stmt = stmt.where(
            col(Waybill.id).in_(
                sa.select(col(TransportLeg.waybill_id)).where(col(TransportLeg.mode) == filters.mode.value)
            )
        )
    if filters.carrier_uscc is not None:
        stmt = stmt.where(
            col(Waybill.id).in_(
                sa.select(col(TransportLeg.waybill_id)).where(col(TransportLeg.carrier_uscc) == filters.carrier_uscc)
            )
        )
    if filters.place is not None:
        stmt = stmt.where(_place_filter(filters.place))
    if cursor is not None:
        after_at, after_id = decode_cursor(cursor)
        stmt = stmt.where(
            sa.or_(
                col(Waybill.created_at) < after_at,
                sa.and_(col(Waybill.created_at) == after_at, col(Waybill.id) < after_id),
            )
        )
    stmt = stmt.order_by(col(Waybill.created_at).desc(), col(Waybill.id).desc()).limit(limit + 1)
    rows = (await session.execute(stmt)).all()
    items = [
        WaybillSummary(
            number=r.number,
            version=r.version,
            status=WaybillStatus(r.status),
            shipper_reference=r.shipper_reference,
            pickup_division_code=r.pickup_division_code,
            delivery_division_code=r.delivery_division_code,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows[:limit]
    ]
    next_cursor = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    return WaybillPage(items=items, next_cursor=next_cursor)


# --- changing ---------------------------------------------------------------------------------


async def _flush_and_notify(session: AsyncSession, waybill: Waybill, action: str) -> WaybillRead:
    """Write the change, and stage in the same transaction what partners must hear about it."""
    await session.flush()
    read = await _read_full(session, waybill)
    assert waybill.id is not None
    await index_dangerous_shipment(session, waybill_id=waybill.id, waybill=read)
    await notify_waybill_change(session, read, action=action)
    return read


async def issue_waybill(session: AsyncSession, *, principal: Principal, number: str) -> WaybillRead:
    """Issue a draft: from now on carriers and authorities see it.

    A draft with dangerous goods is checked again as on creation: a permit or qualification of its
    legs' carriers may have expired, or been withdrawn from the registry, since the draft was made.
    """
    waybill = await _load(session, principal, number, for_update=True)
    _require_shipper_of(principal, waybill, "issue")
    if WaybillStatus(waybill.status) is not WaybillStatus.DRAFT:
        raise InvalidStateError(f"waybill {number} is {waybill.status}, not a draft")
    assert waybill.id is not None
    document = await _current_document(session, waybill)
    assessment = _refuse_dangerous_load(document)
    _refuse_incomplete_dangerous_document(document)
    await _refuse_unqualified_crews(session, assessment=assessment, legs=await _planned_road_legs(session, waybill.id))
    now = utcnow()
    waybill.status = WaybillStatus.ISSUED.value
    waybill.issued_at = now
    waybill.updated_at = now
    _record_change(session, principal, waybill.id, "issued", version=waybill.version, at=now)
    return await _flush_and_notify(session, waybill, "issued")


def _amended_document(current: WaybillDocument, amendment: WaybillAmendment) -> WaybillDocument:
    merged = {f: getattr(current, f) for f in WaybillDocument.__struct_fields__}
    merged.update(amendment.changes())
    try:
        return WaybillDocument(**merged)
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        if not message:
            field, message = "", field
        raise RuleViolationError(f"the amended waybill is not valid: {message}", field=field or None) from None


async def _current_document(session: AsyncSession, waybill: Waybill) -> WaybillDocument:
    raw = await session.scalar(
        sa.select(col(WaybillVersion.document)).where(
            col(WaybillVersion.waybill_id) == waybill.id, col(WaybillVersion.version) == waybill.version
        )
    )
    if raw is None:  # pragma: no cover - every waybill has its current version
        raise NotFoundError(f"waybill {waybill.number} has no version {waybill.version}")
    return _document(raw)


async def _planned_road_legs(session: AsyncSession, waybill_id: int) -> list[_RoadLeg]:
    """The waybill's road legs that have not started, as the registry check sees them."""
    return [
        road
        for leg in await legs_of(session, waybill_id)
        if leg.status == LegStatus.PLANNED.value and (road := _stored_road_leg(leg, prefix=f"legs[{leg.sequence - 1}]"))
    ]


async def amend_waybill(
    session: AsyncSession, *, principal: Principal, number: str, amendment: WaybillAmendment
) -> WaybillRead:
    """Make a new version of the goods part; earlier versions stay readable.

    Raises:
        InvalidStateError: the waybill is delivered, closed or cancelled.
        ConflictError: ``expected_version`` is not the current version.
        RuleViolationError: the amendment changes nothing or makes the waybill invalid.
    """
    waybill = await _load(session, principal, number, for_update=True)
    _require_shipper_of(principal, waybill, "amend")
    refusal = check_amendable(WaybillStatus(waybill.status))
    if refusal is not None:
        raise InvalidStateError(refusal)
    if amendment.expected_version is not None and amendment.expected_version != waybill.version:
        raise ConflictError(
            f"waybill {number} is at version {waybill.version}, not {amendment.expected_version}",
            field="expected_version",
            current_version=waybill.version,
        )
    current = await _current_document(session, waybill)
    amended = _amended_document(current, amendment)
    assessment = _refuse_dangerous_load(amended)
    _refuse_incomplete_dangerous_document(amended)
    assert waybill.id is not None
    await _refuse_unqualified_crews(session, assessment=assessment, legs=await _planned_road_legs(session, waybill.id))
    changed = sorted(f for f in amendment.changes() if getattr(amended, f) != getattr(current, f))
    if not changed:
        raise RuleViolationError("the amendment changes nothing")
    now = utcnow()
    assert waybill.id is not None
    waybill.version += 1
    waybill.updated_at = now
    waybill.pickup_division_code = amended.pickup.division_code
    waybill.delivery_division_code = amended.delivery.division_code
    waybill.pickup_locode = amended.pickup.locode
    waybill.delivery_locode = amended.delivery.locode
    new_version = WaybillVersion(
        waybill_id=waybill.id,
        version=waybill.version,
        document=utc_builtins(amended),
        reason=amendment.reason,
        created_at=now,
        created_by_id=principal.organisation_id,
    )
    session.add(new_version)
    await append_chain_link(
        session,
        waybill=waybill,
        kind=LinkKind.VERSION.value,
        ref=str(new_version.version),
        payload=version_payload(
            waybill_number=waybill.number,
            version=new_version.version,
            document=new_version.document,
            reason=new_version.reason,
            created_at=now,
            created_by_uscc=principal.uscc,
        ),
    )
    _record_change(
        session,
        principal,
        waybill.id,
        "amended",
        version=waybill.version,
        detail={"reason": amendment.reason, "fields": changed},
        at=now,
    )
    return await _flush_and_notify(session, waybill, "amended")


async def cancel_waybill(
    session: AsyncSession, *, principal: Principal, number: str, cancellation: WaybillCancellation
) -> WaybillRead:
    """Cancel a waybill whose first leg has not started."""
    waybill = await _load(session, principal, number, for_update=True)
    _require_shipper_of(principal, waybill, "cancel")
    assert waybill.id is not None
    legs = await legs_of(session, waybill.id)
    refusal = check_cancellable(WaybillStatus(waybill.status), [LegStatus(leg.status) for leg in legs])
    if refusal is not None:
        raise InvalidStateError(refusal)
    now = utcnow()
    waybill.status = WaybillStatus.CANCELLED.value
    waybill.cancelled_at = now
    waybill.cancellation_reason = cancellation.reason_code.value
    waybill.cancellation_note = cancellation.note
    waybill.updated_at = now
    _record_change(
        session,
        principal,
        waybill.id,
        "cancelled",
        version=waybill.version,
        detail={"reason_code": cancellation.reason_code.value, "note": cancellation.note},
        at=now,
    )
    return await _flush_and_notify(session, waybill, "cancelled")


async def _load_leg(session: AsyncSession, waybill: Waybill, sequence: int) -> TransportLeg:
    leg = await session.scalar(
        sa.select(TransportLeg)
        .where(col(TransportLeg.waybill_id) == waybill.id, col(TransportLeg.sequence) == sequence)
        .with_for_update()
    )
    if leg is None:
        raise NotFoundError(f"waybill {waybill.number} has no leg {sequence}")
    return leg


def _leg_snapshot(leg: TransportLeg) -> dict[str, Any]:
    return {
        "carrier_uscc": leg.carrier_uscc,
        "planned_departure": leg.planned_departure.isoformat() if leg.planned_departure else None,
        "planned_arrival": leg.planned_arrival.isoformat() if leg.planned_arrival else None,
        "vehicle_plate": leg.vehicle_plate,
        "trailer_plate": leg.trailer_plate,
        "container_number": leg.container_number,
        "rail_wagon": leg.rail_wagon,
        "vessel_name": leg.vessel_name,
        "voyage": leg.voyage,
        "unaccompanied": leg.unaccompanied,
        "driver_name": leg.driver_name,
        "driver_phone": leg.driver_phone,
        "driver_certificate": leg.driver_certificate,
        "escort_name": leg.escort_name,
        "escort_phone": leg.escort_phone,
        "escort_certificate": leg.escort_certificate,
        "planned_route": _route_digest(leg.planned_route),
    }


async def update_leg(
    session: AsyncSession, *, principal: Principal, number: str, sequence: int, update: LegUpdate
) -> WaybillRead:
    """Change a leg's carrier (shipper only), planned times or equipment (shipper or the leg's carrier)."""
    waybill = await _load(session, principal, number, for_update=True)
    leg = await _load_leg(session, waybill, sequence)
    is_shipper = waybill.shipper_id == principal.organisation_id
    is_leg_carrier = principal.role is OrganisationRole.CARRIER and leg.carrier_uscc == principal.uscc
    if not (is_shipper or is_leg_carrier):
        raise ForbiddenError("only the shipper or this leg's carrier may change the leg")
    if update.carrier is not msgspec.UNSET and not is_shipper:
        raise ForbiddenError("only the shipper may change a leg's carrier", field="carrier")
    refusal = check_leg_changeable(WaybillStatus(waybill.status), LegStatus(leg.status))
    if refusal is not None:
        raise InvalidStateError(refusal)
    before = _leg_snapshot(leg)
    if isinstance(update.carrier, CarrierRef):
        leg.carrier_uscc, leg.carrier_name = update.carrier.uscc, update.carrier.name
    if update.planned_departure is not msgspec.UNSET:
        leg.planned_departure = as_utc(update.planned_departure)
    if update.planned_arrival is not msgspec.UNSET:
        leg.planned_arrival = as_utc(update.planned_arrival)
    if isinstance(update.equipment, Equipment):
        leg.vehicle_plate = update.equipment.vehicle_plate
        leg.trailer_plate = update.equipment.trailer_plate
        leg.container_number = update.equipment.container_number
        leg.rail_wagon = update.equipment.rail_wagon
        leg.vessel_name = update.equipment.vessel_name
        leg.voyage = update.equipment.voyage
        leg.unaccompanied = update.equipment.unaccompanied
    if update.driver is not msgspec.UNSET:
        leg.driver_name = update.driver.name if update.driver else None
        leg.driver_phone = update.driver.phone if update.driver else None
        leg.driver_certificate = update.driver.certificate_number if update.driver else None
    if update.escort is not msgspec.UNSET:
        leg.escort_name = update.escort.name if update.escort else None
        leg.escort_phone = update.escort.phone if update.escort else None
        leg.escort_certificate = update.escort.certificate_number if update.escort else None
    if update.planned_route is not msgspec.UNSET:
        leg.planned_route = _route_row(update.planned_route)
    if leg.planned_departure and leg.planned_arrival and leg.planned_arrival < leg.planned_departure:
        raise RuleViolationError("planned arrival is before planned departure", field="planned_arrival")
    after = _leg_snapshot(leg)
    if after == before:
        raise RuleViolationError("the update changes nothing")
    road = _stored_road_leg(leg, prefix="")
    if road is not None:
        document = await _current_document(session, waybill)
        await _refuse_unqualified_crews(session, assessment=_refuse_dangerous_load(document), legs=[road])
    now = utcnow()
    leg.updated_at = now
    waybill.updated_at = now
    assert waybill.id is not None
    _record_change(
        session,
        principal,
        waybill.id,
        "leg_updated",
        detail={
            "sequence": sequence,
            "before": {k: v for k, v in before.items() if after[k] != v},
            "after": {k: v for k, v in after.items() if before[k] != v},
            "note": update.note,
        },
        at=now,
    )
    return await _flush_and_notify(session, waybill, "leg_updated")
