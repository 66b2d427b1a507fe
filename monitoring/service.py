"""Storing the monitoring rules' alerts and taking them through their lifecycle.

``record_alerts`` stores what ``monitoring.rules.evaluate`` returns: a new episode becomes an open
alert, a known one (same ``dedupe_key``) only has its end, last sighting and observed value brought
up to date, so a closed alert stays closed. Regulators and admins see every alert, a carrier the
alerts of its vehicles (``carrier_id``); other roles get 403, and an alert the caller may not see
is as absent as a missing one (404). Regulators and the alert's carrier acknowledge and close.
Functions never commit: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation
from accounts.schemas import OrganisationRole, Principal
from core.cursors import MAX_ID, page_by_id
from core.db import utcnow
from core.errors import ForbiddenError, InvalidStateError, NotFoundError
from monitoring.alerts import Alert, AlertKind, Severity
from monitoring.models import AlertStatus, DgAlert
from monitoring.schemas import AlertPage, AlertRead, AlertStep, OrganisationRef, Position

__all__ = ("acknowledge", "close", "get_alert", "list_alerts", "record_alerts")

_SEE_ALL = frozenset({OrganisationRole.REGULATOR, OrganisationRole.ADMIN})
_ACT = frozenset({OrganisationRole.REGULATOR, OrganisationRole.CARRIER})


# --- recording ------------------------------------------------------------------------------------


def _row_values(alert: Alert, carrier_id: uuid.UUID | None, now: datetime) -> dict[str, Any]:
    # Every column the insert sets: SQLModel's default factories do not run for a Core insert.
    return {
        "dedupe_key": alert.dedupe_key,
        "kind": alert.kind.value,
        "severity": alert.severity.value,
        "plate": alert.plate,
        "waybill_number": alert.waybill_number,
        "carrier_id": carrier_id,
        "started_at": alert.started_at,
        "ended_at": alert.ended_at,
        "last_seen_at": now,
        "observed": alert.observed,
        "threshold": alert.threshold,
        "unit": alert.unit,
        "latitude": alert.position[0],
        "longitude": alert.position[1],
        "zone": alert.zone,
        "message": alert.message,
        "message_key": alert.message_key,
        "message_params": dict(alert.message_params),
        "status": AlertStatus.OPEN.value,
        "created_at": now,
    }


async def record_alerts(
    session: AsyncSession, alerts: Iterable[Alert], *, carrier_id: uuid.UUID | None = None
) -> tuple[int, int]:
    """Store an evaluation's alerts; ``(opened, updated)`` counts.

    A new ``dedupe_key`` opens an alert. A known one gets the episode's end, the time it was seen
    and the latest observed value; its status (and a closed alert stays closed) never changes.
    One ``INSERT ... ON CONFLICT (dedupe_key) DO UPDATE`` on both backends, so two evaluations
    recording the same new episode at once both succeed and leave one row.
    """
    latest: dict[str, Alert] = {}
    for alert in alerts:
        latest[alert.dedupe_key] = alert
    if not latest:
        return 0, 0
    now = utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    insert_rows = insert(DgAlert)
    table = DgAlert.__table__  # type: ignore[attr-defined]
    statement = insert_rows.on_conflict_do_update(
        index_elements=[table.c.dedupe_key],
        set_={
            "ended_at": insert_rows.excluded.ended_at,
            "last_seen_at": insert_rows.excluded.last_seen_at,
            "observed": insert_rows.excluded.observed,
            "carrier_id": sa.func.coalesce(table.c.carrier_id, insert_rows.excluded.carrier_id),
        },
    ).returning(DgAlert)
    # Sorted keys: concurrent upserts of overlapping batches take their row locks in the same order.
    rows = [_row_values(latest[key], carrier_id, now) for key in sorted(latest)]
    stored = await session.scalars(statement, rows, execution_options={"populate_existing": True})
    # A row this statement inserted carries its ``created_at``; an updated one keeps its own.
    opened = sum(1 for row in stored if row.created_at == now)
    return opened, len(rows) - opened


# --- reading --------------------------------------------------------------------------------------


def _scope(principal: Principal) -> Any:
    """The condition on the alerts ``principal`` sees (``True`` for all); 403 for roles that see none."""
    if principal.role in _SEE_ALL:
        return sa.true()
    if principal.role is OrganisationRole.CARRIER:
        return col(DgAlert.carrier_id) == principal.organisation_id
    raise ForbiddenError("only regulators, admins and carriers see dangerous-goods alerts")


def _visible(principal: Principal, row: DgAlert) -> bool:
    return principal.role in _SEE_ALL or (
        principal.role is OrganisationRole.CARRIER and row.carrier_id == principal.organisation_id
    )


async def _visible_row(session: AsyncSession, principal: Principal, alert_id: int) -> DgAlert:
    _scope(principal)
    row = await session.get(DgAlert, alert_id) if 1 <= alert_id <= MAX_ID else None
    if row is None or not _visible(principal, row):
        raise NotFoundError(f"alert {alert_id} not found")
    return row


async def _organisations(session: AsyncSession, rows: Iterable[DgAlert]) -> dict[uuid.UUID, OrganisationRef]:
    ids = {i for row in rows for i in (row.carrier_id, row.acknowledged_by, row.closed_by) if i is not None}
    if not ids:
        return {}
    found = await session.execute(
        sa.select(col(Organisation.id), col(Organisation.uscc), col(Organisation.name)).where(
            col(Organisation.id).in_(list(ids))
        )
    )
    return {org_id: OrganisationRef(uscc=uscc, name=name) for org_id, uscc, name in found}


def _step(orgs: dict[uuid.UUID, OrganisationRef], by: uuid.UUID | None, at: Any, note: str | None) -> AlertStep | None:
    if by is None or at is None:
        return None
    return AlertStep(by=orgs[by], at=at, note=note)


def _read(row: DgAlert, orgs: dict[uuid.UUID, OrganisationRef]) -> AlertRead:
    assert row.id is not None
    return AlertRead(
        id=row.id,
        kind=AlertKind(row.kind),
        severity=Severity(row.severity),
        status=AlertStatus(row.status),
        plate=row.plate,
        waybill_number=row.waybill_number,
        carrier=orgs.get(row.carrier_id) if row.carrier_id is not None else None,
        started_at=row.started_at,
        ended_at=row.ended_at,
        last_seen_at=row.last_seen_at,
        observed=row.observed,
        threshold=row.threshold,
        unit=row.unit,
        position=Position(latitude=row.latitude, longitude=row.longitude),
        zone=row.zone,
        message=row.message,
        message_key=row.message_key,
        message_params=dict(row.message_params),
        acknowledged=_step(orgs, row.acknowledged_by, row.acknowledged_at, row.acknowledged_note),
        closed=_step(orgs, row.closed_by, row.closed_at, row.closed_note),
        created_at=row.created_at,
    )


async def _read_one(session: AsyncSession, row: DgAlert) -> AlertRead:
    return _read(row, await _organisations(session, [row]))


async def get_alert(session: AsyncSession, principal: Principal, alert_id: int) -> AlertRead:
    """One alert the caller may see."""
    return await _read_one(session, await _visible_row(session, principal, alert_id))


async def list_alerts(
    session: AsyncSession,
    principal: Principal,
    *,
    status: AlertStatus | None = None,
    kind: AlertKind | None = None,
    plate: str | None = None,
    waybill_number: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    newest_first: bool = False,
) -> AlertPage:
    """A page of the alerts the caller sees, oldest first (or newest first, without cursor), optionally filtered."""
    stmt = sa.select(DgAlert).where(_scope(principal))
    if status is not None:
        stmt = stmt.where(col(DgAlert.status) == status.value)
    if kind is not None:
        stmt = stmt.where(col(DgAlert.kind) == kind.value)
    if plate is not None:
        stmt = stmt.where(col(DgAlert.plate) == plate)
    if waybill_number is not None:
        stmt = stmt.where(col(DgAlert.waybill_number) == waybill_number)
    if newest_first:
        newest = list(await session.scalars(stmt.order_by(col(DgAlert.id).desc()).limit(limit)))
        orgs = await _organisations(session, newest)
        return AlertPage(items=[_read(row, orgs) for row in newest], next_cursor=None)
    rows, next_cursor = await page_by_id(session, DgAlert, stmt, cursor, limit)
    orgs = await _organisations(session, rows)
    return AlertPage(items=[_read(row, orgs) for row in rows], next_cursor=next_cursor)


# --- lifecycle ------------------------------------------------------------------------------------


async def _actionable(session: AsyncSession, principal: Principal, alert_id: int, action: str) -> DgAlert:
    row = await _visible_row(session, principal, alert_id)
    if principal.role not in _ACT:
        raise ForbiddenError(f"only regulators and the vehicle's carrier may {action} an alert")
    return row


async def acknowledge(session: AsyncSession, alert_id: int, principal: Principal, note: str | None = None) -> AlertRead:
    """``open → acknowledged``, recording who, when and the note; 409 from any other status."""
    row = await _actionable(session, principal, alert_id, "acknowledge")
    if row.status != AlertStatus.OPEN:
        raise InvalidStateError(f"alert {alert_id} is {row.status}; only an open alert can be acknowledged")
    row.status = AlertStatus.ACKNOWLEDGED.value
    row.acknowledged_by = principal.organisation_id
    row.acknowledged_at = utcnow()
    row.acknowledged_note = note
    await session.flush()
    return await _read_one(session, row)


async def close(session: AsyncSession, alert_id: int, principal: Principal, note: str | None = None) -> AlertRead:
    """``open`` or ``acknowledged`` ``→ closed``, recording who, when and the note; 409 if closed already."""
    row = await _actionable(session, principal, alert_id, "close")
    if row.status == AlertStatus.CLOSED:
        raise InvalidStateError(f"alert {alert_id} is closed already")
    row.status = AlertStatus.CLOSED.value
    row.closed_by = principal.organisation_id
    row.closed_at = utcnow()
    row.closed_note = note
    await session.flush()
    return await _read_one(session, row)
