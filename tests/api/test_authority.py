"""Regulators and customs find active waybills by equipment; each access is logged for the shipper."""

from __future__ import annotations

import secrets
from typing import Any

from stdnum import iso6346

from tests.conftest import Org
from tests.factories import waybill_body, with_carrier

_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def new_equipment() -> dict[str, str]:
    """A tractor, trailer and container no other test uses."""
    tractor = "粤E" + "".join(secrets.choice(_PLATE_CHARS) for _ in range(5))
    trailer = "粤E" + "".join(secrets.choice("0123456789") for _ in range(4)) + "挂"
    owner = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + "U"
    serial = "".join(secrets.choice("0123456789") for _ in range(6))
    container = owner + serial + iso6346.calc_check_digit(owner + serial)
    return {"vehicle_plate": tractor, "trailer_plate": trailer, "container_number": container}


async def issue(client: Any, shipper: Org, equipment: dict[str, str], carrier: Org | None = None, **extra: Any) -> str:
    body = waybill_body(**extra)
    body["legs"][0]["equipment"] = dict(equipment)
    body["legs"][1]["equipment"] = {"container_number": equipment["container_number"]}
    if carrier is not None:
        body = with_carrier(body, 1, carrier.uscc)
    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


async def lookup(client: Any, org: Org, **params: str) -> Any:
    return await client.get("/v1/authority/waybills", params=params, headers=org.headers)


async def test_a_regulator_finds_the_active_waybill_by_plate_trailer_or_container(
    client: Any, make_org: Any, shipper: Org
) -> None:
    regulator = await make_org("regulator", name="广东省交通运输厅")
    equipment = new_equipment()
    active = await issue(client, shipper, equipment)
    await issue(client, shipper, equipment, draft=True)
    cancelled = await issue(client, shipper, equipment)
    await client.post(f"/v1/waybills/{cancelled}/cancel", json={"reason_code": "duplicate"}, headers=shipper.headers)

    for kind, value in equipment.items():
        found = await lookup(client, regulator, **{kind: value, "access_reason": "路面稽查"})
        assert found.status_code == 200, found.text
        body = found.json()
        assert (body["kind"], body["value"], body["truncated"]) == (kind, value, False)
        assert [item["number"] for item in body["items"]] == [active], kind
        assert body["items"][0]["shipper"]["uscc"] == shipper.uscc
        assert all(leg["equipment"][kind] == value for leg in body["items"][0]["legs"])


async def test_plates_are_normalised_before_the_lookup(client: Any, make_org: Any, shipper: Org) -> None:
    customs = await make_org("customs", places=["CNSHK"])
    equipment = new_equipment()
    number = await issue(client, shipper, equipment)
    plate = equipment["vehicle_plate"]

    found = await lookup(client, customs, vehicle_plate=f"{plate[:2]}·{plate[2:].lower()}")

    assert found.status_code == 200, found.text
    assert [item["number"] for item in found.json()["items"]] == [number]


async def test_exactly_one_valid_identifier_is_needed(client: Any, make_org: Any) -> None:
    regulator = await make_org("regulator")
    equipment = new_equipment()
    assert (await lookup(client, regulator)).status_code == 422
    assert (await lookup(client, regulator, **equipment)).status_code == 422
    wrong_digit = equipment["container_number"][:-1] + str((int(equipment["container_number"][-1]) + 1) % 10)
    refused = await lookup(client, regulator, container_number=wrong_digit)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "container_number"
    assert (await lookup(client, regulator, trailer_plate=equipment["vehicle_plate"])).status_code == 422
    assert (await lookup(client, regulator, vehicle_plate="粤E1", colour="blue")).status_code == 400


async def test_carriers_and_shippers_may_not_look_up(client: Any, make_org: Any, shipper: Org) -> None:
    carrier = await make_org("carrier")
    equipment = new_equipment()
    await issue(client, shipper, equipment, carrier=carrier)
    for org in (carrier, shipper):
        refused = await lookup(client, org, vehicle_plate=equipment["vehicle_plate"])
        assert refused.status_code == 403


async def test_each_access_is_in_the_shippers_access_log(client: Any, make_org: Any, shipper: Org) -> None:
    regulator = await make_org("regulator", name="广东省交通运输厅")
    customs = await make_org("customs", name="蛇口海关", places=["CNSHK"])
    equipment = new_equipment()
    number = await issue(client, shipper, equipment)

    await lookup(client, regulator, trailer_plate=equipment["trailer_plate"], access_reason="甩挂专项检查")
    await client.get(f"/v1/waybills/{number}", params={"access_reason": "查验"}, headers=customs.headers)

    log = await client.get(f"/v1/waybills/{number}/access-log", headers=shipper.headers)
    assert log.status_code == 200, log.text
    entries = log.json()["entries"]
    assert [(e["by"]["name"], e["by"]["uscc"], e["role"]) for e in entries] == [
        ("蛇口海关", customs.uscc, "customs"),
        ("广东省交通运输厅", regulator.uscc, "regulator"),
    ]
    lookup_entry = entries[1]
    assert lookup_entry["action"] == "lookup"
    assert lookup_entry["reason"] == "甩挂专项检查"
    assert lookup_entry["request"] == f"lookup by trailer_plate {equipment['trailer_plate']}"
    assert entries[0]["reason"] == "查验"
    assert entries[0]["at"] >= lookup_entry["at"]


async def test_the_access_log_is_the_shippers_alone(client: Any, make_org: Any, shipper: Org) -> None:
    carrier, stranger, regulator = await make_org("carrier"), await make_org("shipper"), await make_org("regulator")
    number = await issue(client, shipper, new_equipment(), carrier=carrier)
    path = f"/v1/waybills/{number}/access-log"

    assert (await client.get(path, headers=stranger.headers)).status_code == 404
    assert (await client.get(path, headers=carrier.headers)).status_code == 403
    assert (await client.get(path, headers=regulator.headers)).status_code == 403


async def test_the_access_log_pages_newest_first(client: Any, make_org: Any, shipper: Org) -> None:
    regulator = await make_org("regulator")
    equipment = new_equipment()
    number = await issue(client, shipper, equipment)
    for reason in ("第一次", "第二次", "第三次"):
        await lookup(client, regulator, container_number=equipment["container_number"], access_reason=reason)
    path = f"/v1/waybills/{number}/access-log"

    first = (await client.get(path, params={"limit": 2}, headers=shipper.headers)).json()
    rest = (await client.get(path, params={"before": first["next_before"]}, headers=shipper.headers)).json()

    assert [e["reason"] for e in first["entries"]] == ["第三次", "第二次"]
    assert [e["reason"] for e in rest["entries"]] == ["第一次"]
    assert rest["next_before"] is None
