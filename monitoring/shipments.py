"""The regulator's view of active dangerous-goods shipments: filtered lists, map markers, CSV rows.

Reads the ``dg_shipment`` index (kept by the waybill service), the waybills' status, the open and
acknowledged alerts, and the vehicles' latest positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import LateralFromClause
from sqlmodel import col

from core.db import utcnow
from monitoring.models import AlertStatus, DgAlert
from tracking.latest import LatestPosition, latest_positions, newest_fix_after
from waybill.models import DangerousShipment, Waybill
from waybill.schemas import WaybillStatus

__all__ = (
    "ACTIVE_STATUSES",
    "AlertState",
    "CarrierOption",
    "ShipmentFilters",
    "ShipmentListing",
    "ShipmentRow",
    "active_carriers",
    "list_active_shipments",
    "shipment_markers",
)

ACTIVE_STATUSES = (WaybillStatus.ISSUED.value, WaybillStatus.IN_TRANSIT.value)
"""A dangerous-goods waybill is watched from issue until delivery."""
POSITION_HORIZON = timedelta(hours=24)
"""Positions older than this are not shown as the vehicle's place."""

AlertState = Literal["open", "acknowledged", "none"]


class ShipmentFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What the regulator narrows the list to; ``None`` means any."""

    hazard_class: str | None = None
    """An ADR class such as ``3`` or ``2.1``... as in Table A (``2``, ``6.1``, ``4.3``)."""
    un_number: str | None = None
    carrier_uscc: str | None = None
    city: str | None = None
    """A city's six-digit division code; matches the pickup or the delivery city."""
    alert_state: AlertState | None = None
    """``open``: an open alert; ``acknowledged``: acknowledged ones only; ``none``: no alert being handled."""


class ShipmentRow(msgspec.Struct, frozen=True, kw_only=True):
    """An active dangerous-goods waybill as listed."""

    number: str
    status: str
    goods: str
    hazard_classes: tuple[str, ...]
    un_numbers: tuple[str, ...]
    tunnel_code: str | None
    points: float
    carrier_uscc: str | None
    carrier_name: str | None
    vehicle_plate: str | None
    driver_name: str | None
    escort_name: str | None
    from_city: str
    to_city: str
    from_name: str
    to_name: str
    open_alerts: int
    acknowledged_alerts: int
    position: LatestPosition | None = None

    @property
    def alert_state(self) -> AlertState:
        """The worst state of the shipment's alerts being handled."""
        return _alert_state(self.open_alerts, self.acknowledged_alerts)


class ShipmentListing(msgspec.Struct, frozen=True, kw_only=True):
    """One page of the list and the size of the whole filtered list."""

    rows: list[ShipmentRow]
    total: int


class CarrierOption(msgspec.Struct, frozen=True, kw_only=True):
    """A carrier with active dangerous-goods shipments, for the filter."""

    uscc: str
    name: str


def _alert_counts(dialect: str) -> sa.Subquery | LateralFromClause:
    """Open and acknowledged alerts per waybill, to join to the shipments.

    On PostgreSQL a ``LATERAL`` count per shipment, one probe of the waybill-number index each: its
    plan does not hang on statistics. The grouped subquery it replaces is joined with a hash when the
    planner knows the tables, but right after a bulk load (before ``ANALYZE``) it was re-aggregated
    for every shipment, close to a second for 5,000 of them. Elsewhere (SQLite) the grouped subquery.
    """
    is_open = col(DgAlert.status) == AlertStatus.OPEN.value
    is_acknowledged = col(DgAlert.status) == AlertStatus.ACKNOWLEDGED.value
    being_handled = col(DgAlert.status).in_((AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value))
    if dialect == "postgresql":
        return (
            sa.select(
                sa.func.count().filter(is_open).label("open_alerts"),
                sa.func.count().filter(is_acknowledged).label("acknowledged_alerts"),
            )
            .where(col(DgAlert.waybill_number) == col(DangerousShipment.number), being_handled)
            .lateral("alert_counts")
        )
    return (
        sa.select(
            col(DgAlert.waybill_number).label("number"),
            sa.func.sum(sa.case((is_open, 1), else_=0)).label("open_alerts"),
            sa.func.sum(sa.case((is_acknowledged, 1), else_=0)).label("acknowledged_alerts"),
        )
        .where(being_handled)
        .where(col(DgAlert.waybill_number).is_not(None))
        .group_by(col(DgAlert.waybill_number))
        .subquery("alert_counts")
    )


