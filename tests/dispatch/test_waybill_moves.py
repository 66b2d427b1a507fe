"""The carrier's open road legs of waybills become haul moves, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.examples import CREATE_DISPATCH_PLACE_EXAMPLES
from dispatch import service
from dispatch.schemas import PlaceCreate, TrailerCreate
from dispatch.solver.problem import MoveKind
from dispatch.waybill_moves import moves_from_waybills
from tests.conftest import Org
from tests.factories import waybill_body, with_carrier
from waybill import service as waybills
from waybill.schemas import WaybillCreate

_, FACTORY, _ = CREATE_DISPATCH_PLACE_EXAMPLES.values()
"""At the coordinates of the example waybill's pickup (the Shunde factory), without a UN/LOCODE."""
RIVER_TERMINAL = {
    "code": "BEIJIAO-PORT",
    "name": "佛山北滘港码头",
    "kind": "port_terminal",
    "latitude": 22.95,
    "longitude": 113.30,
    "locode": "CNFOS",
}
"""Ten kilometres from the waybill's Beijiao terminal but with its UN/LOCODE."""


@pytest.fixture
async def orgs(make_org: Any) -> tuple[Org, Org]:
    """The shipper and the carrier, made before the test's session writes (SQLite has one writer)."""
    return await make_org("shipper"), await make_org("carrier", name="佛山顺通甩挂运输有限公司")


async def issue(db: AsyncSession, orgs: tuple[Org, Org], *, trailer_plate: str = "粤E2386挂") -> str:
    shipper, carrier = orgs
    body = with_carrier(waybill_body(), 1, carrier.uscc, name="佛山顺通甩挂运输有限公司")
    body["legs"][0]["equipment"]["trailer_plate"] = trailer_plate
    created, _ = await waybills.create_waybill(
        db, principal=shipper.principal, data=msgspec.convert(body, WaybillCreate)
    )
    return created.number


@pytest.fixture
async def fleet(db: AsyncSession, orgs: tuple[Org, Org]) -> dict[str, int]:
    carrier_id = orgs[1].principal.organisation_id
    ids = {}
    for body in (FACTORY, RIVER_TERMINAL):
        place = await service.create_place(db, carrier_id=carrier_id, data=msgspec.convert(body, PlaceCreate))
        ids[place.code] = place.id
    trailer = {"plate": "粤E2386挂", "type": "container_chassis", "place_id": ids["SD-BEIJIAO-3"], "loaded": True}
    ids["trailer"] = (
        await service.create_trailer(db, carrier_id=carrier_id, data=msgspec.convert(trailer, TrailerCreate))
    ).id
    return ids


async def test_the_carriers_road_leg_becomes_one_haul_move(
    db: AsyncSession, orgs: tuple[Org, Org], fleet: dict[str, int]
) -> None:
    number = await issue(db, orgs)

    result = await moves_from_waybills(db, principal=orgs[1].principal)

    assert result.skipped == []
    [move] = result.created
    assert (move.kind, move.waybill_number, move.leg_index) == (MoveKind.HAUL, number, 1)
    assert (move.origin_id, move.destination_id, move.trailer_id) == (
        fleet["SD-BEIJIAO-3"],
        fleet["BEIJIAO-PORT"],
        fleet["trailer"],
    )
    assert (move.ready_at, move.deliver_by) == (
        datetime(2026, 12, 3, 5, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 6, 0, tzinfo=UTC),
    )


async def test_running_it_again_makes_no_second_move(
    db: AsyncSession, orgs: tuple[Org, Org], fleet: dict[str, int]
) -> None:
    await issue(db, orgs)
    first = await moves_from_waybills(db, principal=orgs[1].principal)

    again = await moves_from_waybills(db, principal=orgs[1].principal)

    assert len(first.created) == 1
    assert (again.created, again.skipped) == ([], [])


async def test_a_leg_whose_trailer_the_carrier_lacks_is_skipped_with_the_reason(
    db: AsyncSession, orgs: tuple[Org, Org], fleet: dict[str, int]
) -> None:
    number = await issue(db, orgs, trailer_plate="粤E7777挂")

    result = await moves_from_waybills(db, principal=orgs[1].principal)

    assert result.created == []
    [skipped] = result.skipped
    assert (skipped.waybill_number, skipped.leg_index) == (number, 1)
    assert "粤E7777挂" in skipped.reason


async def test_a_leg_far_from_every_place_is_skipped(db: AsyncSession, orgs: tuple[Org, Org]) -> None:
    carrier_id = orgs[1].principal.organisation_id
    await service.create_place(
        db, carrier_id=carrier_id, data=msgspec.convert({**FACTORY, "latitude": 23.2}, PlaceCreate)
    )
    await issue(db, orgs)

    result = await moves_from_waybills(db, principal=orgs[1].principal)

    assert result.created == []
    assert "within 3 km" in result.skipped[0].reason
