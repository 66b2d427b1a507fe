"""A carrier's dangerous-goods registry: its road transport permit, vehicles, drivers and escorts.

Every function works within one carrier (``carrier_id``, the organisation's id): another carrier's
records do not exist for it (``NotFoundError``). A plate is unique per carrier, a qualification
certificate number per carrier and role (``ConflictError`` naming the field). Functions never
commit: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from core.cursors import page_by_id
from core.db import utcnow
from core.errors import ConflictError, NotFoundError
from dangerous_goods.registry_models import DgCarrierPermit, DgPerson, DgVehicle
from dangerous_goods.registry_schemas import (
    MAX_ID,
    DgCarrierPermitRead,
    DgCarrierPermitWrite,
    DgPersonCreate,
    DgPersonPage,
    DgPersonRead,
    DgPersonUpdate,
    DgVehicleCreate,
    DgVehiclePage,
    DgVehicleRead,
    DgVehicleUpdate,
    PersonRole,
)

__all__ = (
    "carrier_permit",
    "create_person",
    "create_vehicle",
    "delete_person",
    "delete_vehicle",
    "get_carrier_permit",
    "get_person",
    "get_vehicle",
    "list_people",
    "list_vehicles",
    "people_by_certificate",
    "put_carrier_permit",
    "update_person",
    "update_vehicle",
    "vehicles_by_plate",
)

RowT = TypeVar("RowT", DgVehicle, DgPerson)


# --- shared helpers -------------------------------------------------------------------------------


async def _owned(session: AsyncSession, model: type[RowT], carrier_id: uuid.UUID, object_id: int, what: str) -> RowT:
    """The carrier's row, or 404 (another carrier's row is as absent as a missing one)."""
    row = await session.get(model, object_id) if 1 <= object_id <= MAX_ID else None
    if row is None or row.carrier_id != carrier_id:
        raise NotFoundError(f"{what} {object_id} not found")
    return row


def _changes(update: msgspec.Struct) -> dict[str, Any]:
    """The fields a partial update sets (``None`` included, ``UNSET`` left out), as columns keep them."""
    changes: dict[str, Any] = {}
    for name in update.__struct_fields__:
        value = getattr(update, name)
        if value is msgspec.UNSET:
            continue
        changes[name] = str(value) if isinstance(value, str) else list(value) if isinstance(value, list) else value
    return changes


async def _flush(session: AsyncSession, conflict: str, *, field: str) -> None:
    """Flush; a unique violation (a concurrent insert of the same plate or certificate) becomes a 409."""
    try:
        await session.flush()
    except IntegrityError:
        raise ConflictError(conflict, field=field) from None


def _touch(row: SQLModel, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()  # type: ignore[attr-defined]


# --- vehicles -------------------------------------------------------------------------------------


def _vehicle_read(vehicle: DgVehicle) -> DgVehicleRead:
    assert vehicle.id is not None
    return DgVehicleRead(
        id=vehicle.id,
        plate=vehicle.plate,
        transport_certificate_number=vehicle.transport_certificate_number,
        permitted_classes=list(vehicle.permitted_classes),
        tank_allowed=vehicle.tank_allowed,
        permit_expires_on=vehicle.permit_expires_on,
        created_at=vehicle.created_at,
        updated_at=vehicle.updated_at,
    )


async def _check_plate_free(session: AsyncSession, carrier_id: uuid.UUID, plate: str) -> None:
    taken = await session.scalar(
        sa.select(col(DgVehicle.id)).where(col(DgVehicle.carrier_id) == carrier_id, col(DgVehicle.plate) == plate)
    )
    if taken is not None:
        raise ConflictError(f"the carrier has registered vehicle {plate} already (id {taken})", field="plate")


async def create_vehicle(session: AsyncSession, *, carrier_id: uuid.UUID, data: DgVehicleCreate) -> DgVehicleRead:
    """Register a vehicle; its plate must be new among the carrier's vehicles."""
    await _check_plate_free(session, carrier_id, data.plate)
    vehicle = DgVehicle(
        carrier_id=carrier_id,
        plate=data.plate,
        transport_certificate_number=data.transport_certificate_number,
        permitted_classes=list(data.permitted_classes),
        tank_allowed=data.tank_allowed,
        permit_expires_on=data.permit_expires_on,
    )
    session.add(vehicle)
    await _flush(session, f"the carrier has registered vehicle {data.plate} already", field="plate")
    return _vehicle_read(vehicle)


