"""A dangerous-goods road leg must name a vehicle, driver and escort the carrier's registry backs."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Org
from tests.factories import (
    PETROL,
    SULPHURIC_ACID,
    carrier_permit,
    dangerous_waybill_body,
    shifted,
    waybill_body,
    with_carrier,
)
from waybill.document import DISPLAY_ZONE

VEHICLES = "/v1/dangerous-goods/vehicles"
PEOPLE = "/v1/dangerous-goods/people"
PERMIT = "/v1/dangerous-goods/carrier-permit"
PLATE = "粤E3K721"  # leg 1 of the documented example
DRIVER = {"name": "黄志明", "phone": "+86 138 2299 4410", "certificate_number": "441900198507121234"}
ESCORT = {"name": "陈丽华", "certificate_number": "440604199103155528"}


@pytest.fixture
async def carrier(make_org: Any, client: Any) -> Org:
    """A carrier on the platform with its permit, a registered tractor (classes 3 and 8), driver and escort."""
    org = await permitted_carrier(make_org, client)
    await _register(client, org, VEHICLES, vehicle())
    await _register(client, org, PEOPLE, person("driver", DRIVER))
    await _register(client, org, PEOPLE, person("escort", ESCORT))
    return org


async def permitted_carrier(make_org: Any, client: Any, **permit: Any) -> Org:
    """A carrier on the platform whose road transport permit covers classes 2, 3 and 8."""
    org: Org = await make_org("carrier", name="佛山顺通危险品运输有限公司")
    response = await client.put(PERMIT, json=carrier_permit(**permit), headers=org.headers)
    assert response.status_code == 200, response.text
    return org


def vehicle(**changes: Any) -> dict[str, Any]:
    return {
        "plate": PLATE,
        "transport_certificate_number": "粤交运管佛字440604012345号",
        "permitted_classes": ["3", "8"],
        "permit_expires_on": "2030-06-30",
        **changes,
    }


def person(role: str, who: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "role": role,
        "name": who["name"],
        "certificate_number": who["certificate_number"],
        "qualification_type": "道路危险货物运输驾驶员" if role == "driver" else "道路危险货物运输押运人员",
        "qualified_classes": ["3", "8"],
        "expires_on": "2030-03-31",
        **changes,
    }


async def _register(client: Any, org: Org, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=org.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def dangerous_waybill(carrier: Org, cargo: list[Any] | None = None, **leg: Any) -> dict[str, Any]:
    """The documented example carrying petrol, leg 1 carried by ``carrier`` with its driver and escort."""
    body = with_carrier(dangerous_waybill_body(cargo), 1, carrier.uscc)
    body["legs"][0].update({"driver": DRIVER, "escort": ESCORT, **leg})
    return body


def _a_month_ahead() -> tuple[timedelta, date]:
    """How far to move the documented example (``shifted``) so that leg 1 departs a month from today; that Beijing date.

    "Expires before the leg departs" (rather than "expired") needs a departure after today.
    """
    departure = datetime.fromisoformat(dangerous_waybill_body()["legs"][0]["planned_departure"])
    by = (date.today() + timedelta(days=30)) - departure.date()
    return by, (departure + by).astimezone(DISPLAY_ZONE).date()


def _refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == field, problem
    detail: str = problem["detail"]
    return detail


async def test_a_leg_with_a_registered_vehicle_driver_and_escort_is_issued(
    client: Any, shipper: Org, carrier: Org
) -> None:
    response = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)

    assert response.status_code == 201, response.text
    leg = response.json()["legs"][0]
    assert leg["driver"]["certificate_number"] == DRIVER["certificate_number"]
    assert leg["escort"] == {"name": ESCORT["name"], "phone": None, "certificate_number": ESCORT["certificate_number"]}
    stored = (await client.get(f"/v1/waybills/{response.json()['number']}", headers=shipper.headers)).json()
    assert stored["legs"][0]["escort"]["certificate_number"] == ESCORT["certificate_number"]


async def test_an_expired_permit_is_refused_naming_the_vehicle(client: Any, shipper: Org, make_org: Any) -> None:
    carrier = await permitted_carrier(make_org, client)
    await _register(client, carrier, VEHICLES, vehicle(permit_expires_on="2026-10-01"))
    await _register(client, carrier, PEOPLE, person("driver", DRIVER))
    await _register(client, carrier, PEOPLE, person("escort", ESCORT))

    response = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)

    assert "permit expired on 2026-10-01" in _refused(response, "legs[0].equipment.vehicle_plate")


async def test_a_permit_ending_before_the_planned_departure_is_refused(
    client: Any, shipper: Org, make_org: Any
) -> None:
    by, departs = _a_month_ahead()
    eve = departs - timedelta(days=1)
    carrier = await permitted_carrier(make_org, client)
    await _register(client, carrier, VEHICLES, vehicle(permit_expires_on=eve.isoformat()))

    response = await client.post("/v1/waybills", json=shifted(dangerous_waybill(carrier), by), headers=shipper.headers)

    detail = _refused(response, "legs[0].equipment.vehicle_plate")
    assert f"permit expires on {eve}, before the leg departs on {departs}" in detail


async def test_an_unregistered_driver_is_refused(client: Any, shipper: Org, carrier: Org) -> None:
    stranger = {"name": "王五", "certificate_number": "440101199001011234"}

    response = await client.post(
        "/v1/waybills", json=dangerous_waybill(carrier, driver=stranger), headers=shipper.headers
    )

    assert "not registered" in _refused(response, "legs[0].driver.certificate_number")


async def test_a_driver_without_a_certificate_number_is_refused(client: Any, shipper: Org, carrier: Org) -> None:
    response = await client.post(
        "/v1/waybills", json=dangerous_waybill(carrier, driver={"name": "黄志明"}), headers=shipper.headers
    )

    _refused(response, "legs[0].driver.certificate_number")


async def test_an_escort_registered_only_as_a_driver_is_refused(client: Any, shipper: Org, carrier: Org) -> None:
    response = await client.post(
        "/v1/waybills", json=dangerous_waybill(carrier, escort=DRIVER), headers=shipper.headers
    )

    assert "not registered" in _refused(response, "legs[0].escort.certificate_number")


async def test_a_vehicle_without_an_escort_is_refused(client: Any, shipper: Org, carrier: Org) -> None:
    body = dangerous_waybill(carrier)
    del body["legs"][0]["escort"]

    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)

    assert "escort" in _refused(response, "legs[0].escort")


async def test_a_class_the_permit_does_not_cover_is_refused(client: Any, shipper: Org, make_org: Any) -> None:
    carrier = await permitted_carrier(make_org, client)
    await _register(client, carrier, VEHICLES, vehicle(permitted_classes=["3"]))

    response = await client.post(
        "/v1/waybills", json=dangerous_waybill(carrier, cargo=[PETROL, SULPHURIC_ACID]), headers=shipper.headers
    )

    assert "not qualified for class 8" in _refused(response, "legs[0].equipment.vehicle_plate")


async def test_an_escort_not_qualified_for_the_class_is_refused(client: Any, shipper: Org, make_org: Any) -> None:
    carrier = await permitted_carrier(make_org, client)
    await _register(client, carrier, VEHICLES, vehicle())
    await _register(client, carrier, PEOPLE, person("driver", DRIVER))
    await _register(client, carrier, PEOPLE, person("escort", ESCORT, qualified_classes=["8"]))

    response = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)

    assert "not qualified for class 3" in _refused(response, "legs[0].escort.certificate_number")


async def test_an_expired_driver_qualification_is_refused(client: Any, shipper: Org, make_org: Any) -> None:
    carrier = await permitted_carrier(make_org, client)
    await _register(client, carrier, VEHICLES, vehicle())
    await _register(client, carrier, PEOPLE, person("driver", DRIVER, expires_on="2025-01-31"))
    await _register(client, carrier, PEOPLE, person("escort", ESCORT))

    response = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)

    assert "qualification expired on 2025-01-31" in _refused(response, "legs[0].driver.certificate_number")


async def test_another_carriers_registry_does_not_count(client: Any, shipper: Org, carrier: Org, make_org: Any) -> None:
    unregistered = await permitted_carrier(make_org, client)

    response = await client.post("/v1/waybills", json=dangerous_waybill(unregistered), headers=shipper.headers)

    assert "not registered" in _refused(response, "legs[0].equipment.vehicle_plate")


async def test_a_carrier_not_on_the_platform_is_not_checked(client: Any, shipper: Org) -> None:
    body = dangerous_waybill_body()  # leg 1's carrier has no organisation on the platform

    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)

    assert response.status_code == 201, response.text


async def test_a_waybill_without_dangerous_goods_is_not_checked(client: Any, shipper: Org, make_org: Any) -> None:
    unregistered = await make_org("carrier")
    body = with_carrier(waybill_body(), 1, unregistered.uscc)

    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)

    assert response.status_code == 201, response.text


async def test_changing_a_leg_to_an_unqualified_vehicle_is_refused_and_the_leg_unchanged(
    client: Any, shipper: Org, carrier: Org
) -> None:
    await _register(client, carrier, VEHICLES, vehicle(plate="粤E8K725", permitted_classes=["8"]))
    created = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)
    number = created.json()["number"]
    equipment = copy.deepcopy(created.json()["legs"][0]["equipment"])

    response = await client.patch(
        f"/v1/waybills/{number}/legs/1",
        json={"equipment": {**equipment, "vehicle_plate": "粤E8K725"}},
        headers=carrier.headers,
    )

    assert "not qualified for class 3" in _refused(response, "equipment.vehicle_plate")
    leg = (await client.get(f"/v1/waybills/{number}", headers=shipper.headers)).json()["legs"][0]
    assert leg["equipment"]["vehicle_plate"] == PLATE


async def test_removing_the_escort_of_a_leg_is_refused_and_a_valid_change_accepted(
    client: Any, shipper: Org, carrier: Org
) -> None:
    await _register(
        client, carrier, PEOPLE, person("escort", {"name": "赵敏", "certificate_number": "440606199505052222"})
    )
    created = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)
    number = created.json()["number"]

    removed = await client.patch(f"/v1/waybills/{number}/legs/1", json={"escort": None}, headers=shipper.headers)
    replaced = await client.patch(
        f"/v1/waybills/{number}/legs/1",
        json={"escort": {"name": "赵敏", "certificate_number": "440606199505052222"}},
        headers=carrier.headers,
    )

    _refused(removed, "escort")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["legs"][0]["escort"]["name"] == "赵敏"


# --- the carrier's road transport permit (道路运输经营许可证) ---------------------------------------


async def test_a_carrier_without_a_permit_is_refused_naming_the_leg_carrier(
    client: Any, shipper: Org, make_org: Any
) -> None:
    unpermitted = await make_org("carrier", name="佛山无证运输有限公司")
    body = with_carrier(dangerous_waybill_body(), 1, unpermitted.uscc)

    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)

    detail = _refused(response, "legs[0].carrier")
    assert "has no road transport permit (道路运输经营许可证)" in detail


async def test_an_expired_carrier_permit_is_refused(client: Any, shipper: Org, make_org: Any) -> None:
    carrier = await permitted_carrier(make_org, client, expires_on="2026-06-30")

    response = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)

    assert "permit expired on 2026-06-30" in _refused(response, "legs[0].carrier")


async def test_a_carrier_permit_ending_before_the_planned_departure_is_refused(
    client: Any, shipper: Org, make_org: Any
) -> None:
    by, departs = _a_month_ahead()
    eve = departs - timedelta(days=1)
    carrier = await permitted_carrier(make_org, client, expires_on=eve.isoformat())

    response = await client.post("/v1/waybills", json=shifted(dangerous_waybill(carrier), by), headers=shipper.headers)

    detail = _refused(response, "legs[0].carrier")
    assert f"permit expires on {eve}, before the leg departs on {departs}" in detail


async def test_a_carrier_permit_valid_on_the_local_departure_date_is_accepted(
    client: Any, shipper: Org, make_org: Any
) -> None:
    """The example's leg 1 departs 2026-12-03 13:00 Beijing time (05:00 UTC): a permit to that day is enough."""
    carrier = await permitted_carrier(make_org, client, expires_on="2026-12-03")
    await _register(client, carrier, VEHICLES, vehicle())
    await _register(client, carrier, PEOPLE, person("driver", DRIVER))
    await _register(client, carrier, PEOPLE, person("escort", ESCORT))

    response = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)

    assert response.status_code == 201, response.text


