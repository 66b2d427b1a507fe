"""Dangerous-goods alerts over HTTP: who sees them, and acknowledging and closing them."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from api.alerts import ACKNOWLEDGE_ALERT_EXAMPLE
from monitoring import service
from monitoring.alerts import Alert
from monitoring.models import DgAlert
from tests.conftest import Org
from tests.monitoring.alert_values import speeding

ALERTS = "/v1/alerts"


@pytest.fixture
async def regulator(make_org: Any) -> Org:
    return await make_org("regulator", name="广东省交通运输厅")


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    return await make_org("carrier", name="佛山南海危险品运输有限公司")


async def _store(session_factory: Any, alert: Alert, carrier: Org | None = None) -> int:
    async with session_factory() as session:
        await service.record_alerts(session, [alert], carrier_id=carrier.principal.organisation_id if carrier else None)
        alert_id = await session.scalar(sa.select(col(DgAlert.id)).where(col(DgAlert.dedupe_key) == alert.dedupe_key))
        await session.commit()
    assert alert_id is not None
    return int(alert_id)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


async def test_a_regulator_lists_acknowledges_and_closes(
    client: Any, session_factory: Any, regulator: Org, carrier: Org
) -> None:
    alert = speeding()
    alert_id = await _store(session_factory, alert, carrier)
    listed = await client.get(ALERTS, params={"plate": alert.plate, "status": "open"}, headers=regulator.headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["id"] == alert_id
    assert item["kind"] == "speeding"
    assert item["observed"] == 92.0
    assert item["unit"] == "km/h"
    assert item["position"] == {"latitude": 23.10, "longitude": 113.50}
    assert item["carrier"] == {"uscc": carrier.uscc, "name": "佛山南海危险品运输有限公司"}
    assert item["acknowledged"] is None

    acknowledged = await client.post(
        f"{ALERTS}/{alert_id}/acknowledge", json=ACKNOWLEDGE_ALERT_EXAMPLE, headers=regulator.headers
    )
    assert acknowledged.status_code == 200, acknowledged.text
    step = acknowledged.json()["acknowledged"]
    assert acknowledged.json()["status"] == "acknowledged"
    assert step["by"] == {"uscc": regulator.uscc, "name": "广东省交通运输厅"}
    assert step["note"] == ACKNOWLEDGE_ALERT_EXAMPLE["note"]
    assert step["at"]

    closed = await client.post(f"{ALERTS}/{alert_id}/close", headers=regulator.headers)
    assert closed.status_code == 200, closed.text
    read = (await client.get(f"{ALERTS}/{alert_id}", headers=regulator.headers)).json()
    assert read["status"] == "closed"
    assert read["acknowledged"] == step
    assert read["closed"]["by"]["uscc"] == regulator.uscc
    assert read["closed"]["note"] is None
    assert read["closed"]["at"] >= step["at"]
    assert (
        await client.get(ALERTS, params={"plate": alert.plate, "status": "open"}, headers=regulator.headers)
    ).json()["items"] == []

    again = _problem(await client.post(f"{ALERTS}/{alert_id}/acknowledge", json={}, headers=regulator.headers), 409)
    assert again["type"].endswith("invalid-state")
    _problem(await client.post(f"{ALERTS}/{alert_id}/close", headers=regulator.headers), 409)


async def test_a_carrier_sees_and_handles_only_its_own(
    client: Any, session_factory: Any, carrier: Org, make_org: Any
) -> None:
    other = await make_org("carrier")
    mine, theirs = speeding(), speeding()
    mine_id = await _store(session_factory, mine, carrier)
    theirs_id = await _store(session_factory, theirs, other)
    listed = await client.get(ALERTS, params={"limit": 200}, headers=carrier.headers)
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [mine_id]
    _problem(await client.get(f"{ALERTS}/{theirs_id}", headers=carrier.headers), 404)
    _problem(await client.post(f"{ALERTS}/{theirs_id}/close", headers=carrier.headers), 404)
    closed = await client.post(f"{ALERTS}/{mine_id}/close", json={"note": "已核实"}, headers=carrier.headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["closed"]["by"]["uscc"] == carrier.uscc


async def test_lists_are_paged_and_filtered(client: Any, session_factory: Any, regulator: Org, carrier: Org) -> None:
    ids = [await _store(session_factory, speeding(), carrier) for _ in range(3)]
    first = (await client.get(ALERTS, params={"limit": 2}, headers=carrier.headers)).json()
    assert [item["id"] for item in first["items"]] == ids[:2]
    rest = (await client.get(ALERTS, params={"cursor": first["next_cursor"]}, headers=carrier.headers)).json()
    assert [item["id"] for item in rest["items"]] == ids[2:]
    assert rest["next_cursor"] is None
    none = await client.get(ALERTS, params={"kind": "no_signal", "limit": 200}, headers=carrier.headers)
    assert none.json()["items"] == []
    _problem(await client.get(ALERTS, params={"status": "gone"}, headers=regulator.headers), 400)


async def test_other_roles_are_forbidden(client: Any, session_factory: Any, make_org: Any) -> None:
    shipper = await make_org("shipper")
    alert_id = await _store(session_factory, speeding())
    _problem(await client.get(ALERTS, headers=shipper.headers), 403)
    _problem(await client.get(f"{ALERTS}/{alert_id}", headers=shipper.headers), 403)
    _problem(await client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=shipper.headers), 403)


async def test_unknown_alerts_and_bad_notes(client: Any, session_factory: Any, regulator: Org) -> None:
    _problem(await client.get(f"{ALERTS}/999999999", headers=regulator.headers), 404)
    _problem(await client.post(f"{ALERTS}/999999999/close", headers=regulator.headers), 404)
    alert_id = await _store(session_factory, speeding())
    _problem(await client.post(f"{ALERTS}/{alert_id}/acknowledge", json={"note": 42}, headers=regulator.headers), 400)
    _problem(
        await client.post(f"{ALERTS}/{alert_id}/acknowledge", json={"remark": "x"}, headers=regulator.headers), 400
    )
    acknowledged = await client.post(f"{ALERTS}/{alert_id}/acknowledge", headers=regulator.headers)
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["acknowledged"]["note"] is None
