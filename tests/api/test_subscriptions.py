"""Shippers manage signed callbacks for their waybills' events through the API."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from tests.conftest import Org
from tests.factories import waybill_body, with_carrier
from waybill import subscriptions
from waybill.models import Waybill

CALLBACK = "https://tms.shunde-appliances.example/freight/callbacks"


async def issue(client: Any, shipper: Org, **overrides: Any) -> str:
    response = await client.post("/v1/waybills", json=waybill_body(**overrides), headers=shipper.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


async def subscribe(client: Any, org: Org, number: str, **body: Any) -> Any:
    return await client.post(
        f"/v1/waybills/{number}/subscriptions", json={"callback_url": CALLBACK, **body}, headers=org.headers
    )


async def test_shipper_subscribes_and_sees_the_secret_once(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)

    created = await subscribe(client, shipper, number, event_types=["departed", "arrived"])

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["subscription"]["callback_url"] == CALLBACK
    assert body["subscription"]["event_types"] == ["departed", "arrived"]
    assert body["subscription"]["active"] is True
    listing = await client.get(f"/v1/waybills/{number}/subscriptions", headers=shipper.headers)
    assert listing.status_code == 200
    assert listing.json()["subscriptions"] == [body["subscription"]]
    assert body["secret"] not in listing.text


async def test_a_callback_must_use_https_unless_it_is_local(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    for url in ("http://tms.example.com/hook", "ftp://tms.example.com/hook", "https://10.1.2.3/hook"):
        refused = await subscribe(client, shipper, number, callback_url=url)
        assert refused.status_code == 400, url
        assert refused.json()["errors"][0]["field"] == "callback_url"
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook"):
        assert (await subscribe(client, shipper, number, callback_url=url)).status_code == 201, url


async def test_unknown_fields_and_repeated_event_types_are_refused(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    assert (await subscribe(client, shipper, number, secret="mine")).status_code == 400
    assert (await subscribe(client, shipper, number, event_types=["departed", "departed"])).status_code == 400


async def test_only_the_shipper_of_record_subscribes(client: Any, make_org: Any, shipper: Org) -> None:
    carrier, stranger, regulator = await make_org("carrier"), await make_org("shipper"), await make_org("regulator")
    body = with_carrier(waybill_body(), 2, carrier.uscc)
    number = (await client.post("/v1/waybills", json=body, headers=shipper.headers)).json()["number"]

    assert (await subscribe(client, stranger, number)).status_code == 404
    assert (await subscribe(client, carrier, number)).status_code == 403
    assert (await subscribe(client, regulator, number)).status_code == 403
    listing = await client.get(f"/v1/waybills/{number}/subscriptions", headers=carrier.headers)
    assert listing.status_code == 403
    listing = await client.get(f"/v1/waybills/{number}/subscriptions", headers=stranger.headers)
    assert listing.status_code == 404


async def test_a_cancelled_waybill_takes_no_subscriptions(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    await client.post(f"/v1/waybills/{number}/cancel", json={"reason_code": "duplicate"}, headers=shipper.headers)
    assert (await subscribe(client, shipper, number)).status_code == 409


async def test_rotating_the_secret_shows_the_new_one_and_keeps_the_old_for_a_grace_period(
    client: Any, shipper: Org
) -> None:
    number = await issue(client, shipper)
    created = (await subscribe(client, shipper, number)).json()
    subscription_id = created["subscription"]["id"]

    rotated = await client.post(
        f"/v1/waybills/{number}/subscriptions/{subscription_id}/rotate-secret", headers=shipper.headers
    )

    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] not in {created["secret"], ""}
    assert rotated.json()["subscription"]["previous_secret_expires_at"] is not None
    listing = (await client.get(f"/v1/waybills/{number}/subscriptions", headers=shipper.headers)).text
    assert rotated.json()["secret"] not in listing
    assert created["secret"] not in listing


async def test_deactivating_stops_a_subscription(client: Any, shipper: Org) -> None:
    number = await issue(client, shipper)
    subscription_id = (await subscribe(client, shipper, number)).json()["subscription"]["id"]
    path = f"/v1/waybills/{number}/subscriptions/{subscription_id}"

    assert (await client.delete(path, headers=shipper.headers)).status_code == 204
    assert (await client.delete(path, headers=shipper.headers)).status_code == 204
    listing = (await client.get(f"/v1/waybills/{number}/subscriptions", headers=shipper.headers)).json()
    assert [s["active"] for s in listing["subscriptions"]] == [False]
    assert (await client.post(f"{path}/rotate-secret", headers=shipper.headers)).status_code == 409
    missing = f"/v1/waybills/{number}/subscriptions/{uuid.uuid4()}"
    assert (await client.delete(missing, headers=shipper.headers)).status_code == 404


async def test_deliveries_of_a_subscription_are_listed_newest_first(
    client: Any, shipper: Org, make_org: Any, session_factory: Any
) -> None:
    number = await issue(client, shipper)
    subscription_id = (await subscribe(client, shipper, number, callback_url="http://127.0.0.1:9/hook")).json()[
        "subscription"
    ]["id"]
    async with session_factory() as session:
        waybill_id = await session.scalar(sa.select(Waybill.id).where(Waybill.number == number))
        events = []
        for event_type in ("departed", "arrived", "gate_in"):
            events.append(uuid.uuid4())
            await subscriptions.enqueue_deliveries(
                session, waybill_id=waybill_id, event_id=events[-1], event_type=event_type, payload={"note": "test"}
            )
        await session.commit()
    path = f"/v1/waybills/{number}/subscriptions/{subscription_id}/deliveries"

    first = await client.get(path, params={"limit": 2}, headers=shipper.headers)

    assert first.status_code == 200, first.text
    page = first.json()
    assert [d["event_type"] for d in page["items"]] == ["gate_in", "arrived"]
    assert page["items"][0]["status"] == "pending"
    assert page["items"][0]["attempts"] == 0
    assert page["items"][0]["event_id"] == str(events[-1])
    rest = (await client.get(path, params={"before": page["next_before"]}, headers=shipper.headers)).json()
    assert [d["event_type"] for d in rest["items"]] == ["departed"]
    assert rest["next_before"] is None
    stranger = await make_org("shipper")
    assert (await client.get(path, headers=stranger.headers)).status_code == 404
    await client.delete(f"/v1/waybills/{number}/subscriptions/{subscription_id}", headers=shipper.headers)
