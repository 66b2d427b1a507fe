"""Writing a new waybill's rows: the platform's hottest write path.

A new waybill is a header, its first version, the first link of its tamper-evident record
(``waybill.chain``), its legs, an audit entry and, with an ``Idempotency-Key``, an idempotency
record. ``insert_new_waybill`` writes them all or nothing.

On PostgreSQL this is one statement (data-modifying CTEs) sent straight through asyncpg outside
any transaction block: the statement is atomic by itself, and on a two-core machine each saved
round trip and each layer skipped is worth more than the SQL (docs/decisions/0006). Elsewhere
(SQLite) the rows are written statement by statement inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import utc_builtins
from waybill.models import ChainLink, IdempotencyRecord, TransportLeg, Waybill, WaybillChange, WaybillVersion

__all__ = ("IdempotencyKeyTakenError", "insert_new_waybill")


class IdempotencyKeyTakenError(Exception):
    """The ``Idempotency-Key`` belongs to an earlier request; nothing was written."""


_WAYBILL: sa.Table = Waybill.__table__  # type: ignore[attr-defined]
_VERSION: sa.Table = WaybillVersion.__table__  # type: ignore[attr-defined]
_LEG: sa.Table = TransportLeg.__table__  # type: ignore[attr-defined]
_CHANGE: sa.Table = WaybillChange.__table__  # type: ignore[attr-defined]
_IDEMPOTENCY: sa.Table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_CHAIN_LINK: sa.Table = ChainLink.__table__  # type: ignore[attr-defined]


def _insert_unless_conflict(table: sa.Table, returning: sa.Column[Any]) -> dict[str, Any]:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per dialect, built once."""
    return {
        name: module.insert(table).on_conflict_do_nothing().returning(returning)
        for name, module in (("postgresql", postgresql), ("sqlite", sqlite))
    }


_INSERT_WAYBILL = _insert_unless_conflict(_WAYBILL, _WAYBILL.c.id)
_INSERT_IDEMPOTENCY = _insert_unless_conflict(_IDEMPOTENCY, _IDEMPOTENCY.c.key)


async def insert_new_waybill(
    connection: AsyncConnection,
    *,
    header: dict[str, Any],
    version: dict[str, Any],
    chain_link: dict[str, Any],
    legs: list[dict[str, Any]],
    change: dict[str, Any],
    idempotency: dict[str, Any] | None,
) -> int | None:
    """Write a new waybill's rows and return its id, or ``None`` (nothing written) if the header
    conflicts with an existing waybill (its number or the shipper's reference).

    ``chain_link`` is the first link of the record (position 1, covering version 1), hashed and
    signed before the insert; the header carries ``chain_length`` 1 and its hash as ``chain_head``.

    Raises:
        IdempotencyKeyTakenError: the idempotency record exists already; on PostgreSQL nothing was
            written, elsewhere the caller must roll back.
    """
    if connection.dialect.name == "postgresql":
        driver = (await connection.get_raw_connection()).driver_connection
        if isinstance(driver, asyncpg.Connection) and not driver.is_in_transaction():
            return await _insert_in_one_statement(driver, header, version, chain_link, legs, change, idempotency)
    return await _insert_statement_by_statement(connection, header, version, chain_link, legs, change, idempotency)


async def _insert_statement_by_statement(
    connection: AsyncConnection,
    header: dict[str, Any],
    version: dict[str, Any],
    chain_link: dict[str, Any],
    legs: list[dict[str, Any]],
    change: dict[str, Any],
    idempotency: dict[str, Any] | None,
) -> int | None:
    dialect = connection.dialect.name
    waybill_id: int | None = (await connection.execute(_INSERT_WAYBILL[dialect], header)).scalar()
    if waybill_id is None:
        return None
    if (
        idempotency is not None
        and (await connection.execute(_INSERT_IDEMPOTENCY[dialect], idempotency)).scalar() is None
    ):
        raise IdempotencyKeyTakenError
    await connection.execute(_VERSION.insert(), {**version, "waybill_id": waybill_id})
    await connection.execute(_CHAIN_LINK.insert(), {**chain_link, "waybill_id": waybill_id})
    if legs:
        await connection.execute(_LEG.insert(), [{**leg, "waybill_id": waybill_id} for leg in legs])
    await connection.execute(_CHANGE.insert(), {**change, "waybill_id": waybill_id})
    return waybill_id


