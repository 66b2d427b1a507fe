"""A waybill carrying dangerous goods is assessed against ADR when issued or amended; a broken rule refuses it."""

from __future__ import annotations

from typing import Any

from tests.factories import waybill_body


def dg_line(description: str, un_number: str, quantity: float, unit: str, packing_group: str | None = None) -> Any:
    goods: dict[str, Any] = {"un_number": un_number, "quantity": quantity, "unit": unit}
    if packing_group:
        goods["packing_group"] = packing_group
    return {
        "description": description,
        "package_count": 10,
        "package_type": "DR",
        "gross_weight_kg": 1200.0,
        "dangerous_goods": goods,
    }


PETROL = dg_line("汽油 (桶装)", "UN1203", 400, "L", "II")
SULPHURIC_ACID = dg_line("硫酸", "UN1830", 800, "kg", "II")
BLASTING_EXPLOSIVE = dg_line("乳化炸药", "UN0081", 100, "kg")


async def _create(client: Any, shipper: Any, cargo: list[Any]) -> Any:
    return await client.post("/v1/waybills", json=waybill_body(cargo=cargo), headers=shipper.headers)


async def test_a_load_of_petrol_and_sulphuric_acid_is_issued(client: Any, shipper: Any) -> None:
    response = await _create(client, shipper, [PETROL, SULPHURIC_ACID])

    assert response.status_code == 201, response.text


async def test_explosives_with_petrol_are_refused_citing_the_mixed_loading_rule(client: Any, shipper: Any) -> None:
    response = await _create(client, shipper, [PETROL, BLASTING_EXPLOSIVE])

    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "cargo[1].dangerous_goods"
    assert "cargo[0] and cargo[1] may not be loaded together (ADR 7.5.2.1" in problem["detail"]


async def test_an_unknown_un_number_or_packing_group_is_refused_naming_the_line(client: Any, shipper: Any) -> None:
    unknown = await _create(client, shipper, [PETROL, dg_line("未知", "UN9999", 10, "kg")])
    wrong_group = await _create(client, shipper, [dg_line("硫酸", "UN1830", 800, "kg", "III")])

    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "cargo[1].dangerous_goods.un_number"
    assert wrong_group.status_code == 422
    assert wrong_group.json()["errors"][0]["field"] == "cargo[0].dangerous_goods.packing_group"


async def test_an_amendment_that_adds_a_forbidden_line_is_refused_and_the_waybill_unchanged(
    client: Any, shipper: Any
) -> None:
    created = await _create(client, shipper, [PETROL])
    number = created.json()["number"]

    amended = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "加装炸药", "cargo": [PETROL, BLASTING_EXPLOSIVE]},
        headers=shipper.headers,
    )

    assert amended.status_code == 422
    assert "ADR 7.5.2.1" in amended.json()["detail"]
    current = (await client.get(f"/v1/waybills/{number}", headers=shipper.headers)).json()
    assert current["version"] == 1
    assert len(current["document"]["cargo"]) == 1
