"""The demo's dangerous-goods traffic: seeded tankers raise one alert of each kind at once, then keep moving."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from accounts import service as accounts
from accounts.schemas import OrganisationCreate, OrganisationRole
from api.demo_dangerous_goods import DangerousGoodsTraffic, demo_thresholds, seed_dangerous_goods_shipments
from core.db import utcnow
from monitoring.models import DgAlert
from tests.conftest import settings_for
from tests.factories import new_uscc
from tracking.models import VehiclePosition

DEMO_PLATES = [f"粤E6D30{n}" for n in range(1, 8)]


@pytest.fixture(scope="session")
async def shipper_uscc(session_factory: Any) -> str:
    """The demo's dangerous-goods waybills, issued once per database by a fresh shipper on a fresh carrier.

    Fresh organisations, not the demo's own: other tests use the demo road carrier's USCC as a carrier
    that is not on the platform.
    """
    shipper = new_uscc("441300")
    async with session_factory() as session:
        carrier = OrganisationCreate(name="佛山顺通危险品运输有限公司", role=OrganisationRole.CARRIER, uscc=new_uscc())
        await accounts.create_organisation(session, data=carrier)
        await seed_dangerous_goods_shipments(session, carrier_uscc=carrier.uscc, shipper_uscc=shipper)
        await session.commit()
    return shipper


async def test_the_first_monitor_run_raises_one_alert_of_each_kind(
    shipper_uscc: str, database_url: str, session_factory: Any
) -> None:
    traffic = DangerousGoodsTraffic(settings_for(database_url), shipper_uscc=shipper_uscc)

    run = await traffic.prepare()

    assert run.vehicles == 7
    async with session_factory() as session:
        rows = await session.execute(
            sa.select(col(DgAlert.plate), col(DgAlert.kind), col(DgAlert.carrier_id)).where(
                col(DgAlert.plate).in_(DEMO_PLATES), col(DgAlert.last_seen_at) >= traffic.start
            )
        )
        found = {(plate, kind) for plate, kind, carrier_id in rows if carrier_id is not None}
    assert found == {
        ("粤E6D301", "speeding"),
        ("粤E6D302", "restricted_zone"),
        ("粤E6D303", "stationary"),
        ("粤E6D304", "off_corridor"),
        ("粤E6D305", "no_signal"),
        ("粤E6D307", "no_waybill"),
    }


async def test_live_traffic_posts_positions_until_closed(
    shipper_uscc: str, database_url: str, session_factory: Any
) -> None:
    # Started a few seconds ago: the first live fix comes after the last backfilled one.
    traffic = DangerousGoodsTraffic(
        settings_for(database_url), start=utcnow() - timedelta(seconds=3), shipper_uscc=shipper_uscc
    )
    await traffic.prepare()

    traffic.start_live()
    deadline = time.monotonic() + 20
    posted = 0
    while posted == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        async with session_factory() as session:
            posted = await session.scalar(
                sa.select(sa.func.count())
                .select_from(VehiclePosition)
                .where(col(VehiclePosition.plate) == "粤E6D306", col(VehiclePosition.recorded_at) > traffic.start)
            )
    traffic.close()

    assert posted
    assert traffic._thread is not None
    assert not traffic._thread.is_alive()


def test_the_demo_routes_expressways_extend_the_sample() -> None:
    names = {expressway.name for expressway in demo_thresholds().expressways}
    assert {"G15 沈海高速 (深汕段)", "S3 广深沿江高速", "G4 京港澳高速 (广深段)"} <= names
