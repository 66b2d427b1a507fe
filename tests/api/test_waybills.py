"""Shippers issue, read, list, amend and cancel e-waybills through the API."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from api.examples import CREATE_WAYBILL_EXAMPLE
from core.identifiers import normalise_waybill_number
from tests.conftest import Org
from tests.factories import waybill_body
from waybill.models import IdempotencyRecord, Waybill, WaybillVersion


async def create(client: Any, org: Org, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return await client.post("/v1/waybills", json=body or waybill_body(), headers={**org.headers, **headers})


async def test_shipper_issues_a_waybill_and_reads_it_back(client: Any, shipper: Org) -> None:
    body = waybill_body()
    created = await create(client, shipper, body)

    assert created.status_code == 201, created.text
    waybill = created.json()
    assert normalise_waybill_number(waybill["number"]) == waybill["number"]
    assert created.headers["location"] == f"/v1/waybills/{waybill['number']}"
    assert waybill["status"] == "issued"
    assert waybill["version"] == 1
    assert waybill["shipper"] == {"uscc": shipper.uscc, "name": shipper.principal.name}

    read = await client.get(f"/v1/waybills/{waybill['number']}", headers=shipper.headers)
    assert read.status_code == 200
    assert read.json() == waybill
    assert read.json()["document"]["cargo"][0]["hs_code"] == body["cargo"][0]["hs_code"]
    assert [leg["sequence"] for leg in read.json()["legs"]] == [1, 2]


async def test_the_documented_example_succeeds_for_any_shipper(client: Any, make_org: Any) -> None:
    for _ in range(3):
        shipper = await make_org("shipper")
        response = await client.post("/v1/waybills", json=CREATE_WAYBILL_EXAMPLE, headers=shipper.headers)
        assert response.status_code == 201, response.text
        assert response.json()["shipper"]["uscc"] == shipper.uscc


async def test_number_lookup_ignores_case_and_hyphens(client: Any, shipper: Org) -> None:
    number = (await create(client, shipper)).json()["number"]
    response = await client.get(f"/v1/waybills/{number.lower().replace('-', '')}", headers=shipper.headers)
    assert response.status_code == 200
    assert response.json()["number"] == number


async def test_a_mistyped_number_is_reported_by_its_check_character(client: Any, shipper: Org) -> None:
    number = (await create(client, shipper)).json()["number"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    response = await client.get(f"/v1/waybills/{wrong}", headers=shipper.headers)
    assert response.status_code == 404
    assert "check character" in response.json()["detail"]


async def test_a_draft_is_issued_later(client: Any, shipper: Org) -> None:
    draft = (await create(client, shipper, waybill_body(draft=True))).json()
    assert draft["status"] == "draft"
    assert draft["issued_at"] is None

    issued = await client.post(f"/v1/waybills/{draft['number']}/issue", headers=shipper.headers)
    assert issued.status_code == 200
    assert issued.json()["status"] == "issued"
    again = await client.post(f"/v1/waybills/{draft['number']}/issue", headers=shipper.headers)
    assert again.status_code == 409


async def test_a_second_waybill_for_the_same_reference_is_refused_naming_the_first(client: Any, shipper: Org) -> None:
    body = waybill_body()
    first = (await create(client, shipper, body)).json()
    second = await create(client, shipper, body)

    assert second.status_code == 409
    problem = second.json()
    assert second.headers["content-type"].startswith("application/problem+json")
    assert problem["existing_waybill"] == first["number"]
    assert first["number"] in problem["detail"]


async def test_two_shippers_may_use_the_same_reference(client: Any, make_org: Any) -> None:
    body = waybill_body()
    for _ in range(2):
        shipper = await make_org("shipper")
        assert (await create(client, shipper, body)).status_code == 201


async def test_same_idempotency_key_and_body_yield_one_waybill(client: Any, shipper: Org, db: Any) -> None:
    body = waybill_body()
    first = await create(client, shipper, body, **{"Idempotency-Key": "retry-7f3a"})
    second = await create(client, shipper, body, **{"Idempotency-Key": "retry-7f3a"})

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["number"] == first.json()["number"]
    count = await db.scalar(
        sa.select(sa.func.count()).select_from(Waybill).where(Waybill.shipper_id == shipper.principal.organisation_id)
    )
    assert count == 1


async def test_same_idempotency_key_with_another_body_is_refused(client: Any, shipper: Org, db: Any) -> None:
    first = await create(client, shipper, waybill_body(), **{"Idempotency-Key": "order-118734"})
    refused = await create(client, shipper, waybill_body(), **{"Idempotency-Key": "order-118734"})
    same_reference = await create(
        client,
        shipper,
        waybill_body(shipper_reference=first.json()["shipper_reference"], instructions="changed"),
        **{"Idempotency-Key": "order-118734"},
    )

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert same_reference.status_code == 422
    count = await db.scalar(
        sa.select(sa.func.count()).select_from(Waybill).where(Waybill.shipper_id == shipper.principal.organisation_id)
    )
    assert count == 1


async def test_idempotency_keys_belong_to_one_organisation(client: Any, make_org: Any) -> None:
    body = waybill_body()
    first, second = await make_org("shipper"), await make_org("shipper")
    a = await create(client, first, body, **{"Idempotency-Key": "shared-key"})
    b = await create(client, second, body, **{"Idempotency-Key": "shared-key"})
    assert a.status_code == b.status_code == 201
    assert a.json()["number"] != b.json()["number"]


async def test_amendment_makes_a_new_version_and_keeps_the_old_one(client: Any, shipper: Org) -> None:
    original = (await create(client, shipper)).json()
    number = original["number"]
    window = {"start": "2026-12-05T06:00:00+08:00", "end": "2026-12-05T18:00:00+08:00"}

    amended = await client.post(
        f"/v1/waybills/{number}/amendments",
        json={"reason": "收货人要求推迟交付", "delivery_window": window, "expected_version": 1},
        headers=shipper.headers,
    )
    assert amended.status_code == 201, amended.text
    assert amended.json()["version"] == 2
    assert amended.json()["document"]["delivery_window"] == {
        "start": "2026-12-04T22:00:00Z",
        "end": "2026-12-05T10:00:00Z",
    }

    versions = (await client.get(f"/v1/waybills/{number}/versions", headers=shipper.headers)).json()
    assert versions["current_version"] == 2
    assert [v["version"] for v in versions["versions"]] == [1, 2]
    assert versions["versions"][0]["document"] == original["document"]
    assert versions["versions"][1]["reason"] == "收货人要求推迟交付"
    assert versions["versions"][1]["created_by"]["uscc"] == shipper.uscc


async def test_amendment_against_a_stale_version_is_refused(client: Any, shipper: Org) -> None:
    number = (await create(client, shipper)).json()["number"]
    url = f"/v1/waybills/{number}/amendments"
    await client.post(url, json={"reason": "first", "instructions": "A"}, headers=shipper.headers)
    stale = await client.post(
        url, json={"reason": "second", "instructions": "B", "expected_version": 1}, headers=shipper.headers
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2


async def test_amendment_that_changes_nothing_or_breaks_the_windows_is_refused(
    client: Any, shipper: Org, db: Any
) -> None:
    original = (await create(client, shipper)).json()
    url = f"/v1/waybills/{original['number']}/amendments"
    unchanged = await client.post(
        url, json={"reason": "none", "instructions": original["document"]["instructions"]}, headers=shipper.headers
    )
    before_pickup = await client.post(
        url,
        json={"reason": "bad", "delivery_window": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"}},
        headers=shipper.headers,
    )
    assert unchanged.status_code == 422
    assert before_pickup.status_code == 422
    assert "delivery window" in before_pickup.json()["detail"]
    versions = await db.scalar(
        sa.select(sa.func.count())
        .select_from(WaybillVersion)
        .join(Waybill, Waybill.id == WaybillVersion.waybill_id)
        .where(Waybill.number == original["number"])
    )
    assert versions == 1


async def test_amendment_is_refused_once_delivered(client: Any, shipper: Org, make_org: Any, db: Any) -> None:
    carrier = await make_org("carrier")
    body = waybill_body(legs=waybill_body()["legs"][:1])
    body["legs"][0]["carrier"] = {"uscc": carrier.uscc, "name": carrier.principal.name}
    number = (await create(client, shipper, body)).json()["number"]
    await _deliver(client, carrier, number)

    response = await client.post(
        f"/v1/waybills/{number}/amendments", json={"reason": "too late", "instructions": "x"}, headers=shipper.headers
    )
    assert response.status_code == 409
    assert "delivered" in response.json()["detail"]


async def _report(client: Any, carrier: Org, number: str, **event: Any) -> None:
    from datetime import UTC, datetime, timedelta

    event.setdefault("event_time", (datetime.now(UTC) - timedelta(minutes=10)).isoformat())
    response = await client.post(f"/v1/waybills/{number}/events", json={"leg": 1, **event}, headers=carrier.headers)
    assert response.status_code == 201, response.text


async def _deliver(client: Any, carrier: Org, number: str) -> None:
    await _report(client, carrier, number, event_type="departed")
    proof = {"receiver_name": "陈志强", "received_at": "2026-11-01T10:00:00+08:00", "signature_ref": "sig/1.png"}
    await _report(client, carrier, number, event_type="delivered", proof_of_delivery=proof)


async def test_cancel_with_a_reason_code(client: Any, shipper: Org) -> None:
    number = (await create(client, shipper)).json()["number"]
    response = await client.post(
        f"/v1/waybills/{number}/cancel",
        json={"reason_code": "goods_not_ready", "note": "延期"},
        headers=shipper.headers,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancellation"]["reason_code"] == "goods_not_ready"

    again = await client.post(f"/v1/waybills/{number}/cancel", json={"reason_code": "other"}, headers=shipper.headers)
    assert again.status_code == 409


async def test_cancel_is_refused_once_the_first_leg_has_started(
    client: Any, shipper: Org, make_org: Any, db: Any
) -> None:
    carrier = await make_org("carrier")
    body = waybill_body()
    body["legs"][0]["carrier"] = {"uscc": carrier.uscc, "name": carrier.principal.name}
    number = (await create(client, shipper, body)).json()["number"]
    await _report(client, carrier, number, event_type="departed")
    assert (await client.get(f"/v1/waybills/{number}", headers=shipper.headers)).json()["status"] == "in_transit"

    response = await client.post(
        f"/v1/waybills/{number}/cancel", json={"reason_code": "shipper_request"}, headers=shipper.headers
    )
    assert response.status_code == 409
    assert "started" in response.json()["detail"]


async def test_every_change_records_who_and_when(client: Any, shipper: Org, make_org: Any) -> None:
    carrier = await make_org("carrier")
    body = waybill_body()
    body["legs"][0]["carrier"] = {"uscc": carrier.uscc, "name": carrier.principal.name}
    number = (await create(client, shipper, body)).json()["number"]
    await client.post(
        f"/v1/waybills/{number}/amendments", json={"reason": "加急", "instructions": "加急"}, headers=shipper.headers
    )
    swap = await client.patch(
        f"/v1/waybills/{number}/legs/1",
        json={"equipment": {"vehicle_plate": "粤E5N930", "trailer_plate": "粤E2386挂"}, "note": "换车"},
        headers=carrier.headers,
    )
    assert swap.status_code == 200, swap.text

    changes = (await client.get(f"/v1/waybills/{number}/changes", headers=shipper.headers)).json()["changes"]
    assert [c["action"] for c in changes] == ["issued", "amended", "leg_updated"]
    assert [c["by"]["uscc"] for c in changes] == [shipper.uscc, shipper.uscc, carrier.uscc]
    assert all(c["at"].endswith("Z") for c in changes)
    assert changes[2]["detail"]["after"] == {"vehicle_plate": "粤E5N930", "container_number": None}


async def test_carrier_changes_equipment_but_not_the_carrier(client: Any, shipper: Org, make_org: Any) -> None:
    carrier, other = await make_org("carrier"), await make_org("carrier")
    body = waybill_body()
    body["legs"][0]["carrier"] = {"uscc": carrier.uscc, "name": carrier.principal.name}
    number = (await create(client, shipper, body)).json()["number"]

    swap = await client.patch(
        f"/v1/waybills/{number}/legs/1",
        json={"carrier": {"uscc": other.uscc, "name": "别的承运人"}},
        headers=carrier.headers,
    )
    assert swap.status_code == 403

    reassigned = await client.patch(
        f"/v1/waybills/{number}/legs/1",
        json={"carrier": {"uscc": other.uscc, "name": "别的承运人"}},
        headers=shipper.headers,
    )
    assert reassigned.status_code == 200
    assert reassigned.json()["legs"][0]["carrier"]["uscc"] == other.uscc
    assert (await client.get(f"/v1/waybills/{number}", headers=other.headers)).status_code == 200
    assert (await client.get(f"/v1/waybills/{number}", headers=carrier.headers)).status_code == 404


async def test_list_pages_through_every_waybill_once(client: Any, make_org: Any) -> None:
    shipper = await make_org("shipper")
    numbers = {(await create(client, shipper)).json()["number"] for _ in range(7)}

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/waybills", params=params, headers=shipper.headers)).json()
        seen += [item["number"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7
    assert set(seen) == numbers


async def test_list_filters_by_status_mode_place_carrier_and_date(client: Any, make_org: Any) -> None:
    shipper, carrier = await make_org("shipper"), await make_org("carrier")
    road_only = waybill_body(legs=waybill_body()["legs"][:1])
    road_only["legs"][0]["carrier"] = {"uscc": carrier.uscc, "name": "测试"}
    by_road = (await create(client, shipper, road_only)).json()["number"]
    by_water = (await create(client, shipper)).json()["number"]
    draft = (await create(client, shipper, waybill_body(draft=True))).json()["number"]

    async def numbers(**params: Any) -> set[str]:
        response = await client.get("/v1/waybills", params=params, headers=shipper.headers)
        assert response.status_code == 200, response.text
        return {item["number"] for item in response.json()["items"]}

    assert await numbers(status="draft") == {draft}
    assert await numbers(status=["issued", "draft"]) == {by_road, by_water, draft}
    assert await numbers(mode="inland_water") == {by_water, draft}
    assert await numbers(carrier=carrier.uscc) == {by_road}
    assert await numbers(place="CNSHK") == {by_road, by_water, draft}
    assert await numbers(place="4406") == {by_road, by_water, draft}
    assert await numbers(place="4401") == set()
    assert await numbers(created_from="2000-01-01T00:00:00+08:00", created_to="2000-01-02T00:00:00+08:00") == set()
    assert len(await numbers(created_from="2000-01-01T00:00:00Z")) == 3


async def test_list_rejects_a_forged_cursor_and_a_bad_place(client: Any, shipper: Org) -> None:
    forged = await client.get("/v1/waybills", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=shipper.headers)
    bad_place = await client.get("/v1/waybills", params={"place": "xx"}, headers=shipper.headers)
    too_big = await client.get("/v1/waybills", params={"limit": 1000}, headers=shipper.headers)
    assert forged.status_code == 422
    assert forged.json()["errors"][0]["field"] == "cursor"
    assert bad_place.status_code == 422
    assert too_big.status_code == 400
    assert too_big.json()["errors"][0]["field"] == "limit"


async def test_idempotency_record_names_the_waybill(client: Any, shipper: Org, db: Any) -> None:
    number = (await create(client, shipper, waybill_body(), **{"Idempotency-Key": "k-1"})).json()["number"]
    record = await db.get(IdempotencyRecord, (shipper.principal.organisation_id, "createWaybill", "k-1"))
    assert record is not None
    assert record.resource == number
