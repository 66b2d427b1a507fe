"""The regulator's monitoring pages: the filtered list, CSV export, the alert feed, a shipment's page."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from core.db import utcnow
from monitoring.models import DgAlert
from tests.api.test_dangerous_legs import (
    DRIVER,
    ESCORT,
    PEOPLE,
    VEHICLES,
    _register,
    permitted_carrier,
    person,
    vehicle,
)
from tests.conftest import Org
from tests.factories import PETROL, SULPHURIC_ACID, dangerous_waybill_body, waybill_body, with_carrier
from tests.pages.helpers import add_page_user, csrf_token, sign_in, speeding_alert
from waybill.models import AccessLogEntry, Waybill

FOSHAN, SHENZHEN, GUANGZHOU = "440600", "440300", "440100"


@dataclass(frozen=True)
class Watched:
    """A carrier with two dangerous-goods waybills under way, and a regulator signed in."""

    carrier: Org
    regulator: Org
    plate: str
    petrol: str
    acid: str


def _plate() -> str:
    return "粤E" + "".join(secrets.choice("0123456789") for _ in range(5))


async def _dangerous_waybill(client: Any, shipper: Org, carrier: Org, plate: str, cargo: dict[str, Any]) -> str:
    body = with_carrier(dangerous_waybill_body([cargo]), 1, carrier.uscc, name="佛山顺通危险品运输有限公司")
    body["legs"][0].update({"driver": DRIVER, "escort": ESCORT})
    body["legs"][0]["equipment"]["vehicle_plate"] = plate
    response = await client.post("/v1/waybills", json=body, headers=shipper.headers)
    assert response.status_code == 201, response.text
    number: str = response.json()["number"]
    return number


@pytest.fixture
async def watched(client: Any, make_org: Any, shipper: Org, session_factory: Any) -> Watched:
    carrier = await permitted_carrier(make_org, client)
    plate = _plate()
    await _register(client, carrier, VEHICLES, vehicle(plate=plate))
    await _register(client, carrier, PEOPLE, person("driver", DRIVER))
    await _register(client, carrier, PEOPLE, person("escort", ESCORT))
    petrol = await _dangerous_waybill(client, shipper, carrier, plate, PETROL)
    acid = await _dangerous_waybill(client, shipper, carrier, plate, SULPHURIC_ACID)
    regulator = await make_org("regulator", name="广东省交通运输厅")
    assert (await sign_in(client, await add_page_user(session_factory, regulator))).status_code == 303
    return Watched(carrier=carrier, regulator=regulator, plate=plate, petrol=petrol, acid=acid)


async def _open_alert(session_factory: Any, watched: Watched, number: str, kind: str = "speeding") -> int:
    carrier_id = watched.carrier.principal.organisation_id
    async with session_factory() as session:
        alert = speeding_alert(plate=watched.plate, number=number, carrier_id=carrier_id, kind=kind)
        session.add(alert)
        await session.commit()
        assert alert.id is not None
        return alert.id


async def _listed(client: Any, watched: Watched, **filters: str) -> set[str]:
    response = await client.get("/regulator", params={"carrier": watched.carrier.uscc, **filters})
    assert response.status_code == 200, response.text
    table = response.text.split('<table id="shipments">', 1)[1].split("</table>", 1)[0]
    return {number for number in (watched.petrol, watched.acid) if f"/regulator/shipments/{number}" in table}


async def test_the_list_shows_the_active_dangerous_goods_waybills_in_chinese(client: Any, watched: Watched) -> None:
    response = await client.get("/regulator", params={"carrier": watched.carrier.uscc})
    assert "在途危险货物运输" in response.text
    assert "运单" in response.text
    assert await _listed(client, watched) == {watched.petrol, watched.acid}
    assert "<svg" in response.text
    assert 'class="city"' in response.text
    assert response.headers["content-language"] == "zh-Hans-CN"


async def test_the_list_filters_by_class_and_un_number(client: Any, watched: Watched) -> None:
    assert await _listed(client, watched, **{"class": "8"}) == {watched.acid}
    assert await _listed(client, watched, **{"class": "3"}) == {watched.petrol}
    assert await _listed(client, watched, un="UN1203") == {watched.petrol}
    assert await _listed(client, watched, un="1830") == {watched.acid}
    assert await _listed(client, watched, **{"class": "6.1"}) == set()


async def test_the_list_filters_by_city_of_loading_or_unloading(client: Any, watched: Watched) -> None:
    assert await _listed(client, watched, city=FOSHAN) == {watched.petrol, watched.acid}
    assert await _listed(client, watched, city=SHENZHEN) == {watched.petrol, watched.acid}
    assert await _listed(client, watched, city=GUANGZHOU) == set()


async def test_the_list_filters_by_alert_state(client: Any, watched: Watched, session_factory: Any) -> None:
    await _open_alert(session_factory, watched, watched.acid)
    assert await _listed(client, watched, alerts="open") == {watched.acid}
    assert await _listed(client, watched, alerts="none") == {watched.petrol}
    assert await _listed(client, watched, alerts="acknowledged") == set()


async def test_a_malformed_filter_is_a_400_page_not_an_error(client: Any, watched: Watched) -> None:
    for params in ({"class": "x"}, {"un": "12"}, {"city": "999999"}, {"alerts": "maybe"}, {"carrier": "nope"}):
        response = await client.get("/regulator", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("text/html")
        assert "请求有误" in response.text


async def test_the_csv_export_holds_the_current_view(client: Any, watched: Watched) -> None:
    response = await client.get("/regulator/shipments.csv", params={"carrier": watched.carrier.uscc, "class": "8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff运单,状态,危险货物")
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith(watched.acid)
    assert "UN1830" in lines[1]
    await client.get("/language?to=en&next=/regulator")
    english = await client.get("/regulator/shipments.csv", params={"carrier": watched.carrier.uscc})
    assert english.content.decode("utf-8").startswith("\ufeffWaybill,Status,Dangerous goods")


async def test_the_regulator_acknowledges_an_alert_from_the_feed(
    client: Any, watched: Watched, session_factory: Any
) -> None:
    alert_id = await _open_alert(session_factory, watched, watched.petrol)
    feed = await client.get("/regulator/alerts")
    assert f'data-alert-id="{alert_id}"' in feed.text
    assert "超速" in feed.text
    assert "车速 97 公里/小时" in feed.text
    form = {"note": "已电话联系驾驶员减速", "next": "/regulator?alerts=open", "_csrf_token": await csrf_token(client)}
    response = await client.post(f"/regulator/alerts/{alert_id}/acknowledge", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/regulator?alerts=open"
    async with session_factory() as session:
        alert = await session.get(DgAlert, alert_id)
        assert alert is not None
        assert alert.status == "acknowledged"
        assert alert.acknowledged_by == watched.regulator.principal.organisation_id
        assert alert.acknowledged_note == "已电话联系驾驶员减速"
    assert await _listed(client, watched, alerts="acknowledged") == {watched.petrol}
    again = await client.post(f"/regulator/alerts/{alert_id}/acknowledge", data=form, follow_redirects=False)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("text/html")


async def test_acknowledging_from_the_page_script_returns_the_new_feed(
    client: Any, watched: Watched, session_factory: Any
) -> None:
    alert_id = await _open_alert(session_factory, watched, watched.acid, kind="stationary")
    token = await csrf_token(client)
    response = await client.post(
        f"/regulator/alerts/{alert_id}/acknowledge",
        data={"note": ""},
        headers={"X-Requested-With": "fetch", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert f'data-alert-id="{alert_id}"' in response.text
    assert "已确认" in response.text


async def test_the_shipment_page_shows_goods_crew_route_and_logs_the_read(
    client: Any, watched: Watched, session_factory: Any
) -> None:
    now = utcnow()
    fixes = [
        {
            "plate": watched.plate,
            "time": (now - timedelta(minutes=10 - i)).isoformat(),
            "lat": 22.93 - i * 0.01,
            "lon": 113.22 + i * 0.01,
            "speed": 62.0,
        }
        for i in range(5)
    ]
    stored = await client.post("/v1/positions", json={"positions": fixes}, headers=watched.carrier.headers)
    assert stored.status_code in (200, 202), stored.text
    page = await client.get(f"/regulator/shipments/{watched.petrol}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "UN1203" in text
    assert "33" in text
    assert DRIVER["name"] in text
    assert ESCORT["name"] in text
    assert DRIVER["certificate_number"] in text
    assert "应急联系人" in text
    assert "林国强" in text
    assert "计划路线与实际轨迹" in text
    assert "实际轨迹（5 个定位点）" in text
    assert 'class="route planned"' in text or "route planned" in text
    listing = await client.get("/regulator", params={"carrier": watched.carrier.uscc, "un": "1203"})
    assert "62 km/h" in listing.text
    async with session_factory() as session:
        reads = await session.scalar(
            sa.select(sa.func.count())
            .select_from(AccessLogEntry)
            .join(Waybill, col(Waybill.id) == col(AccessLogEntry.waybill_id))
            .where(
                col(Waybill.number) == watched.petrol,
                col(AccessLogEntry.organisation_id) == watched.regulator.principal.organisation_id,
            )
        )
        assert reads
        assert reads >= 1


async def test_a_waybill_without_dangerous_goods_or_an_unknown_one_has_no_shipment_page(
    client: Any, watched: Watched, shipper: Org
) -> None:
    plain = await client.post("/v1/waybills", json=waybill_body(), headers=shipper.headers)
    assert plain.status_code == 201
    assert (await client.get(f"/regulator/shipments/{plain.json()['number']}")).status_code == 404
    assert (await client.get("/regulator/shipments/NOPE")).status_code == 404


async def test_a_cancelled_dangerous_goods_waybill_leaves_the_list(client: Any, watched: Watched, shipper: Org) -> None:
    response = await client.post(
        f"/v1/waybills/{watched.acid}/cancel", json={"reason_code": "goods_not_ready"}, headers=shipper.headers
    )
    assert response.status_code == 200, response.text
    assert await _listed(client, watched) == {watched.petrol}