async def get_vehicle(session: AsyncSession, *, carrier_id: uuid.UUID, vehicle_id: int) -> DgVehicleRead:
    """One of the carrier's vehicles."""
    return _vehicle_read(await _owned(session, DgVehicle, carrier_id, vehicle_id, "vehicle"))


async def list_vehicles(
    session: AsyncSession, *, carrier_id: uuid.UUID, cursor: str | None, limit: int
) -> DgVehiclePage:
    """A page of the carrier's vehicles, by id."""
    rows, next_cursor = await page_by_id(
        session, DgVehicle, sa.select(DgVehicle).where(col(DgVehicle.carrier_id) == carrier_id), cursor, limit
    )
    return DgVehiclePage(items=[_vehicle_read(row) for row in rows], next_cursor=next_cursor)


async def update_vehicle(
    session: AsyncSession, *, carrier_id: uuid.UUID, vehicle_id: int, update: DgVehicleUpdate
) -> DgVehicleRead:
    """Change a vehicle; a new plate must be free among the carrier's vehicles."""
    vehicle = await _owned(session, DgVehicle, carrier_id, vehicle_id, "vehicle")
    changes = _changes(update)
    if changes.get("plate", vehicle.plate) != vehicle.plate:
        await _check_plate_free(session, carrier_id, changes["plate"])
    _touch(vehicle, changes)
    await _flush(session, f"the carrier has registered vehicle {vehicle.plate} already", field="plate")
    return _vehicle_read(vehicle)


async def delete_vehicle(session: AsyncSession, *, carrier_id: uuid.UUID, vehicle_id: int) -> None:
    """Remove a vehicle from the registry (legs already accepted keep it)."""
    vehicle = await _owned(session, DgVehicle, carrier_id, vehicle_id, "vehicle")
    await session.delete(vehicle)
    await session.flush()


async def vehicles_by_plate(
    session: AsyncSession, *, carrier_id: uuid.UUID, plates: Collection[str]
) -> dict[str, DgVehicle]:
    """The carrier's registered vehicles among ``plates``, by plate."""
    if not plates:
        return {}
    rows = await session.scalars(
        sa.select(DgVehicle).where(col(DgVehicle.carrier_id) == carrier_id, col(DgVehicle.plate).in_(list(plates)))
    )
    return {row.plate: row for row in rows}


# --- people ---------------------------------------------------------------------------------------