# Every CTE sees the new header's id; none inserts anything when the header conflicts. The
# idempotency record is a plain INSERT, so a taken key fails the whole statement.
_ONE_STATEMENT = """
WITH new_waybill AS (
    INSERT INTO waybill (
        number, shipper_id, shipper_reference, status, version, pickup_division_code,
        delivery_division_code, pickup_locode, delivery_locode, created_at, updated_at, issued_at,
        chain_length, chain_head)
    VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $9, $10, 1, $19)
    ON CONFLICT DO NOTHING
    RETURNING id
), new_version AS (
    INSERT INTO waybill_version (waybill_id, version, document, reason, created_at, created_by_id)
    SELECT id, 1, $11::jsonb, NULL, $9, $2 FROM new_waybill
), new_link AS (
    INSERT INTO waybill_chain_link (
        waybill_id, position, kind, ref, payload_sha256, prev_hash, hash, signature, created_at)
    SELECT id, 1, 'version', '1', $20, NULL, $19, $21, $9 FROM new_waybill
), new_legs AS (
    INSERT INTO transport_leg (
        waybill_id, sequence, mode, status, carrier_uscc, carrier_name, from_place, to_place,
        from_division_code, to_division_code, from_locode, to_locode, planned_departure,
        planned_arrival, vehicle_plate, trailer_plate, container_number, rail_wagon, vessel_name,
        voyage, unaccompanied, driver_name, driver_phone, driver_certificate, escort_name,
        escort_phone, escort_certificate, planned_route, updated_at)
    SELECT w.id, l.sequence, l.mode, l.status, l.carrier_uscc, l.carrier_name, l.from_place,
        l.to_place, l.from_division_code, l.to_division_code, l.from_locode, l.to_locode,
        l.planned_departure, l.planned_arrival, l.vehicle_plate, l.trailer_plate,
        l.container_number, l.rail_wagon, l.vessel_name, l.voyage, l.unaccompanied, l.driver_name,
        l.driver_phone, l.driver_certificate, l.escort_name, l.escort_phone, l.escort_certificate,
        l.planned_route, $9
    FROM new_waybill AS w, jsonb_to_recordset($12::jsonb) AS l(
        sequence int, mode text, status text, carrier_uscc text, carrier_name text,
        from_place jsonb, to_place jsonb, from_division_code text, to_division_code text,
        from_locode text, to_locode text, planned_departure timestamptz,
        planned_arrival timestamptz, vehicle_plate text, trailer_plate text, container_number text,
        rail_wagon text, vessel_name text, voyage text, unaccompanied boolean, driver_name text,
        driver_phone text, driver_certificate text, escort_name text, escort_phone text,
        escort_certificate text, planned_route jsonb)
), new_change AS (
    INSERT INTO waybill_change (waybill_id, action, version, organisation_id, api_key_id, at, detail)
    SELECT id, $13, 1, $2, $14, $9, $15::jsonb FROM new_waybill
), new_key AS (
    INSERT INTO idempotency_record (organisation_id, operation, key, request_sha256, resource, created_at)
    SELECT $2, $16, $17, $18, $1, $9 FROM new_waybill WHERE $17::varchar IS NOT NULL
)
SELECT id FROM new_waybill
"""


def _json(value: Any) -> str:
    return msgspec.json.encode(utc_builtins(value)).decode()


async def _insert_in_one_statement(
    driver: asyncpg.Connection,
    header: dict[str, Any],
    version: dict[str, Any],
    chain_link: dict[str, Any],
    legs: list[dict[str, Any]],
    change: dict[str, Any],
    idempotency: dict[str, Any] | None,
) -> int | None:
    # The statement writes link 1 of version 1 at the header's time; anything else is a caller's bug.
    assert (chain_link["position"], chain_link["kind"], chain_link["ref"]) == (1, "version", "1")
    assert chain_link["prev_hash"] is None
    assert chain_link["created_at"] == header["created_at"]
    assert header["chain_head"] == chain_link["hash"]
    key = idempotency or {}
    try:
        waybill_id: int | None = await driver.fetchval(
            _ONE_STATEMENT,
            header["number"],
            header["shipper_id"],
            header["shipper_reference"],
            header["status"],
            header["pickup_division_code"],
            header["delivery_division_code"],
            header["pickup_locode"],
            header["delivery_locode"],
            header["created_at"],
            header["issued_at"],
            _json(version["document"]),
            _json(legs),
            change["action"],
            change["api_key_id"],
            _json(change["detail"]),
            key.get("operation"),
            key.get("key"),
            key.get("request_sha256"),
            chain_link["hash"],
            chain_link["payload_sha256"],
            chain_link["signature"],
        )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "pk_idempotency_record":
            raise IdempotencyKeyTakenError from None
        raise
    return waybill_id
