"""A carrier's dangerous-goods registry: vehicles with permits, drivers and escorts with qualifications."""

from __future__ import annotations

from typing import Any

import pytest

from api.dg_registry import CREATE_DG_PERSON_EXAMPLE, CREATE_DG_VEHICLE_EXAMPLE, DG_CARRIER_PERMIT_EXAMPLE
from tests.conftest import Org

VEHICLES = "/v1/dangerous-goods/vehicles"
PEOPLE = "/v1/dangerous-goods/people"
PERMIT = "/v1/dangerous-goods/carrier-permit"


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    """A carrier of dangerous goods in Foshan."""
    return await make_org("carrier", name="佛山南海危险品运输有限公司")


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error.get("field") or error.get("key") for error in problem.get("errors", [])]


async def test_carrier_registers_reads_changes_and_removes_a_vehicle(client: Any, carrier: Org) -> None:
    created = await client.post(VEHICLES, json=CREATE_DG_VEHICLE_EXAMPLE, headers=carrier.headers)
    assert created.status_code == 201, created.text
    vehicle = created.json()
    assert created.headers["location"] == f"{VEHICLES}/{vehicle['id']}"
    assert vehicle["plate"] == "粤E7K724"
    assert vehicle["permitted_classes"] == ["2", "3", "8"]
    assert vehicle["permit_expires_on"] == "2027-06-30"

    read = await client.get(f"{VEHICLES}/{vehicle['id']}", headers=carrier.headers)
    assert read.json() == vehicle

    changed = await client.patch(
        f"{VEHICLES}/{vehicle['id']}",
        json={"permit_expires_on": "2028-06-30", "tank_allowed": True},
        headers=carrier.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["permit_expires_on"] == "2028-06-30"
    assert changed.json()["tank_allowed"] is True
    assert changed.json()["transport_certificate_number"] == vehicle["transport_certificate_number"]

    removed = await client.delete(f"{VEHICLES}/{vehicle['id']}", headers=carrier.headers)
    assert removed.status_code == 204
    _problem(await client.get(f"{VEHICLES}/{vehicle['id']}", headers=carrier.headers), 404)


async def test_carrier_registers_a_driver_and_an_escort(client: Any, carrier: Org) -> None:
    driver = await client.post(PEOPLE, json=CREATE_DG_PERSON_EXAMPLE, headers=carrier.headers)
    escort = await client.post(
        PEOPLE,
        json={**CREATE_DG_PERSON_EXAMPLE, "role": "escort", "name": "陈丽华", "qualification_type": "押运人员"},
        headers=carrier.headers,
    )
    assert driver.status_code == 201, driver.text
    assert escort.status_code == 201, escort.text  # the same certificate number in another role
    assert driver.json()["role"] == "driver"
    assert escort.json()["role"] == "escort"

    cleared = await client.patch(
        f"{PEOPLE}/{driver.json()['id']}", json={"phone": None, "expires_on": "2030-03-31"}, headers=carrier.headers
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["phone"] is None
    assert cleared.json()["expires_on"] == "2030-03-31"
    assert (await client.delete(f"{PEOPLE}/{escort.json()['id']}", headers=carrier.headers)).status_code == 204


async def test_lists_are_paged_with_a_cursor(client: Any, carrier: Org) -> None:
    for plate in ("粤E7K724", "粤E8K725", "粤E5K728"):
        response = await client.post(
            VEHICLES, json={**CREATE_DG_VEHICLE_EXAMPLE, "plate": plate}, headers=carrier.headers
        )
        assert response.status_code == 201, response.text

    first = (await client.get(VEHICLES, params={"limit": 2}, headers=carrier.headers)).json()
    second = (
        await client.get(VEHICLES, params={"limit": 2, "cursor": first["next_cursor"]}, headers=carrier.headers)
    ).json()

    assert [v["plate"] for v in first["items"]] == ["粤E7K724", "粤E8K725"]
    assert [v["plate"] for v in second["items"]] == ["粤E5K728"]
    assert second["next_cursor"] is None
    _problem(await client.get(VEHICLES, params={"cursor": "nonsense!"}, headers=carrier.headers), 422)


async def test_another_carriers_records_are_not_found(client: Any, carrier: Org, make_org: Any) -> None:
    other = await make_org("carrier")
    vehicle = (await client.post(VEHICLES, json=CREATE_DG_VEHICLE_EXAMPLE, headers=carrier.headers)).json()
    person = (await client.post(PEOPLE, json=CREATE_DG_PERSON_EXAMPLE, headers=carrier.headers)).json()

    _problem(await client.get(f"{VEHICLES}/{vehicle['id']}", headers=other.headers), 404)
    _problem(await client.patch(f"{PEOPLE}/{person['id']}", json={"name": "王五"}, headers=other.headers), 404)
    _problem(await client.delete(f"{PEOPLE}/{person['id']}", headers=other.headers), 404)
    assert (await client.get(VEHICLES, headers=other.headers)).json()["items"] == []
    # the same plate is free for another carrier
    assert (await client.post(VEHICLES, json=CREATE_DG_VEHICLE_EXAMPLE, headers=other.headers)).status_code == 201


@pytest.mark.parametrize("role", ["shipper", "regulator", "port"])
async def test_other_roles_are_forbidden(client: Any, make_org: Any, role: str) -> None:
    org = await make_org(role)

    _problem(await client.get(VEHICLES, headers=org.headers), 403)
    _problem(await client.post(PEOPLE, json=CREATE_DG_PERSON_EXAMPLE, headers=org.headers), 403)


async def test_a_duplicate_plate_or_certificate_is_a_conflict(client: Any, carrier: Org) -> None:
    await client.post(VEHICLES, json=CREATE_DG_VEHICLE_EXAMPLE, headers=carrier.headers)
    await client.post(PEOPLE, json=CREATE_DG_PERSON_EXAMPLE, headers=carrier.headers)
    other = (
        await client.post(VEHICLES, json={**CREATE_DG_VEHICLE_EXAMPLE, "plate": "粤E8K725"}, headers=carrier.headers)
    ).json()

    plate = _problem(await client.post(VEHICLES, json=CREATE_DG_VEHICLE_EXAMPLE, headers=carrier.headers), 409)
    renamed = _problem(
        await client.patch(f"{VEHICLES}/{other['id']}", json={"plate": "粤E7K724"}, headers=carrier.headers), 409
    )
    certificate = _problem(
        await client.post(PEOPLE, json={**CREATE_DG_PERSON_EXAMPLE, "name": "李四"}, headers=carrier.headers), 409
    )

    assert _fields(plate) == ["plate"]
    assert _fields(renamed) == ["plate"]
    assert _fields(certificate) == ["certificate_number"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plate": "ABC123"}, "plate"),
        ({"transport_certificate_number": "   "}, "transport_certificate_number"),
        ({"permitted_classes": ["10"]}, "permitted_classes"),
        ({"permitted_classes": []}, "permitted_classes"),
        ({"permitted_classes": ["3", "3"]}, "permitted_classes"),
        ({"permit_expires_on": "2027-02-30"}, "permit_expires_on"),
        ({"permit_expires_on": 20270630}, "permit_expires_on"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_invalid_vehicles_are_refused_naming_the_field(
    client: Any, carrier: Org, change: dict[str, Any], field: str
) -> None:
    problem = _problem(
        await client.post(VEHICLES, json={**CREATE_DG_VEHICLE_EXAMPLE, **change}, headers=carrier.headers), 400
    )

    assert field in problem["detail"] + str(problem.get("errors", ""))


async def test_a_trailer_plate_may_be_registered(client: Any, carrier: Org) -> None:
    response = await client.post(
        VEHICLES, json={**CREATE_DG_VEHICLE_EXAMPLE, "plate": "粤E2386挂"}, headers=carrier.headers
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"role": "loader"}, "role"),
        ({"certificate_number": ""}, "certificate_number"),
        ({"qualified_classes": ["4.4"]}, "qualified_classes"),
        ({"expires_on": "31/03/2028"}, "expires_on"),
        ({"id_card_number": "440604199103155528"}, "id_card_number"),
    ],
)
async def test_invalid_people_are_refused_naming_the_field(
    client: Any, carrier: Org, change: dict[str, Any], field: str
) -> None:
    problem = _problem(
        await client.post(PEOPLE, json={**CREATE_DG_PERSON_EXAMPLE, **change}, headers=carrier.headers), 400
    )

    assert field in problem["detail"] + str(problem.get("errors", ""))


async def test_carrier_registers_and_renews_its_road_transport_permit(client: Any, carrier: Org) -> None:
    _problem(await client.get(PERMIT, headers=carrier.headers), 404)

    registered = await client.put(PERMIT, json=DG_CARRIER_PERMIT_EXAMPLE, headers=carrier.headers)
    renewed = await client.put(
        PERMIT, json={**DG_CARRIER_PERMIT_EXAMPLE, "expires_on": "2033-12-31"}, headers=carrier.headers
    )

    assert registered.status_code == 200, registered.text
    assert registered.json()["permit_number"] == "粤交运管许可佛字440604000123号"
    assert registered.json()["permitted_classes"] == ["2", "3", "8"]
    assert renewed.status_code == 200, renewed.text
    read = (await client.get(PERMIT, headers=carrier.headers)).json()
    assert read["expires_on"] == "2033-12-31"
    assert read["created_at"] == registered.json()["created_at"]


async def test_a_carriers_permit_is_its_own(client: Any, carrier: Org, make_org: Any) -> None:
    other = await make_org("carrier")
    await client.put(PERMIT, json=DG_CARRIER_PERMIT_EXAMPLE, headers=carrier.headers)

    _problem(await client.get(PERMIT, headers=other.headers), 404)
    _problem(await client.put(PERMIT, json=DG_CARRIER_PERMIT_EXAMPLE, headers=await _shipper_headers(make_org)), 403)


async def _shipper_headers(make_org: Any) -> dict[str, str]:
    shipper: Org = await make_org("shipper")
    return shipper.headers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"permit_number": " "}, "permit_number"),
        ({"business_scope": ""}, "business_scope"),
        ({"permitted_classes": ["3", "3"]}, "permitted_classes"),
        ({"expires_on": "2029-13-01"}, "expires_on"),
        ({"licence_holder": "王五"}, "licence_holder"),
    ],
)
async def test_an_invalid_permit_is_refused_naming_the_field(
    client: Any, carrier: Org, change: dict[str, Any], field: str
) -> None:
    problem = _problem(
        await client.put(PERMIT, json={**DG_CARRIER_PERMIT_EXAMPLE, **change}, headers=carrier.headers), 400
    )

    assert field in problem["detail"] + str(problem.get("errors", ""))