def _person_read(person: DgPerson) -> DgPersonRead:
    assert person.id is not None
    return DgPersonRead(
        id=person.id,
        role=PersonRole(person.role),
        name=person.name,
        certificate_number=person.certificate_number,
        qualification_type=person.qualification_type,
        qualified_classes=list(person.qualified_classes),
        expires_on=person.expires_on,
        phone=person.phone,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


async def _check_certificate_free(session: AsyncSession, carrier_id: uuid.UUID, role: str, number: str) -> None:
    taken = await session.scalar(
        sa.select(col(DgPerson.id)).where(
            col(DgPerson.carrier_id) == carrier_id,
            col(DgPerson.role) == role,
            col(DgPerson.certificate_number) == number,
        )
    )
    if taken is not None:
        raise ConflictError(
            f"the carrier has registered the {role} with certificate {number} already (id {taken})",
            field="certificate_number",
        )


async def create_person(session: AsyncSession, *, carrier_id: uuid.UUID, data: DgPersonCreate) -> DgPersonRead:
    """Register a driver or escort; the certificate number must be new among the carrier's people of that role."""
    await _check_certificate_free(session, carrier_id, data.role.value, data.certificate_number)
    person = DgPerson(
        carrier_id=carrier_id,
        role=data.role.value,
        name=data.name,
        certificate_number=data.certificate_number,
        qualification_type=data.qualification_type,
        qualified_classes=list(data.qualified_classes),
        expires_on=data.expires_on,
        phone=data.phone,
    )
    session.add(person)
    await _flush(
        session,
        f"the carrier has registered the {data.role.value} with certificate {data.certificate_number} already",
        field="certificate_number",
    )
    return _person_read(person)


async def get_person(session: AsyncSession, *, carrier_id: uuid.UUID, person_id: int) -> DgPersonRead:
    """One of the carrier's drivers or escorts."""
    return _person_read(await _owned(session, DgPerson, carrier_id, person_id, "person"))


async def list_people(session: AsyncSession, *, carrier_id: uuid.UUID, cursor: str | None, limit: int) -> DgPersonPage:
    """A page of the carrier's drivers and escorts, by id."""
    rows, next_cursor = await page_by_id(
        session, DgPerson, sa.select(DgPerson).where(col(DgPerson.carrier_id) == carrier_id), cursor, limit
    )
    return DgPersonPage(items=[_person_read(row) for row in rows], next_cursor=next_cursor)


async def update_person(
    session: AsyncSession, *, carrier_id: uuid.UUID, person_id: int, update: DgPersonUpdate
) -> DgPersonRead:
    """Change a driver or escort; role and certificate number must stay unique."""
    person = await _owned(session, DgPerson, carrier_id, person_id, "person")
    changes = _changes(update)
    role = changes.get("role", person.role)
    number = changes.get("certificate_number", person.certificate_number)
    if (role, number) != (person.role, person.certificate_number):
        await _check_certificate_free(session, carrier_id, role, number)
    _touch(person, changes)
    await _flush(
        session,
        f"the carrier has registered the {role} with certificate {number} already",
        field="certificate_number",
    )
    return _person_read(person)


async def delete_person(session: AsyncSession, *, carrier_id: uuid.UUID, person_id: int) -> None:
    """Remove a driver or escort from the registry (legs already accepted keep them)."""
    person = await _owned(session, DgPerson, carrier_id, person_id, "person")
    await session.delete(person)
    await session.flush()


async def people_by_certificate(
    session: AsyncSession, *, carrier_id: uuid.UUID, numbers: Collection[str]
) -> dict[tuple[str, str], DgPerson]:
    """The carrier's registered people whose certificate is among ``numbers``, by (role, certificate number)."""
    if not numbers:
        return {}
    rows = await session.scalars(
        sa.select(DgPerson).where(
            col(DgPerson.carrier_id) == carrier_id, col(DgPerson.certificate_number).in_(list(numbers))
        )
    )
    return {(row.role, row.certificate_number): row for row in rows}


# --- the carrier's road transport permit ----------------------------------------------------------


def _permit_read(permit: DgCarrierPermit) -> DgCarrierPermitRead:
    return DgCarrierPermitRead(
        permit_number=permit.permit_number,
        business_scope=permit.business_scope,
        permitted_classes=list(permit.permitted_classes),
        expires_on=permit.expires_on,
        created_at=permit.created_at,
        updated_at=permit.updated_at,
    )


async def carrier_permit(session: AsyncSession, *, carrier_id: uuid.UUID) -> DgCarrierPermit | None:
    """The carrier's registered road transport permit, if any."""
    return await session.scalar(sa.select(DgCarrierPermit).where(col(DgCarrierPermit.carrier_id) == carrier_id))


async def get_carrier_permit(session: AsyncSession, *, carrier_id: uuid.UUID) -> DgCarrierPermitRead:
    """The carrier's road transport permit, or 404 if it has registered none."""
    permit = await carrier_permit(session, carrier_id=carrier_id)
    if permit is None:
        raise NotFoundError("the carrier has registered no road transport permit")
    return _permit_read(permit)


async def put_carrier_permit(
    session: AsyncSession, *, carrier_id: uuid.UUID, data: DgCarrierPermitWrite
) -> DgCarrierPermitRead:
    """Register the carrier's road transport permit, replacing the one before."""
    permit = await carrier_permit(session, carrier_id=carrier_id)
    changes: dict[str, Any] = {
        "permit_number": data.permit_number,
        "business_scope": data.business_scope,
        "permitted_classes": list(data.permitted_classes),
        "expires_on": data.expires_on,
    }
    if permit is None:
        permit = DgCarrierPermit(carrier_id=carrier_id, **changes)
        session.add(permit)
    else:
        _touch(permit, changes)
    await _flush(
        session, "the carrier's permit was registered at the same time by another request", field="permit_number"
    )
    return _permit_read(permit)