def _bar_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%|{escaped}|%"


def _filtered(
    filters: ShipmentFilters, columns: Sequence[Any], *, dialect: str, with_alerts: bool = True
) -> tuple[sa.Select[Any], sa.Subquery | LateralFromClause]:
    """The active shipments matching ``filters``, with their alert counts joined if ``with_alerts``.

    The counts are joined anyway when the filters ask for an alert state.
    """
    alerts = _alert_counts(dialect)
    open_alerts = sa.func.coalesce(alerts.c.open_alerts, 0)
    acknowledged_alerts = sa.func.coalesce(alerts.c.acknowledged_alerts, 0)
    query = (
        sa.select(*columns)
        .select_from(DangerousShipment)
        .join(Waybill, col(Waybill.id) == col(DangerousShipment.waybill_id))
        .where(col(Waybill.status).in_(ACTIVE_STATUSES))
    )
    if with_alerts or filters.alert_state is not None:
        on = sa.true() if isinstance(alerts, LateralFromClause) else alerts.c.number == col(DangerousShipment.number)
        query = query.outerjoin(alerts, on)
    if filters.hazard_class:
        query = query.where(col(DangerousShipment.hazard_classes).like(_bar_pattern(filters.hazard_class), escape="\\"))
    if filters.un_number:
        query = query.where(col(DangerousShipment.un_numbers).like(_bar_pattern(filters.un_number), escape="\\"))
    if filters.carrier_uscc:
        query = query.where(col(DangerousShipment.carrier_uscc) == filters.carrier_uscc)
    if filters.city:
        query = query.where(
            sa.or_(col(DangerousShipment.from_city) == filters.city, col(DangerousShipment.to_city) == filters.city)
        )
    if filters.alert_state == "open":
        query = query.where(open_alerts > 0)
    elif filters.alert_state == "acknowledged":
        query = query.where(open_alerts == 0, acknowledged_alerts > 0)
    elif filters.alert_state == "none":
        query = query.where(open_alerts == 0, acknowledged_alerts == 0)
    return query, alerts


def _split(bars: str) -> tuple[str, ...]:
    return tuple(part for part in bars.split("|") if part)


async def list_active_shipments(
    session: AsyncSession,
    *,
    filters: ShipmentFilters,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
    with_positions: bool = True,
) -> ShipmentListing:
    """Active dangerous-goods waybills matching ``filters``: those with open alerts first, then by number.

    Args:
        limit: rows on the page (``0`` for all, as the CSV export wants).
        with_positions: look up each listed vehicle's latest position.
    """
    shipment = DangerousShipment
    dialect = session.get_bind().dialect.name
    probe, _ = _filtered(filters, [sa.literal(1)], dialect=dialect, with_alerts=False)
    total = await session.scalar(sa.select(sa.func.count()).select_from(probe.subquery())) or 0
    query, alerts = _filtered(filters, [], dialect=dialect)
    open_alerts = sa.func.coalesce(alerts.c.open_alerts, 0)
    acknowledged_alerts = sa.func.coalesce(alerts.c.acknowledged_alerts, 0)
    query = query.add_columns(
        col(shipment.number),
        col(Waybill.status),
        col(shipment.goods),
        col(shipment.hazard_classes),
        col(shipment.un_numbers),
        col(shipment.tunnel_code),
        col(shipment.points),
        col(shipment.carrier_uscc),
        col(shipment.carrier_name),
        col(shipment.vehicle_plate),
        col(shipment.driver_name),
        col(shipment.escort_name),
        col(shipment.from_city),
        col(shipment.to_city),
        col(shipment.from_name),
        col(shipment.to_name),
        open_alerts.label("open_alerts"),
        acknowledged_alerts.label("acknowledged_alerts"),
    ).order_by(sa.desc(open_alerts), col(shipment.number))
    if limit:
        query = query.limit(limit).offset(offset)
    result = (await session.execute(query)).all()
    positions: dict[str, LatestPosition] = {}
    if with_positions:
        plates = [row.vehicle_plate for row in result if row.vehicle_plate]
        positions = await latest_positions(session, plates=plates, since=(now or utcnow()) - POSITION_HORIZON)
    rows = [
        ShipmentRow(
            number=row.number,
            status=row.status,
            goods=row.goods,
            hazard_classes=_split(row.hazard_classes),
            un_numbers=_split(row.un_numbers),
            tunnel_code=row.tunnel_code,
            points=row.points,
            carrier_uscc=row.carrier_uscc,
            carrier_name=row.carrier_name,
            vehicle_plate=row.vehicle_plate,
            driver_name=row.driver_name,
            escort_name=row.escort_name,
            from_city=row.from_city,
            to_city=row.to_city,
            from_name=row.from_name,
            to_name=row.to_name,
            open_alerts=int(row.open_alerts),
            acknowledged_alerts=int(row.acknowledged_alerts),
            position=positions.get(row.vehicle_plate) if row.vehicle_plate else None,
        )
        for row in result
    ]
    return ShipmentListing(rows=rows, total=int(total))