async def test_a_class_outside_the_carriers_business_scope_is_refused(client: Any, shipper: Org, make_org: Any) -> None:
    carrier = await permitted_carrier(make_org, client, permitted_classes=["3"])
    body = with_carrier(dangerous_waybill_body([PETROL, SULPHURIC_ACID]), 1, carrier.uscc)

    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)

    assert "business scope does not cover class 8" in _refused(response, "legs[0].carrier")


async def test_changing_a_leg_to_a_carrier_without_a_permit_is_refused(
    client: Any, shipper: Org, carrier: Org, make_org: Any
) -> None:
    unpermitted = await make_org("carrier", name="佛山无证运输有限公司")
    created = await client.post("/v1/waybills", json=dangerous_waybill(carrier), headers=shipper.headers)
    number = created.json()["number"]

    response = await client.patch(
        f"/v1/waybills/{number}/legs/1",
        json={"carrier": {"uscc": unpermitted.uscc, "name": "佛山无证运输有限公司"}},
        headers=shipper.headers,
    )

    assert "has no road transport permit" in _refused(response, "carrier")


# --- issuing a draft checks the registry again -------------------------------------------------------


async def _draft(client: Any, shipper: Org, carrier: Org) -> str:
    created = await client.post(
        "/v1/waybills", json={**dangerous_waybill(carrier), "draft": True}, headers=shipper.headers
    )
    assert created.status_code == 201, created.text
    number: str = created.json()["number"]
    return number


