"""Bad input gets a clear 4xx problem that names the field, and never changes stored data."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import Org
from tests.factories import waybill_body
from waybill.models import TransportLeg, Waybill, WaybillChange, WaybillVersion


async def row_counts(db: Any) -> tuple[int, ...]:
    counts = []
    for model in (Waybill, WaybillVersion, TransportLeg, WaybillChange):
        counts.append(await db.scalar(sa.select(sa.func.count()).select_from(model)))
        await db.rollback()
    return tuple(counts)


async def post_raw(client: Any, org: Org, content: bytes, content_type: str = "application/json") -> Any:
    return await client.post("/v1/waybills", content=content, headers={**org.headers, "Content-Type": content_type})


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status
    assert {"type", "title", "detail"} <= problem.keys()
    return dict(problem)


def broken(path: str, value: Any) -> dict[str, Any]:
    """The example body with the value at a dotted path (``cargo.0.package_count``) replaced."""
    body = waybill_body()
    target: Any = body
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _DELETE:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return body


_DELETE = object()

NASTY_BODIES = [
    ("wrong type", "cargo.0.package_count", "ninety-six", "cargo[0].package_count"),
    ("negative weight", "cargo.0.gross_weight_kg", -5, "cargo[0].gross_weight_kg"),
    ("missing field", "consignee", _DELETE, "(body)"),
    ("unknown field", "cargo.0.colour", "red", "cargo[0]"),
    (
        "bad container check digit",
        "legs.0.equipment.container_number",
        "CSQU3054384",
        "legs[0].equipment.container_number",
    ),
    ("bad carrier USCC", "legs.1.carrier.uscc", "91440101MA59X8Q2E0", "legs[1].carrier.uscc"),
    ("trailer plate without 挂", "legs.0.equipment.trailer_plate", "粤E23860", "legs[0].equipment.trailer_plate"),
    (
        "reversed pickup window",
        "pickup_window",
        {"start": "2026-12-03T12:00:00+08:00", "end": "2026-12-03T08:00:00+08:00"},
        "pickup_window.end",
    ),
    (
        "time without offset",
        "pickup_window",
        {"start": "2026-12-03T08:00:00", "end": "2026-12-03T12:00:00"},
        "pickup_window.start",
    ),
    ("reversed leg times", "legs.0.planned_arrival", "2026-12-03T09:00:00+08:00", "legs[0].planned_arrival"),
    ("latitude out of range", "pickup.latitude", 122.9, "pickup.latitude"),
    ("bad division code", "pickup.division_code", "44060", "pickup.division_code"),
    ("bad UN/LOCODE", "delivery.locode", "SHEKOU", "delivery.locode"),
    ("unknown currency", "cargo.0.currency", "XYZ", "cargo[0].currency"),
    ("unknown mode", "legs.0.mode", "teleport", "legs[0].mode"),
    ("no cargo", "cargo", [], "cargo"),
    (
        "bad UN number",
        "cargo.0.dangerous_goods",
        {"un_number": "1203", "quantity": 1, "unit": "L"},
        "cargo[0].dangerous_goods.un_number",
    ),
    ("bad customs declaration", "references.customs_declarations", ["12345"], "references.customs_declarations[0]"),
    ("legs out of order", "legs.0.sequence", 3, "legs"),
    ("empty reference", "shipper_reference", "", "shipper_reference"),
    ("null shipper reference", "shipper_reference", None, "shipper_reference"),
]


@pytest.mark.parametrize(
    ("path", "value", "field"), [case[1:] for case in NASTY_BODIES], ids=[case[0] for case in NASTY_BODIES]
)
async def test_invalid_body_names_the_field_and_stores_nothing(
    client: Any, shipper: Org, db: Any, path: str, value: Any, field: str
) -> None:
    before = await row_counts(db)
    response = await client.post("/v1/waybills", json=broken(path, value), headers=shipper.headers)
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["field"] == field, problem
    assert problem["errors"][0]["message"]
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{", "application/json"),
        (b"not json at all", "application/json"),
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b'{"shipper_reference": "\xff\xfe"}', "application/json"),
        (b"shipper_reference=x", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
)
async def test_unreadable_bodies_get_400(client: Any, shipper: Org, db: Any, content: bytes, content_type: str) -> None:
    before = await row_counts(db)
    assert_problem(await post_raw(client, shipper, content, content_type), 400)
    assert await row_counts(db) == before


async def test_a_huge_body_gets_413(client: Any, shipper: Org, db: Any) -> None:
    before = await row_counts(db)
    body = waybill_body(instructions="x" * 2_000_000)
    response = await post_raw(client, shipper, json.dumps(body).encode())
    assert_problem(response, 413)
    assert await row_counts(db) == before


async def test_many_cargo_lines_beyond_the_limit_get_400(client: Any, shipper: Org) -> None:
    body = waybill_body()
    body["cargo"] = body["cargo"][:1] * 201
    problem = assert_problem(await client.post("/v1/waybills", json=body, headers=shipper.headers), 400)
    assert problem["errors"][0]["field"] == "cargo"


async def test_deeply_nested_garbage_gets_400(client: Any, shipper: Org) -> None:
    nested = "[" * 5000 + "]" * 5000
    assert_problem(await post_raw(client, shipper, f'{{"consignor": {nested}}}'.encode()), 400)


async def test_bad_amendment_changes_nothing(client: Any, shipper: Org, db: Any) -> None:
    number = (await client.post("/v1/waybills", json=waybill_body(), headers=shipper.headers)).json()["number"]
    before = await row_counts(db)
    url = f"/v1/waybills/{number}/amendments"
    for body in (
        {"instructions": "no reason"},
        {"reason": "x", "cargo": [{"description": "x"}]},
        {"reason": "x", "unknown": 1},
        {"reason": "x", "pickup_window": {"start": "2026-12-03T12:00:00Z", "end": "2026-12-03T08:00:00Z"}},
    ):
        assert_problem(await client.post(url, json=body, headers=shipper.headers), 400)
    assert await row_counts(db) == before


async def test_bad_leg_update_changes_nothing(client: Any, shipper: Org, db: Any) -> None:
    number = (await client.post("/v1/waybills", json=waybill_body(), headers=shipper.headers)).json()["number"]
    before = await row_counts(db)
    missing_leg = await client.patch(f"/v1/waybills/{number}/legs/9", json={"note": "x"}, headers=shipper.headers)
    assert_problem(missing_leg, 404)
    reversed_times = await client.patch(
        f"/v1/waybills/{number}/legs/1",
        json={"planned_departure": "2026-12-03T20:00:00+08:00"},
        headers=shipper.headers,
    )
    assert_problem(reversed_times, 422)
    assert_problem(await client.patch(f"/v1/waybills/{number}/legs/0", json={}, headers=shipper.headers), 400)
    assert await row_counts(db) == before


async def test_unknown_routes_and_methods_answer_in_the_problem_format(client: Any, shipper: Org) -> None:
    assert_problem(await client.get("/v1/nothing-here", headers=shipper.headers), 404)
    assert_problem(await client.delete("/v1/waybills", headers=shipper.headers), 405)


async def test_bad_query_parameters_name_the_parameter(client: Any, shipper: Org) -> None:
    for params, field in (
        ({"status": "lost"}, "status"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"limit": 0}, "limit"),
        ({"mode": "rocket"}, "mode"),
    ):
        problem = assert_problem(await client.get("/v1/waybills", params=params, headers=shipper.headers), 400)
        assert problem["errors"][0]["field"] == field


async def test_naive_date_filter_is_refused(client: Any, shipper: Org) -> None:
    problem = assert_problem(
        await client.get("/v1/waybills", params={"created_from": "2026-11-01T00:00:00"}, headers=shipper.headers), 400
    )
    assert problem["errors"][0]["field"] == "created_from"


async def test_unknown_query_parameters_are_refused_not_ignored(client: Any, shipper: Org) -> None:
    problem = assert_problem(
        await client.get("/v1/waybills", params={"stauts": "issued"}, headers=shipper.headers), 400
    )
    assert problem["errors"][0]["field"] == "stauts"
    assert "status" in problem["errors"][0]["message"]


async def test_numbers_as_strings_and_dates_as_numbers_are_refused(client: Any, shipper: Org) -> None:
    as_string = broken("cargo.0.package_count", "96")
    as_number = broken("pickup_window", {"start": 0, "end": 1})
    for body, field in ((as_string, "cargo[0].package_count"), (as_number, "pickup_window.start")):
        problem = assert_problem(await client.post("/v1/waybills", json=body, headers=shipper.headers), 400)
        assert problem["errors"][0]["field"] == field


async def test_control_characters_in_text_are_refused(client: Any, shipper: Org) -> None:
    problem = assert_problem(
        await client.post("/v1/waybills", json=waybill_body(instructions="a\u0000b"), headers=shipper.headers), 400
    )
    assert problem["errors"][0]["field"] == "instructions"
    label = await client.post("/v1/organisations/me/api-keys", json={"label": "\u0000"}, headers=shipper.headers)
    assert_problem(label, 400)


async def test_bad_idempotency_key_is_refused(client: Any, shipper: Org) -> None:
    response = await client.post(
        "/v1/waybills", json=waybill_body(), headers={**shipper.headers, "Idempotency-Key": "x" * 300}
    )
    problem = assert_problem(response, 400)
    assert problem["errors"][0]["field"] == "Idempotency-Key"
