"""One waybill all the way: road → river terminal → barge → sea terminal → customs → vessel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.examples import BEIJIAO_TERMINAL, SHEKOU_TERMINAL, SHUNDE_FACTORY
from tests.conftest import Org
from tests.factories import waybill_body

ROTTERDAM = {
    "name": "Rotterdam Maasvlakte",
    "address": "Europaweg 910, 3199 LC Maasvlakte, Rotterdam",
    "division_code": "440305",
    "latitude": 51.9555,
    "longitude": 4.0466,
    "locode": "NLRTM",
}
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


class Journey:
    """A three-leg waybill and the organisations around it."""

    def __init__(self, orgs: dict[str, Org], number: str) -> None:
        self.orgs = orgs
        self.number = number

    async def post(self, client: Any, who: str, **event: Any) -> Any:
        return await client.post(f"/v1/waybills/{self.number}/events", json=event, headers=self.orgs[who].headers)

    async def timeline(self, client: Any, who: str = "shipper") -> Any:
        return await client.get(f"/v1/waybills/{self.number}/timeline", headers=self.orgs[who].headers)


@pytest.fixture
async def journey(client: Any, make_org: Any) -> Journey:
    orgs = {
        "shipper": await make_org("shipper"),
        "road": await make_org("carrier", name="佛山顺通甩挂运输有限公司"),
        "barge": await make_org("carrier", name="珠江驳运物流有限公司"),
        "ocean": await make_org("carrier", name="中远海运集装箱运输有限公司"),
        "port": await make_org("port", places=["CNSHK"]),
        "customs": await make_org("customs", places=["CNSHK"]),
        "regulator": await make_org("regulator"),
    }
    body = waybill_body(
        delivery=ROTTERDAM,
        delivery_window={"start": at(200), "end": at(400)},
        pickup_window={"start": at(0), "end": at(4)},
        legs=[
            {
                "sequence": 1,
                "mode": "road",
                "carrier": {"uscc": orgs["road"].uscc, "name": "佛山顺通甩挂运输有限公司"},
                "from_place": SHUNDE_FACTORY,
                "to_place": BEIJIAO_TERMINAL,
                "planned_departure": at(1),
                "planned_arrival": at(2),
                "equipment": {"vehicle_plate": "粤E3K721", "trailer_plate": "粤E2386挂"},
                "driver": {"name": "王建国", "phone": "+86 139 2211 0000"},
            },
            {
                "sequence": 2,
                "mode": "inland_water",
                "carrier": {"uscc": orgs["barge"].uscc, "name": "珠江驳运物流有限公司"},
                "from_place": BEIJIAO_TERMINAL,
                "to_place": SHEKOU_TERMINAL,
                "planned_departure": at(6),
                "planned_arrival": at(18),
                "equipment": {
                    "trailer_plate": "粤E2386挂",
                    "vessel_name": "珠江驳1038",
                    "voyage": "2611E",
                    "unaccompanied": True,
                },
            },
            {
                "sequence": 3,
                "mode": "sea",
                "carrier": {"uscc": orgs["ocean"].uscc, "name": "中远海运集装箱运输有限公司"},
                "from_place": SHEKOU_TERMINAL,
                "to_place": ROTTERDAM,
                "planned_departure": at(30),
                "planned_arrival": at(30 + 24 * 28),
                "equipment": {
                    "container_number": "CSQU3054383",
                    "vessel_name": "COSCO SHIPPING ARIES",
                    "voyage": "044W",
                },
            },
        ],
    )
    created = await client.post("/v1/waybills", json=body, headers=orgs["shipper"].headers)
    assert created.status_code == 201, created.text
    return Journey(orgs, created.json()["number"])


TRAILER = {"trailer_plate": "粤E2386挂"}
CONTAINER = {"container_number": "CSQU3054383"}


async def test_the_whole_journey_shows_one_timeline_to_every_party(client: Any, journey: Journey) -> None:
    steps = [
        (
            "road",
            {
                "event_type": "departed",
                "leg": 1,
                "event_time": at(1.1),
                "equipment": {"vehicle_plate": "粤E3K721", **TRAILER},
                "source": "gnss",
                "place": {"latitude": 22.9265, "longitude": 113.2092},
            },
        ),
        ("road", {"event_type": "arrived", "leg": 1, "event_time": at(2.2), "place": {"locode": "CNFOS"}}),
        (
            "road",
            {
                "event_type": "dropped",
                "leg": 1,
                "event_time": at(2.4),
                "place": {"locode": "CNFOS"},
                "equipment": TRAILER,
            },
        ),
        (
            "road",
            {
                "event_type": "handover",
                "leg": 1,
                "event_time": at(2.5),
                "place": {"locode": "CNFOS"},
                "handover": {"to_carrier": {"uscc": journey.orgs["barge"].uscc, "name": "珠江驳运物流有限公司"}},
            },
        ),
        (
            "barge",
            {
                "event_type": "loaded",
                "leg": 2,
                "event_time": at(5.5),
                "place": {"locode": "CNFOS"},
                "equipment": {**TRAILER, "vessel_name": "珠江驳1038", "unaccompanied": True},
            },
        ),
        ("barge", {"event_type": "departed", "leg": 2, "event_time": at(6.0), "place": {"locode": "CNFOS"}}),
        ("barge", {"event_type": "arrived", "leg": 2, "event_time": at(19.0), "place": {"locode": "CNSHK"}}),
        (
            "port",
            {
                "event_type": "discharged",
                "leg": 2,
                "event_time": at(19.5),
                "place": {"locode": "CNSHK"},
                "equipment": TRAILER,
            },
        ),
        (
            "barge",
            {
                "event_type": "handover",
                "leg": 2,
                "event_time": at(20.0),
                "place": {"locode": "CNSHK"},
                "handover": {"to_party": "蛇口集装箱码头"},
            },
        ),
        (
            "port",
            {
                "event_type": "stripped",
                "leg": 3,
                "event_time": at(21.0),
                "place": {"locode": "CNSHK"},
                "equipment": CONTAINER,
            },
        ),
        (
            "customs",
            {
                "event_type": "customs_lodged",
                "leg": 3,
                "event_time": at(22.0),
                "place": {"locode": "CNSHK"},
                "customs": {"declaration_number": "531620261000123456"},
            },
        ),
        (
            "customs",
            {
                "event_type": "customs_held",
                "leg": 3,
                "event_time": at(23.0),
                "place": {"locode": "CNSHK"},
                "customs": {"reason": "布控查验"},
            },
        ),
    ]
    for who, event in steps:
        response = await journey.post(client, who, **event)
        assert response.status_code == 201, (who, event["event_type"], response.text)

    held = (await journey.timeline(client)).json()
    assert held["customs_hold"] is True
    refused = await journey.post(
        client, "ocean", event_type="departed", leg=3, event_time=at(24), place={"locode": "CNSHK"}
    )
    assert refused.status_code == 422
    assert "customs" in refused.json()["detail"]

    for who, event in [
        (
            "customs",
            {
                "event_type": "inspected",
                "leg": 3,
                "event_time": at(25.0),
                "place": {"locode": "CNSHK"},
                "equipment": CONTAINER,
            },
        ),
        ("customs", {"event_type": "customs_released", "leg": 3, "event_time": at(26.0), "place": {"locode": "CNSHK"}}),
        (
            "port",
            {
                "event_type": "loaded",
                "leg": 3,
                "event_time": at(29.0),
                "place": {"locode": "CNSHK"},
                "equipment": {**CONTAINER, "vessel_name": "COSCO SHIPPING ARIES"},
            },
        ),
        (
            "ocean",
            {
                "event_type": "departed",
                "leg": 3,
                "event_time": at(30.5),
                "place": {"locode": "CNSHK"},
                "equipment": {**CONTAINER, "vessel_name": "COSCO SHIPPING ARIES", "voyage": "044W"},
            },
        ),
    ]:
        response = await journey.post(client, who, **event)
        assert response.status_code == 201, (who, event["event_type"], response.text)

    views = {
        who: await journey.timeline(client, who)
        for who in ("shipper", "road", "barge", "ocean", "port", "regulator", "customs")
    }
    for who, view in views.items():
        assert view.status_code == 200, who
    timeline = views["shipper"].json()
    assert timeline["status"] == "in_transit"
    assert timeline["customs_hold"] is False
    assert [leg["status"] for leg in timeline["legs"]] == ["completed", "completed", "under_way"]
    assert timeline["current_leg"] == 3
    assert timeline["current_place"]["locode"] == "CNSHK"
    assert timeline["current_equipment"]["vessel_name"] == "COSCO SHIPPING ARIES"
    assert timeline["legs"][1]["equipment"]["unaccompanied"] is True
    assert timeline["next_step"]["leg"] == 3
    assert timeline["next_step"]["event_type"] == "delivered"
    assert len(timeline["events"]) == 16
    times = [event["event_time"] for event in timeline["events"]]
    assert times == sorted(times)
    assert all(views[who].json() == timeline for who in ("road", "barge", "ocean", "port", "regulator", "customs"))

    record = (
        await client.get(f"/v1/waybills/{journey.number}/verify", headers=journey.orgs["regulator"].headers)
    ).json()
    assert record["intact"] is True
    assert record["length"] == 1 + 16  # the first version and every accepted event


async def test_nobody_else_sees_the_timeline(client: Any, journey: Journey, make_org: Any) -> None:
    for role, places in (("shipper", None), ("carrier", None), ("port", ["CNYTN"]), ("admin", None)):
        outsider = await make_org(role, places=places)
        response = await client.get(f"/v1/waybills/{journey.number}/timeline", headers=outsider.headers)
        assert response.status_code == 404, role


async def test_a_leg_cannot_depart_before_the_previous_one_is_handed_over(client: Any, journey: Journey) -> None:
    await journey.post(client, "road", event_type="departed", leg=1, event_time=at(1))
    early = await journey.post(client, "barge", event_type="departed", leg=2, event_time=at(3))
    assert early.status_code == 422
    assert "leg 1 has not been handed over" in early.json()["detail"]


async def test_events_on_legs_the_caller_is_not_party_to_are_refused(client: Any, journey: Journey) -> None:
    response = await journey.post(client, "barge", event_type="departed", leg=1, event_time=at(1))
    assert response.status_code == 403
    shipper = await journey.post(client, "shipper", event_type="departed", leg=1, event_time=at(1))
    assert shipper.status_code == 403
    customs_type = await journey.post(client, "road", event_type="customs_released", leg=1, event_time=at(1))
    assert customs_type.status_code == 403


async def test_an_actual_event_in_the_future_is_refused_but_an_estimate_is_not(client: Any, journey: Journey) -> None:
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    actual = await journey.post(client, "road", event_type="departed", leg=1, event_time=future)
    estimate = await journey.post(
        client, "road", event_type="arrived", classifier="estimated", leg=1, event_time=future
    )
    assert actual.status_code == 422
    assert actual.json()["errors"][0]["field"] == "event_time"
    assert estimate.status_code == 201


async def test_the_first_departure_puts_the_waybill_in_transit_and_delivery_ends_it(
    client: Any, make_org: Any, shipper: Org
) -> None:
    carrier = await make_org("carrier")
    body = waybill_body(legs=waybill_body()["legs"][:1])
    body["legs"][0]["carrier"] = {"uscc": carrier.uscc, "name": "测试"}
    number = (await client.post("/v1/waybills", json=body, headers=shipper.headers)).json()["number"]
    url = f"/v1/waybills/{number}/events"
    await client.post(url, json={"event_type": "departed", "leg": 1, "event_time": at(1)}, headers=carrier.headers)
    assert (await client.get(f"/v1/waybills/{number}", headers=shipper.headers)).json()["status"] == "in_transit"
    no_proof = await client.post(
        url, json={"event_type": "delivered", "leg": 1, "event_time": at(3)}, headers=carrier.headers
    )
    assert no_proof.status_code == 400
    assert no_proof.json()["errors"][0]["field"] == "proof_of_delivery"
    pod = {"receiver_name": "陈志强", "received_at": at(3), "signature_ref": "sig/2026/abc.png"}
    delivered = await client.post(
        url,
        json={
            "event_type": "delivered",
            "leg": 1,
            "event_time": at(3),
            "place": {"locode": "CNSHK"},
            "proof_of_delivery": pod,
        },
        headers=carrier.headers,
    )
    assert delivered.status_code == 201
    assert delivered.json()["proof_of_delivery"]["receiver_name"] == "陈志强"
    waybill = (await client.get(f"/v1/waybills/{number}", headers=shipper.headers)).json()
    assert waybill["status"] == "delivered"
    assert waybill["legs"][0]["status"] == "completed"


async def test_a_retraction_withdraws_an_event_and_the_journey_follows(client: Any, journey: Journey) -> None:
    departed = (await journey.post(client, "road", event_type="departed", leg=1, event_time=at(1))).json()
    assert (await journey.timeline(client)).json()["status"] == "in_transit"
    by_other = await journey.post(
        client, "barge", event_type="retracted", leg=1, event_time=at(1.5), retracts=departed["event_id"]
    )
    assert by_other.status_code == 403
    retraction = await journey.post(
        client, "road", event_type="retracted", leg=1, event_time=at(1.5), retracts=departed["event_id"]
    )
    assert retraction.status_code == 201
    timeline = (await journey.timeline(client)).json()
    assert timeline["status"] == "issued"
    assert timeline["legs"][0]["status"] == "planned"
    assert [e["retracted"] for e in timeline["events"]] == [True, False]
    twice = await journey.post(
        client, "road", event_type="retracted", leg=1, event_time=at(1.6), retracts=departed["event_id"]
    )
    assert twice.status_code == 409


async def test_a_late_event_is_accepted_and_ordered_by_its_time(client: Any, journey: Journey) -> None:
    await journey.post(client, "road", event_type="arrived", leg=1, event_time=at(2.2))
    late = await journey.post(client, "road", event_type="departed", leg=1, event_time=at(1.1))
    assert late.status_code == 201
    events = (await journey.timeline(client)).json()["events"]
    assert [e["event_type"] for e in events] == ["departed", "arrived"]


async def test_the_estimated_arrival_moves_with_reported_delays(client: Any, journey: Journey) -> None:
    def eta(timeline: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(timeline["estimated_arrival"])

    before = (await journey.timeline(client)).json()
    await journey.post(client, "road", event_type="departed", leg=1, event_time=at(1))
    await journey.post(
        client, "road", event_type="delay", leg=1, event_time=at(1.5), delay_minutes=180, remarks="虎门大桥拥堵"
    )
    small = (await journey.timeline(client)).json()
    assert small["legs"][0]["delay_minutes"] == 180
    leg_one = datetime.fromisoformat(small["legs"][0]["expected_arrival"])
    assert leg_one - datetime.fromisoformat(before["legs"][0]["expected_arrival"]) == timedelta(hours=3)
    assert eta(small) == eta(before)  # three hours fit in the slack before the barge leaves

    await journey.post(
        client, "road", event_type="delay", leg=1, event_time=at(2), delay_minutes=30 * 60, remarks="车辆故障"
    )
    large = (await journey.timeline(client)).json()
    # leg 1 now ends at 35 h, the barge (12 h) at 47 h, so the vessel leaves 17 h after its planned 30 h
    assert eta(large) - eta(before) == timedelta(hours=17)


async def test_the_same_external_ref_is_applied_once(client: Any, journey: Journey) -> None:
    event = {"event_type": "departed", "leg": 1, "event_time": at(1), "external_ref": "GNSS-778123"}
    first = await journey.post(client, "road", **event)
    again = await journey.post(client, "road", **event)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["event_id"] == again.json()["event_id"]
    assert len((await journey.timeline(client)).json()["events"]) == 1


async def test_a_batch_is_applied_whole_or_not_at_all(client: Any, journey: Journey) -> None:
    url = f"/v1/waybills/{journey.number}/events/batch"
    good = {"event_type": "departed", "leg": 1, "event_time": at(1)}
    bad = {"event_type": "departed", "leg": 2, "event_time": at(2)}
    refused = await client.post(url, json={"events": [good, bad]}, headers=journey.orgs["road"].headers)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "events[1].leg"
    assert (await journey.timeline(client)).json()["events"] == []
    accepted = await client.post(
        url,
        json={"events": [good, {**good, "event_type": "arrived", "event_time": at(2)}]},
        headers=journey.orgs["road"].headers,
    )
    assert accepted.status_code == 201
    assert len(accepted.json()["events"]) == 2


async def test_a_leg_can_change_tractor_and_driver_while_under_way(client: Any, journey: Journey) -> None:
    await journey.post(client, "road", event_type="departed", leg=1, event_time=at(1))
    swap = await client.patch(
        f"/v1/waybills/{journey.number}/legs/1",
        json={
            "equipment": {"vehicle_plate": "粤E5N930", "trailer_plate": "粤E2386挂"},
            "driver": {"name": "李强"},
            "note": "牵引车故障",
        },
        headers=journey.orgs["road"].headers,
    )
    assert swap.status_code == 200, swap.text
    changes = (
        await client.get(f"/v1/waybills/{journey.number}/changes", headers=journey.orgs["shipper"].headers)
    ).json()
    last = changes["changes"][-1]
    assert last["action"] == "leg_updated"
    assert last["detail"]["after"]["vehicle_plate"] == "粤E5N930"
    assert last["detail"]["after"]["driver_name"] == "李强"


async def test_a_reported_event_is_queued_for_the_shippers_signed_callback(client: Any, journey: Journey) -> None:
    shipper = journey.orgs["shipper"].headers
    url = f"/v1/waybills/{journey.number}/subscriptions"
    created = await client.post(
        url, json={"callback_url": "http://127.0.0.1:9/freight-events", "event_types": ["departed"]}, headers=shipper
    )
    assert created.status_code == 201, created.text
    subscription = created.json()["subscription"]["id"]
    departed = (await journey.post(client, "road", event_type="departed", leg=1, event_time=at(1))).json()
    await journey.post(client, "road", event_type="arrived", leg=1, event_time=at(2))
    deliveries = (await client.get(f"{url}/{subscription}/deliveries", headers=shipper)).json()
    items = deliveries["items"] if isinstance(deliveries, dict) else deliveries
    assert [d["event_id"] for d in items] == [departed["event_id"]]
    assert items[0]["status"] == "pending"