async def test_a_draft_whose_escort_qualification_has_lapsed_is_not_issued(
    client: Any, shipper: Org, carrier: Org
) -> None:
    number = await _draft(client, shipper, carrier)
    people = (await client.get(PEOPLE, headers=carrier.headers)).json()["items"]
    escort = next(p for p in people if p["role"] == "escort")
    await client.patch(f"{PEOPLE}/{escort['id']}", json={"expires_on": "2026-01-31"}, headers=carrier.headers)

    response = await client.post(f"/v1/waybills/{number}/issue", headers=shipper.headers)

    assert "qualification expired on 2026-01-31" in _refused(response, "legs[0].escort.certificate_number")
    draft = (await client.get(f"/v1/waybills/{number}", headers=shipper.headers)).json()
    assert draft["status"] == "draft"


async def test_a_draft_whose_carrier_permit_has_lapsed_is_not_issued(client: Any, shipper: Org, carrier: Org) -> None:
    number = await _draft(client, shipper, carrier)
    await client.put(PERMIT, json=carrier_permit(expires_on="2026-11-01"), headers=carrier.headers)

    response = await client.post(f"/v1/waybills/{number}/issue", headers=shipper.headers)

    assert "permit expired on 2026-11-01" in _refused(response, "legs[0].carrier")


async def test_a_draft_whose_registry_still_backs_it_is_issued(client: Any, shipper: Org, carrier: Org) -> None:
    number = await _draft(client, shipper, carrier)

    response = await client.post(f"/v1/waybills/{number}/issue", headers=shipper.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "issued"
