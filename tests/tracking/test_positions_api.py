"""POST /v1/positions: carriers' GNSS fixes, stored once each, in the day's partition on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from tracking.models import VehiclePosition
from tracking.service import partition_name


def fixes(plate: str, start: datetime, count: int) -> list[dict[str, Any]]:
    return [
        {
            "plate": plate,
            "time": (start + timedelta(seconds=30 * i)).isoformat(),
            "lat": 22.93 + i / 1000,
            "lon": 113.21 + i / 1000,
            "speed": 55.0,
            "heading": 70,
        }
        for i in range(count)
    ]


def new_plate() -> str:
    return "粤E" + uuid.uuid4().hex[:5].upper()


async def test_a_carrier_reports_positions_and_a_batch_sent_again_is_not_stored_twice(
    client: Any, make_org: Any, session_factory: Any, backend: str
) -> None:
    carrier = await make_org("carrier")
    plate = new_plate()
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body = {"positions": fixes(plate, start, 20)}

    first = await client.post("/v1/positions", json=body, headers=carrier.headers)
    again = await client.post("/v1/positions", json=body, headers=carrier.headers)

    assert first.status_code == 200, first.text
    assert first.json() == {"received": 20, "stored": 20}
    assert again.json() == {"received": 20, "stored": 0}
    async with session_factory() as session:
        rows = list(
            await session.scalars(
                sa.select(VehiclePosition)
                .where(col(VehiclePosition.plate) == plate)
                .order_by(col(VehiclePosition.recorded_at))
            )
        )
        assert len(rows) == 20
        assert rows[0].recorded_at == start
        assert rows[0].source == f"api:{carrier.uscc}"
        assert rows[0].speed_kmh == 55.0
        if backend == "postgresql":
            day_rows = await session.scalar(
                sa.text(f"SELECT count(*) FROM {partition_name(start.date())} WHERE plate = :plate"),
                {"plate": plate},
            )
            assert day_rows == 20  # in the day's own partition, not the default one


async def test_a_batch_spanning_midnight_lands_in_two_day_partitions(
    client: Any, make_org: Any, session_factory: Any, backend: str
) -> None:
    carrier = await make_org("carrier")
    plate = new_plate()
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    body = {"positions": fixes(plate, midnight - timedelta(minutes=5), 20)}

    response = await client.post("/v1/positions", json=body, headers=carrier.headers)

    assert response.json()["stored"] == 20
    if backend == "postgresql":
        async with session_factory() as session:
            counts = [
                await session.scalar(
                    sa.text(f"SELECT count(*) FROM {partition_name(day)} WHERE plate = :plate"), {"plate": plate}
                )
                for day in ((midnight - timedelta(days=1)).date(), midnight.date())
            ]
        assert counts == [10, 10]


async def test_positions_in_the_future_or_too_old_are_refused_naming_the_fix(client: Any, make_org: Any) -> None:
    carrier = await make_org("carrier")
    now = datetime.now(UTC)
    future = fixes(new_plate(), now - timedelta(minutes=1), 1) + fixes(new_plate(), now + timedelta(hours=1), 1)
    old = fixes(new_plate(), now - timedelta(days=8), 1)

    ahead = await client.post("/v1/positions", json={"positions": future}, headers=carrier.headers)
    stale = await client.post("/v1/positions", json={"positions": old}, headers=carrier.headers)

    assert ahead.status_code == 422
    assert ahead.headers["content-type"].startswith("application/problem+json")
    assert ahead.json()["errors"][0]["field"] == "positions[1].time"
    assert stale.status_code == 422
    assert stale.json()["errors"][0]["field"] == "positions[0].time"


async def test_bad_positions_are_refused_with_a_problem(client: Any, make_org: Any) -> None:
    carrier = await make_org("carrier")
    now = datetime.now(UTC).isoformat()

    outside = await client.post(
        "/v1/positions",
        json={"positions": [{"plate": "粤E1", "time": now, "lat": 95, "lon": 113}]},
        headers=carrier.headers,
    )
    naive = await client.post(
        "/v1/positions",
        json={"positions": [{"plate": "粤E12345", "time": "2026-11-21T10:00:00", "lat": 22, "lon": 113}]},
        headers=carrier.headers,
    )
    empty = await client.post("/v1/positions", json={"positions": []}, headers=carrier.headers)

    assert {outside.status_code, naive.status_code, empty.status_code} <= {400, 422}
    assert all(r.headers["content-type"].startswith("application/problem+json") for r in (outside, naive, empty))


async def test_only_carriers_report_positions(client: Any, shipper: Any) -> None:
    body = {"positions": fixes(new_plate(), datetime.now(UTC) - timedelta(minutes=5), 1)}

    response = await client.post("/v1/positions", json=body, headers=shipper.headers)
    anonymous = await client.post("/v1/positions", json=body)

    assert response.status_code == 403
    assert anonymous.status_code == 401
