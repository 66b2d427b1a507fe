"""Who may see and change a waybill: shippers their own, carriers what they carry, regulators all (logged)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import Org
from tests.factories import waybill_body, with_carrier
from waybill.models import AccessLogEntry, Waybill


async def issue(client: Any, shipper: Org, carrier: Org | None = None, **overrides: Any) -> str:
    body = waybill_body(**overrides)
    if carrier is not None:
        body = with_carrier(body, 2, carrier.uscc)
    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


async def test_another_shipper_gets_404_for_a_waybill_it_does_not_own(client: Any, make_org: Any) -> None:
    owner, stranger = await make_org("shipper"), await make_org("shipper")
    number = await issue(client, owner)

    for path in ("", "/versions", "/changes"):
        response = await client.get(f"/v1/waybills/{number}{path}", headers=stranger.headers)
        assert response.status_code == 404, path
        assert response.json()["title"] == "Not found"
    listing = await client.get("/v1/waybills", headers=stranger.headers)
    assert number not in {item["number"] for item in listing.json()["items"]}


async def test_another_shipper_cannot_amend_cancel_or_change_legs(client: Any, make_org: Any, db: Any) -> None:
    owner, stranger = await make_org("shipper"), await make_org("shipper")
    number = await issue(client, owner)

    attempts = [
        client.post(
            f"/v1/waybills/{number}/amendments", json={"reason": "x", "instructions": "y"}, headers=stranger.headers
        ),
        client.post(f"/v1/waybills/{number}/cancel", json={"reason_code": "other"}, headers=stranger.headers),
        client.post(f"/v1/waybills/{number}/issue", headers=stranger.headers),
        client.patch(
            f"/v1/waybills/{number}/legs/1", json={"note": "x", "planned_departure": None}, headers=stranger.headers
        ),
    ]
    for attempt in attempts:
        assert (await attempt).status_code == 404
    waybill = await db.scalar(sa.select(Waybill).where(Waybill.number == number))
    assert (waybill.status, waybill.version) == ("issued", 1)


async def test_carrier_sees_only_waybills_on_which_it_carries_a_leg(client: Any, make_org: Any) -> None:
    shipper, carrier, other_carrier = await make_org("shipper"), await make_org("carrier"), await make_org("carrier")
    carried = await issue(client, shipper, carrier)
    not_carried = await issue(client, shipper)

    assert (await client.get(f"/v1/waybills/{carried}", headers=carrier.headers)).status_code == 200
    assert (await client.get(f"/v1/waybills/{not_carried}", headers=carrier.headers)).status_code == 404
    assert (await client.get(f"/v1/waybills/{carried}", headers=other_carrier.headers)).status_code == 404
    listed = (await client.get("/v1/waybills", headers=carrier.headers)).json()["items"]
    assert [item["number"] for item in listed] == [carried]


async def test_carrier_may_read_but_not_amend_or_cancel(client: Any, make_org: Any) -> None:
    shipper, carrier = await make_org("shipper"), await make_org("carrier")
    number = await issue(client, shipper, carrier)
    amend = await client.post(
        f"/v1/waybills/{number}/amendments", json={"reason": "x", "instructions": "y"}, headers=carrier.headers
    )
    cancel = await client.post(f"/v1/waybills/{number}/cancel", json={"reason_code": "other"}, headers=carrier.headers)
    other_leg = await client.patch(
        f"/v1/waybills/{number}/legs/1", json={"equipment": {"vehicle_plate": "粤B12345"}}, headers=carrier.headers
    )
    assert amend.status_code == cancel.status_code == other_leg.status_code == 403


async def test_carrier_does_not_see_a_draft(client: Any, make_org: Any) -> None:
    shipper, carrier = await make_org("shipper"), await make_org("carrier")
    number = await issue(client, shipper, carrier, draft=True)
    assert (await client.get(f"/v1/waybills/{number}", headers=carrier.headers)).status_code == 404
    await client.post(f"/v1/waybills/{number}/issue", headers=shipper.headers)
    assert (await client.get(f"/v1/waybills/{number}", headers=carrier.headers)).status_code == 200


async def test_a_carrier_that_joins_later_sees_the_legs_named_for_it(client: Any, make_org: Any) -> None:
    from tests.factories import new_uscc

    shipper = await make_org("shipper")
    future_uscc = new_uscc()
    body = with_carrier(waybill_body(), 1, future_uscc)
    number = (await client.post("/v1/waybills", json=body, headers=shipper.headers)).json()["number"]
    carrier = await make_org("carrier", uscc=future_uscc)
    assert (await client.get(f"/v1/waybills/{number}", headers=carrier.headers)).status_code == 200


async def test_regulator_reads_any_waybill_and_each_read_is_logged(client: Any, make_org: Any, db: Any) -> None:
    shipper, regulator = await make_org("shipper"), await make_org("regulator")
    number = await issue(client, shipper)

    response = await client.get(
        f"/v1/waybills/{number}", params={"access_reason": "危险品专项检查"}, headers=regulator.headers
    )
    assert response.status_code == 200
    await client.get(f"/v1/waybills/{number}/versions", headers=regulator.headers)

    entries = (
        await db.scalars(
            sa.select(AccessLogEntry)
            .join(Waybill, Waybill.id == AccessLogEntry.waybill_id)
            .where(Waybill.number == number)
            .order_by(AccessLogEntry.id)
        )
    ).all()
    assert [(e.action, e.reason) for e in entries] == [("read", "危险品专项检查"), ("read_versions", None)]
    assert all(e.organisation_id == regulator.principal.organisation_id for e in entries)
    assert entries[0].request.startswith(f"GET /v1/waybills/{number}?access_reason=")


async def test_shipper_reads_are_not_logged_as_authority_access(client: Any, make_org: Any, db: Any) -> None:
    shipper = await make_org("shipper")
    number = await issue(client, shipper)
    await client.get(f"/v1/waybills/{number}", headers=shipper.headers)
    count = await db.scalar(
        sa.select(sa.func.count())
        .select_from(AccessLogEntry)
        .join(Waybill, Waybill.id == AccessLogEntry.waybill_id)
        .where(Waybill.number == number)
    )
    assert count == 0


async def test_regulator_cannot_change_a_waybill(client: Any, make_org: Any) -> None:
    shipper, regulator = await make_org("shipper"), await make_org("regulator")
    number = await issue(client, shipper)
    response = await client.post(
        f"/v1/waybills/{number}/cancel", json={"reason_code": "regulatory"}, headers=regulator.headers
    )
    assert response.status_code == 403


async def test_a_port_sees_the_waybills_with_a_leg_at_its_terminal(client: Any, make_org: Any) -> None:
    shipper = await make_org("shipper")
    shekou, yantian = await make_org("port", places=["CNSHK"]), await make_org("port", places=["CNYTN"])
    number = await issue(client, shipper)  # its second leg ends at CNSHK
    assert (await client.get(f"/v1/waybills/{number}", headers=shekou.headers)).status_code == 200
    assert (await client.get(f"/v1/waybills/{number}", headers=yantian.headers)).status_code == 404
    me = (await client.get("/v1/organisations/me", headers=shekou.headers)).json()
    assert me["places"] == ["CNSHK"]


async def test_customs_reads_any_issued_waybill_and_the_read_is_logged(client: Any, make_org: Any, db: Any) -> None:
    shipper, customs = await make_org("shipper"), await make_org("customs", places=["CNSHK"])
    number = await issue(client, shipper)
    response = await client.get(f"/v1/waybills/{number}", params={"access_reason": "查验"}, headers=customs.headers)
    assert response.status_code == 200
    logged = await db.scalar(
        sa.select(sa.func.count())
        .select_from(AccessLogEntry)
        .where(AccessLogEntry.organisation_id == customs.principal.organisation_id)
    )
    assert logged == 1


@pytest.mark.parametrize("role", ["port", "admin"])
async def test_other_roles_see_no_waybill(client: Any, make_org: Any, role: str) -> None:
    shipper, outsider = await make_org("shipper"), await make_org(role)
    number = await issue(client, shipper)
    assert (await client.get(f"/v1/waybills/{number}", headers=outsider.headers)).status_code == 404
    assert (await client.get("/v1/waybills", headers=outsider.headers)).json()["items"] == []


@pytest.mark.parametrize("role", ["carrier", "port", "customs", "regulator", "admin"])
async def test_only_shippers_issue_waybills(client: Any, make_org: Any, role: str) -> None:
    org = await make_org(role)
    response = await client.post("/v1/waybills", json=waybill_body(), headers=org.headers)
    assert response.status_code == 403


async def test_requests_without_a_valid_key_get_401(client: Any, make_org: Any) -> None:
    shipper = await make_org("shipper")
    number = await issue(client, shipper)
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer fk_00000000_nope"}):
        response = await client.get(f"/v1/waybills/{number}", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_revoked_key_stops_working_at_once(client: Any, make_org: Any) -> None:
    shipper = await make_org("shipper")
    second = (await client.post("/v1/organisations/me/api-keys", json={"label": "ERP"}, headers=shipper.headers)).json()
    second_headers = {"Authorization": f"Bearer {second['key']}"}
    assert (await client.get("/v1/organisations/me", headers=second_headers)).status_code == 200

    revoked = await client.post(f"/v1/organisations/me/api-keys/{second['id']}/revoke", headers=shipper.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (await client.get("/v1/organisations/me", headers=second_headers)).status_code == 401
    assert (await client.get("/v1/organisations/me", headers=shipper.headers)).status_code == 200
    keys = (await client.get("/v1/organisations/me/api-keys", headers=shipper.headers)).json()
    assert {k["label"] for k in keys} == {"test", "ERP"}
    assert all("key" not in k for k in keys)


async def test_an_organisation_cannot_revoke_another_organisations_key(client: Any, make_org: Any) -> None:
    first, second = await make_org("shipper"), await make_org("shipper")
    response = await client.post(
        f"/v1/organisations/me/api-keys/{second.principal.api_key_id}/revoke", headers=first.headers
    )
    assert response.status_code == 404
    assert (await client.get("/v1/organisations/me", headers=second.headers)).status_code == 200


async def test_only_an_admin_registers_organisations(client: Any, make_org: Any) -> None:
    from tests.factories import new_uscc

    admin, shipper = await make_org("admin"), await make_org("shipper")
    body = {"name": "东莞虎门港物流有限公司", "role": "carrier", "uscc": new_uscc("441900")}
    assert (await client.post("/v1/organisations", json=body, headers=shipper.headers)).status_code == 403
    created = await client.post("/v1/organisations", json=body, headers=admin.headers)
    assert created.status_code == 201
    new_key = created.json()["api_key"]["key"]
    me = await client.get("/v1/organisations/me", headers={"Authorization": f"Bearer {new_key}"})
    assert me.json()["uscc"] == body["uscc"]
    duplicate = await client.post("/v1/organisations", json=body, headers=admin.headers)
    assert duplicate.status_code == 409
    bad_check = {**body, "uscc": body["uscc"][:-1] + ("0" if body["uscc"][-1] != "0" else "1")}
    refused = await client.post("/v1/organisations", json=bad_check, headers=admin.headers)
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"field": "uscc", "message": "unified social credit code has a wrong check character", "source": "body"}
    ]
