"""POST /v1/dangerous-goods/assess: the ADR assessment of a load, through the API on both backends."""

from __future__ import annotations

from typing import Any

from tests.conftest import Org

URL = "/v1/dangerous-goods/assess"


async def test_a_mixed_load_reports_the_refused_pairs(client: Any, make_org: Any) -> None:
    carrier: Org = await make_org("carrier")
    body = {
        "lines": [
            {"unNumber": "1203", "packingGroup": "II", "quantity": 300, "unit": "L"},
            {"unNumber": "0083", "quantity": 10, "unit": "kg"},
            {"unNumber": "1942", "packingGroup": "III", "quantity": 100, "unit": "kg"},
        ]
    }
    response = await client.post(URL, json=body, headers=carrier.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    refused = {(tuple(v["lines"]), v["rule"], v["note"]) for v in result["mixedLoadingViolations"]}
    assert refused == {((0, 1), "ADR 7.5.2.1", None), ((1, 2), "ADR 7.5.2.1", "d")}
    assert result["points"] == 300 * 3 + 10 * 50 + 100
    assert result["exempt"] is False
    assert result["lines"][0]["hazardIdentificationNumber"] == "33"


async def test_a_gasoline_tanker(client: Any, make_org: Any) -> None:
    shipper: Org = await make_org("shipper")
    body = {"lines": [{"unNumber": "1203", "packingGroup": "II", "quantity": 20000, "unit": "L", "carriage": "tank"}]}
    response = await client.post(URL, json=body, headers=shipper.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["tunnelRestrictionCode"] == "D/E"
    assert result["forbiddenTunnelCategories"] == ["D", "E"]
    assert [(p["kind"], p["hazardIdentificationNumber"], p["unNumber"]) for p in result["orangePlates"]] == [
        ("plain", None, None),
        ("numbered", "33", "1203"),
    ]
    qualifications = result["requiredQualifications"]
    assert "FL" in [q["code"] for q in qualifications["vehicle"]]
    assert [q["code"] for q in qualifications["driver"]] == ["ADR_BASIC", "ADR_TANK"]
    assert [q["code"] for q in qualifications["escort"]] == ["CN_ESCORT"]


async def test_an_unknown_un_number_is_a_422_naming_the_line(client: Any, make_org: Any) -> None:
    shipper: Org = await make_org("shipper")
    body = {
        "lines": [
            {"unNumber": "1203", "packingGroup": "II", "quantity": 30, "unit": "L"},
            {"unNumber": "9999", "quantity": 1, "unit": "kg"},
        ]
    }
    response = await client.post(URL, json=body, headers=shipper.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["lines[1].unNumber"]


async def test_a_wrong_packing_group_is_a_422_naming_the_line(client: Any, make_org: Any) -> None:
    shipper: Org = await make_org("shipper")
    body = {"lines": [{"unNumber": "1203", "packingGroup": "III", "quantity": 30, "unit": "L"}]}
    response = await client.post(URL, json=body, headers=shipper.headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["lines[0].packingGroup"]


async def test_input_is_strict(client: Any, make_org: Any) -> None:
    shipper: Org = await make_org("shipper")
    for body in (
        {"lines": []},
        {"lines": [{"unNumber": "1203", "packingGroup": "II", "quantity": 0, "unit": "L"}]},
        {"lines": [{"unNumber": "1203", "packingGroup": "II", "quantity": "30", "unit": "L"}]},
        {"lines": [{"un_number": "1203", "packingGroup": "II", "quantity": 30, "unit": "L"}]},
        {"lines": [{"unNumber": "1203", "quantity": 30, "unit": "t"}]},
        {"lines": [{"unNumber": "1203", "quantity": 30, "unit": "L"}] * 101},
    ):
        response = await client.post(URL, json=body, headers=shipper.headers)
        assert response.status_code == 400, body


async def test_callers_must_authenticate(client: Any) -> None:
    body = {"lines": [{"unNumber": "1203", "packingGroup": "II", "quantity": 30, "unit": "L"}]}
    response = await client.post(URL, json=body)
    assert response.status_code == 401


async def test_the_documented_examples_work(client: Any, make_org: Any) -> None:
    regulator: Org = await make_org("regulator")
    schema = (await client.get("/schema/openapi.json")).json()
    operation = schema["paths"][URL]["post"]
    assert operation["operationId"] == "assessDangerousGoods"
    media = operation["requestBody"]["content"]["application/json"]
    examples = [e["value"] for e in media.get("examples", {}).values()] or media["schema"]["examples"]
    assert examples
    for example in examples:
        response = await client.post(URL, json=example, headers=regulator.headers)
        assert response.status_code == 200, response.text
