"""The monitoring job: stored tracks and dangerous-goods waybills in, alerts recorded for the carrier out."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dangerous_goods import registry
from dangerous_goods.registry_schemas import DgCarrierPermitWrite, DgPersonCreate, DgVehicleCreate
from monitoring import PositionFix, service
from monitoring.flows import monitor_positions
from monitoring.models import DgAlert
from tests.conftest import Org
from tests.factories import EMERGENCY_CONTACT, carrier_permit
from tests.monitoring.alert_values import speeding
from tests.monitoring.tracks import DONGGUAN, GUANGSHEN, HUANGPU, Track
from tracking.schemas import PositionReport
from tracking.service import store_positions
from waybill import events
from waybill import service as waybills
from waybill.event_schemas import TransportEventCreate
from waybill.schemas import WaybillCreate

DRIVER = {"name": "黄志明", "phone": "+86 138 2299 4410", "certificate_number": "441900198507121234"}
ESCORT = {"name": "陈丽华", "phone": "+86 139 2266 0183", "certificate_number": "440604199103155528"}
PETROL = {
    "description": "汽油 (罐车)",
    "package_count": 1,
    "package_type": "TK",
    "gross_weight_kg": 22000.0,
    "dangerous_goods": {"un_number": "UN1203", "quantity": 28000, "unit": "L", "packing_group": "II"},
}


def _place(name: str, at: tuple[float, float], division: str) -> dict[str, Any]:
    return {"name": name, "address": f"广东省{name}", "division_code": division, "latitude": at[0], "longitude": at[1]}


HUANGPU_DEPOT = _place("广州市黄埔区石化仓储区", HUANGPU, "440112")
DONGGUAN_DEPOT = _place("东莞市南城区加油站配送中心", DONGGUAN, "441900")


def _plate() -> str:
    return "粤A" + "".join(secrets.choice("0123456789") for _ in range(4)) + "D"


def _start() -> datetime:
    """A departure two hours ago, on the minute."""
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    return await make_org("carrier", name="广州黄埔危险品运输有限公司")


async def _register(session: AsyncSession, carrier: Org, plate: str) -> None:
    carrier_id = carrier.principal.organisation_id
    permit = msgspec.convert(carrier_permit(), DgCarrierPermitWrite)
    await registry.put_carrier_permit(session, carrier_id=carrier_id, data=permit)
    vehicle = {
        "plate": plate,
        "transport_certificate_number": "粤交运管穗字440112012345号",
        "permitted_classes": ["3"],
        "tank_allowed": True,
        "permit_expires_on": "2030-06-30",
    }
    await registry.create_vehicle(session, carrier_id=carrier_id, data=msgspec.convert(vehicle, DgVehicleCreate))
    for role, person in (("driver", DRIVER), ("escort", ESCORT)):
        qualification = {
            **person,
            "role": role,
            "qualification_type": "道路危险货物运输驾驶员" if role == "driver" else "道路危险货物运输押运人员",
            "qualified_classes": ["3"],
            "expires_on": "2030-03-31",
        }
        await registry.create_person(
            session, carrier_id=carrier_id, data=msgspec.convert(qualification, DgPersonCreate)
        )


async def _petrol_waybill_under_way(
    session: AsyncSession,
    shipper: Org,
    carrier: Org,
    plate: str,
    departed_at: datetime,
    planned_route: Sequence[tuple[float, float]] | None = None,
) -> str:
    """A petrol tanker from Huangpu to Dongguan along the Guangshen expressway, departed at ``departed_at``."""
    await _register(session, carrier, plate)
    request = {
        "shipper_reference": f"PO-DG-{secrets.token_hex(4).upper()}",
        "consignor": {"name": "中石化广州分公司", "phone": "+86 20 8221 3300"},
        "consignee": {"name": "东莞南城加油站", "phone": "+86 769 2288 1100"},
        "pickup": HUANGPU_DEPOT,
        "delivery": DONGGUAN_DEPOT,
        "pickup_window": {"start": departed_at.isoformat(), "end": (departed_at + timedelta(hours=1)).isoformat()},
        "delivery_window": {"start": departed_at.isoformat(), "end": (departed_at + timedelta(hours=6)).isoformat()},
        "cargo": [PETROL],
        "emergency_contact": EMERGENCY_CONTACT,
        "legs": [
            {
                "sequence": 1,
                "mode": "road",
                "carrier": {"uscc": carrier.uscc, "name": carrier.principal.name},
                "from_place": HUANGPU_DEPOT,
                "to_place": DONGGUAN_DEPOT,
                "planned_departure": departed_at.isoformat(),
                "planned_arrival": (departed_at + timedelta(hours=2)).isoformat(),
                "equipment": {"vehicle_plate": plate},
                "driver": DRIVER,
                "escort": ESCORT,
                **({"planned_route": [list(point) for point in planned_route]} if planned_route else {}),
            }
        ],
    }
    created, _ = await waybills.create_waybill(
        session, principal=shipper.principal, data=msgspec.convert(request, WaybillCreate)
    )
    departed = {"event_type": "departed", "leg": 1, "event_time": departed_at.isoformat(), "source": "gnss"}
    await events.record_events(
        session,
        principal=carrier.principal,
        number=created.number,
        events=[msgspec.convert(departed, TransportEventCreate)],
    )
    return created.number


async def _store(session: AsyncSession, plate: str, fixes: Sequence[PositionFix]) -> None:
    reports = [
        PositionReport(plate=plate, time=f.recorded_at, lat=f.latitude, lon=f.longitude, speed=f.speed_kmh)
        for f in fixes
    ]
    await store_positions(session, reports, source="test:gnss")


async def _alerts(session: AsyncSession, plate: str) -> list[DgAlert]:
    rows = await session.scalars(
        sa.select(DgAlert).where(col(DgAlert.plate) == plate).order_by(col(DgAlert.started_at), col(DgAlert.kind))
    )
    return list(rows)


async def test_a_speeding_tanker_on_a_dangerous_goods_waybill_is_recorded_for_its_carrier(
    db: AsyncSession, shipper: Org, carrier: Org
) -> None:
    plate, start = _plate(), _start()
    number = await _petrol_waybill_under_way(db, shipper, carrier, plate, start)
    track = Track(GUANGSHEN[0], start=start, speed_kmh=95.0).drive(*GUANGSHEN[1:], speed_kmh=95.0)
    await _store(db, plate, track.fixes)

    run = await monitor_positions(db, now=track.last_at + timedelta(seconds=30))

    assert run.vehicles >= 1
    [alert] = await _alerts(db, plate)
    assert alert.kind == "speeding"
    assert alert.waybill_number == number
    assert alert.carrier_id == carrier.principal.organisation_id
    assert alert.threshold == 80.0


async def test_running_twice_does_not_duplicate_alerts(db: AsyncSession, shipper: Org, carrier: Org) -> None:
    plate, start = _plate(), _start()
    await _petrol_waybill_under_way(db, shipper, carrier, plate, start)
    track = Track(GUANGSHEN[0], start=start, speed_kmh=95.0).drive(*GUANGSHEN[1:], speed_kmh=95.0)
    await _store(db, plate, track.fixes)
    now = track.last_at + timedelta(seconds=30)

    await monitor_positions(db, now=now)
    first = [(a.id, a.dedupe_key) for a in await _alerts(db, plate)]
    await monitor_positions(db, now=now + timedelta(seconds=10))

    assert first
    assert [(a.id, a.dedupe_key) for a in await _alerts(db, plate)] == first


async def test_a_tanker_under_way_that_stops_reporting_raises_no_signal(
    db: AsyncSession, shipper: Org, carrier: Org
) -> None:
    plate, start = _plate(), _start()
    await _petrol_waybill_under_way(db, shipper, carrier, plate, start)
    track = Track(HUANGPU, start=start, speed_kmh=70.0).drive(*GUANGSHEN[1:], speed_kmh=70.0)
    await _store(db, plate, track.fixes)

    # Silent for 20 minutes: older than the "recent" positions, found through the leg under way.
    await monitor_positions(db, now=track.last_at + timedelta(minutes=20))

    [alert] = await _alerts(db, plate)
    assert (alert.kind, alert.severity) == ("no_signal", "warning")
    assert alert.carrier_id == carrier.principal.organisation_id


async def test_a_registered_tanker_moving_without_a_waybill_raises_no_waybill(db: AsyncSession, carrier: Org) -> None:
    plate, start = _plate(), _start()
    await _register(db, carrier, plate)
    track = Track(HUANGPU, start=start).stay(1500).drive(DONGGUAN, speed_kmh=60.0, fixes=20)
    await _store(db, plate, track.fixes)

    await monitor_positions(db, now=track.last_at + timedelta(seconds=30))

    [alert] = await _alerts(db, plate)
    assert (alert.kind, alert.waybill_number) == ("no_waybill", None)
    assert alert.carrier_id == carrier.principal.organisation_id


async def test_a_vehicle_without_dangerous_goods_is_left_alone(db: AsyncSession) -> None:
    plate, start = _plate(), _start()
    track = Track(GUANGSHEN[0], start=start, speed_kmh=110.0).drive(*GUANGSHEN[1:], speed_kmh=110.0)
    await _store(db, plate, track.fixes)

    await monitor_positions(db, now=track.last_at + timedelta(seconds=30))

    assert await _alerts(db, plate) == []


async def test_two_first_recordings_of_one_episode_at_once_leave_one_row(session_factory: Any) -> None:
    alert = speeding(plate=_plate())
    async with session_factory() as first, session_factory() as second:
        assert await service.record_alerts(first, [alert]) == (1, 0)
        # The second insert waits for the first transaction (row lock on PostgreSQL, write lock on SQLite).
        racing = asyncio.create_task(service.record_alerts(second, [alert]))
        await asyncio.sleep(0.2)
        await first.commit()
        assert await racing == (0, 1)
        await second.commit()
    async with session_factory() as session:
        rows = await _alerts(session, alert.plate)
        assert [row.dedupe_key for row in rows] == [alert.dedupe_key]
        await session.execute(sa.delete(DgAlert).where(col(DgAlert.plate) == alert.plate))
        await session.commit()


NORTHERN_DETOUR = (23.24, 113.62)
"""About 15 km north of the straight line from Huangpu to Dongguan."""


@pytest.mark.parametrize(("stored_route", "off_corridor"), [(True, False), (False, True)])
async def test_the_corridor_is_the_legs_stored_planned_route(
    db: AsyncSession, shipper: Org, carrier: Org, stored_route: bool, off_corridor: bool
) -> None:
    plate, start = _plate(), _start()
    route = (HUANGPU, NORTHERN_DETOUR, DONGGUAN)
    await _petrol_waybill_under_way(db, shipper, carrier, plate, start, planned_route=route if stored_route else None)
    track = Track(HUANGPU, start=start, speed_kmh=55.0).drive(NORTHERN_DETOUR, DONGGUAN, speed_kmh=55.0)
    await _store(db, plate, track.fixes)

    await monitor_positions(db, now=track.last_at + timedelta(seconds=30))

    kinds = {alert.kind for alert in await _alerts(db, plate)}
    assert ("off_corridor" in kinds) is off_corridor