class ShipmentMarker(msgspec.Struct, frozen=True, kw_only=True):
    """Where an active shipment's vehicle is, for the map."""

    number: str
    plate: str
    alert_state: AlertState
    position: LatestPosition


async def shipment_markers(
    session: AsyncSession, *, filters: ShipmentFilters, now: datetime | None = None, limit: int = 10_000
) -> list[ShipmentMarker]:
    """The latest position of every matching shipment's vehicle (those with one in the last day).

    On PostgreSQL the shipments and their vehicles' newest fixes come in one statement (a ``LATERAL``
    probe of the position index per vehicle); elsewhere the fixes are looked up afterwards.
    """
    dialect = session.get_bind().dialect.name
    since = (now or utcnow()) - POSITION_HORIZON
    query, alerts = _filtered(filters, [], dialect=dialect)
    query = query.add_columns(
        col(DangerousShipment.number),
        col(DangerousShipment.vehicle_plate),
        sa.func.coalesce(alerts.c.open_alerts, 0),
        sa.func.coalesce(alerts.c.acknowledged_alerts, 0),
    ).where(col(DangerousShipment.vehicle_plate).is_not(None))
    if dialect == "postgresql":
        fix = newest_fix_after(col(DangerousShipment.vehicle_plate), since)
        query = query.join(fix, sa.true()).add_columns(
            fix.c.recorded_at, fix.c.latitude, fix.c.longitude, fix.c.speed_kmh, fix.c.heading
        )
        rows = (await session.execute(query.limit(limit))).all()
        return [
            ShipmentMarker(
                number=number,
                plate=plate,
                alert_state=_alert_state(open_count, acknowledged_count),
                position=LatestPosition(
                    plate=plate,
                    recorded_at=recorded_at,
                    latitude=latitude,
                    longitude=longitude,
                    speed_kmh=speed_kmh,
                    heading=heading,
                ),
            )
            for number, plate, open_count, acknowledged_count, recorded_at, latitude, longitude, speed_kmh, heading in (
                rows
            )
        ]
    rows = (await session.execute(query.limit(limit))).all()
    positions = await latest_positions(session, plates=[row[1] for row in rows], since=since)
    markers = []
    for number, plate, open_count, acknowledged_count in rows:
        position = positions.get(plate)
        if position is None:
            continue
        markers.append(
            ShipmentMarker(
                number=number, plate=plate, alert_state=_alert_state(open_count, acknowledged_count), position=position
            )
        )
    return markers


def _alert_state(open_count: int, acknowledged_count: int) -> AlertState:
    return "open" if open_count else ("acknowledged" if acknowledged_count else "none")


async def active_carriers(session: AsyncSession) -> list[CarrierOption]:
    """Carriers that have active dangerous-goods shipments, by name."""
    rows = (
        await session.execute(
            sa.select(col(DangerousShipment.carrier_uscc), sa.func.max(col(DangerousShipment.carrier_name)))
            .join(Waybill, col(Waybill.id) == col(DangerousShipment.waybill_id))
            .where(col(Waybill.status).in_(ACTIVE_STATUSES), col(DangerousShipment.carrier_uscc).is_not(None))
            .group_by(col(DangerousShipment.carrier_uscc))
        )
    ).all()
    return sorted((CarrierOption(uscc=str(uscc), name=str(name or uscc)) for uscc, name in rows), key=lambda c: c.name)
