"""A waybill carrying dangerous goods is assessed against ADR when issued or amended; a broken rule refuses it."""

from __future__ import annotations

from typing import Any

from tests.factories import EMERGENCY_CONTACT, dangerous_waybill_body, waybill_body


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
    return await client.post("/v1/waybills", json=dangerous_waybill_body(cargo), headers=shipper.headers)


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


# --- the emergency contact (应急联系人) ---------------------------------------------------------------


async def test_a_dangerous_goods_waybill_without_an_emergency_contact_is_refused_citing_the_rule(
    client: Any, shipper: Any
) -> None:
    response = await client.post("/v1/waybills", json=waybill_body(cargo=[PETROL]), headers=shipper.headers)

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "emergency_contact"
    assert "交通运输部令2019年第29号" in problem["detail"]


async def test_a_waybill_without_dangerous_goods_needs_no_emergency_contact(client: Any, shipper: Any) -> None:
    response = await client.post("/v1/waybills", json=waybill_body(), headers=shipper.headers)

    assert response.status_code == 201, response.text
    assert response.json()["document"]["emergency_contact"] is None


async def test_the_emergency_contact_is_kept_with_the_version_and_changed_by_amendment(
    client: Any, shipper: Any
) -> None:
    created = await _create(client, shipper, [PETROL])
    number = created.json()["number"]
    duty_officer = {"name": "梁振华", "phone": "+86 750 6638 1191"}

    amended = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "值班人员变更", "emergency_contact": duty_officer},
        headers=shipper.headers,
    )

    assert created.json()["document"]["emergency_contact"] == EMERGENCY_CONTACT
    assert amended.status_code == 201, amended.text
    versions = (await client.get(f"/v1/waybills/{number}/versions", headers=shipper.headers)).json()["versions"]
    assert [v["document"]["emergency_contact"] for v in versions] == [EMERGENCY_CONTACT, duty_officer]


async def test_removing_the_emergency_contact_of_a_dangerous_goods_waybill_is_refused(
    client: Any, shipper: Any
) -> None:
    created = await _create(client, shipper, [PETROL])
    number = created.json()["number"]

    removed = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "删除联系人", "emergency_contact": None},
        headers=shipper.headers,
    )
    made_ordinary = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "改为普通货物", "cargo": [{**PETROL, "dangerous_goods": None}], "emergency_contact": None},
        headers=shipper.headers,
    )

    assert removed.status_code == 422, removed.text
    assert removed.json()["errors"][0]["field"] == "emergency_contact"
    assert made_ordinary.status_code == 201, made_ordinary.text


async def test_a_dangerous_goods_line_added_by_amendment_needs_an_emergency_contact(client: Any, shipper: Any) -> None:
    created = await client.post("/v1/waybills", json=waybill_body(), headers=shipper.headers)
    number = created.json()["number"]

    without = await client.post(
        f"/v1/waybills/{number}/amendments", json={"reason": "加装汽油", "cargo": [PETROL]}, headers=shipper.headers
    )
    with_contact = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "加装汽油", "cargo": [PETROL], "emergency_contact": EMERGENCY_CONTACT},
        headers=shipper.headers,
    )

    assert without.status_code == 422, without.text
    assert without.json()["errors"][0]["field"] == "emergency_contact"
    assert with_contact.status_code == 201, with_contact.text
