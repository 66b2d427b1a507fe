"""A leg's planned route: given when the waybill is issued or by the leg's carrier later, read back as given."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org
from tests.factories import waybill_body

# Shunde Beijiao to the Beijiao port along the 105 national road: a few points of the road.
ROUTE = [[22.9231, 113.2185], [22.9112, 113.2260], [22.8980, 113.2331], [22.8890, 113.2402]]


async def _issue(client: Any, shipper: Org, **leg: Any) -> Any:
    body = waybill_body()
    body["legs"][0].update(leg)
    return await client.post("/v1/waybills", json=body, headers=shipper.headers)


async def test_the_planned_route_is_kept_with_the_leg(client: Any, shipper: Org) -> None:
    created = await _issue(client, shipper, planned_route=ROUTE)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert created.json()["legs"][0]["planned_route"] == ROUTE
    read = await client.get(f"/v1/waybills/{number}", headers=shipper.headers)
    assert read.json()["legs"][0]["planned_route"] == ROUTE
    assert read.json()["legs"][1]["planned_route"] is None


async def test_a_route_of_one_point_or_off_the_globe_is_refused(client: Any, shipper: Org) -> None:
    for route in ([[22.9, 113.2]], [[22.9, 113.2], [95.0, 113.2]], [[22.9, 113.2, 7.0], [22.8, 113.3]]):
        response = await _issue(client, shipper, planned_route=route)
        assert response.status_code == 400, route
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_route_is_changed_on_the_leg_and_the_change_recorded(client: Any, shipper: Org) -> None:
    number = (await _issue(client, shipper)).json()["number"]
    changed = await client.patch(
        f"/v1/waybills/{number}/legs/1", json={"planned_route": ROUTE, "note": "走105国道"}, headers=shipper.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["legs"][0]["planned_route"] == ROUTE
    changes = (await client.get(f"/v1/waybills/{number}/changes", headers=shipper.headers)).json()["changes"]
    detail = changes[-1]["detail"]
    assert "4 points" in str(detail)
    again = await client.patch(f"/v1/waybills/{number}/legs/1", json={"planned_route": ROUTE}, headers=shipper.headers)
    assert again.status_code == 422
