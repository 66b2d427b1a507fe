"""Keeping the regulator's index of dangerous-goods waybills (``dg_shipment``) in step with the waybills."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dangerous_goods.assessment import Assessment
from waybill.models import DangerousShipment
from waybill.rules.dangerous_goods import assess_cargo
from waybill.schemas import LegRead, LegStatus, TransportMode, WaybillRead

__all__ = ("city_of", "index_dangerous_shipment", "shipment_row")


def city_of(division_code: str) -> str:
    """The prefecture-level city of a six-digit division code (``440305`` → ``440300``)."""
    return division_code[:4] + "00"


def _current_road_leg(legs: list[LegRead]) -> LegRead | None:
    """The road leg under way, else the next planned one, else the last road leg."""
    road = [leg for leg in legs if leg.mode is TransportMode.ROAD]
    for wanted in (LegStatus.UNDER_WAY, LegStatus.PLANNED):
        for leg in road:
            if leg.status is wanted:
                return leg
    return road[-1] if road else None


def _bars(values: list[str]) -> str:
    return "|" + "|".join(dict.fromkeys(values)) + "|"


def shipment_row(waybill: WaybillRead, assessment: Assessment, *, now: datetime) -> dict[str, object]:
    """The index columns of a dangerous-goods waybill (without its id)."""
    leg = _current_road_leg(waybill.legs)
    entries = [line.entry for line in assessment.lines]
    return {
        "number": waybill.number,
        "hazard_classes": _bars(sorted({entry.hazard_class for entry in entries})),
        "un_numbers": _bars([entry.un_number for entry in entries]),
        "goods": "; ".join(dict.fromkeys(f"UN{e.un_number} {e.name_en or e.name_de or ''}".strip() for e in entries))[
            :500
        ],
        "points": assessment.points,
        "tunnel_code": assessment.tunnel_restriction_code,
        "carrier_uscc": leg.carrier.uscc if leg and leg.carrier else None,
        "carrier_name": leg.carrier.name if leg and leg.carrier else None,
        "vehicle_plate": leg.equipment.vehicle_plate if leg else None,
        "driver_name": leg.driver.name if leg and leg.driver else None,
        "escort_name": leg.escort.name if leg and leg.escort else None,
        "from_city": city_of(waybill.document.pickup.division_code),
        "to_city": city_of(waybill.document.delivery.division_code),
        "from_name": waybill.document.pickup.name,
        "to_name": waybill.document.delivery.name,
        "updated_at": now,
    }


async def index_dangerous_shipment(
    session: AsyncSession, *, waybill_id: int, waybill: WaybillRead, assessment: Assessment | None = None
) -> None:
    """Write (or remove) the index row of a waybill after it changed; the caller commits.

    Args:
        assessment: the load's assessment if the caller has it; worked out from the cargo otherwise.
    """
    if assessment is None:
        verdict = assess_cargo(waybill.document.cargo)
        # A stored waybill passed the assessment; a refusal here means the rules changed since.
        assessment = verdict if isinstance(verdict, Assessment) else None
    await session.execute(sa.delete(DangerousShipment).where(col(DangerousShipment.waybill_id) == waybill_id))
    if assessment is None:
        return
    row = shipment_row(waybill, assessment, now=waybill.updated_at)
    await session.execute(sa.insert(DangerousShipment).values(waybill_id=waybill_id, **row))
