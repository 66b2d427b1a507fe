"""A carrier asks for a plan, follows its progress, reads it and accepts it; re-planning keeps started runs."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import msgspec
import pytest

from dispatch.plan_models import DispatchPlan
from dispatch.solver.matrix import great_circle_matrix
from dispatch.solver.plan_check import find_plan_violations
from dispatch.solver.problem import Plan, Problem
from tests.conftest import Org
from tests.dispatch.test_fleet_api import BASE, Fleet, assert_problem
from tests.factories import waybill_body, with_carrier

DAY_START = "2026-12-03T06:00:00+08:00"


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    return await make_org("carrier", name="东莞虎门甩挂物流有限公司")


@pytest.fixture
async def day(client: Any, carrier: Org) -> Fleet:
    """The example fleet with a second trailer and two hauls to the Nansha terminal."""
    fleet = await Fleet(client, carrier).build()
    second = await fleet.post("trailers", fleet.trailer_body(plate="粤S5678挂"))
    fleet.moves = [
        await fleet.post("moves", fleet.move_body()),
        await fleet.post(
            "moves",
            fleet.move_body(
                trailer_id=second["id"],
                ready_at="2026-12-03T08:00:00+08:00",
                deliver_by="2026-12-03T12:00:00+08:00",
                cutoff=None,
            ),
        ),
    ]
    return fleet


async def plan_until_done(client: Any, org: Org, **body: Any) -> dict[str, Any]:
    created = await client.post(
        f"{BASE}/plans", json={"start": DAY_START, "time_limit_s": 2, **body}, headers=org.headers
    )
    assert created.status_code == 202, created.text
    assert created.json()["status"] == "queued"
    for _ in range(240):
        read = await client.get(created.headers["location"], headers=org.headers)
        assert read.status_code == 200, read.text
        if read.json()["status"] in {"done", "failed"}:
            return dict(read.json())
        await asyncio.sleep(0.25)
    raise AssertionError("the plan did not finish within 60 s")


async def stored_problem(db: Any, plan_id: str) -> Problem:
    row = await db.get(DispatchPlan, uuid.UUID(plan_id))
    problem = msgspec.convert(row.problem, Problem)
    await db.rollback()
    return problem


async def test_a_posted_plan_is_solved_in_the_background_and_passes_the_checker(
    client: Any, carrier: Org, day: Fleet, db: Any
) -> None:
    result = await plan_until_done(client, carrier)
    assert result["status"] == "done", result["error"]
    assert result["progress"]["tractors"] >= 1
    plan = msgspec.convert(result["plan"], Plan)
    assert plan.summary.moves_planned == 2
    problem = await stored_problem(db, result["id"])
    assert find_plan_violations(problem, plan, great_circle_matrix(problem.places, problem.matrix)) == []


async def test_accepting_a_plan_makes_assignments_and_plans_the_moves(client: Any, carrier: Org, day: Fleet) -> None:
    result = await plan_until_done(client, carrier)
    accepted = await client.post(f"{BASE}/plans/{result['id']}/accept", headers=carrier.headers)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "accepted"
    assert sorted(a["move_id"] for a in body["assignments"]) == sorted(m["id"] for m in day.moves)
    assert all(a["tractor_id"] == day.tractor["id"] for a in body["assignments"])
    for move in day.moves:
        read = await client.get(f"{BASE}/moves/{move['id']}", headers=carrier.headers)
        assert read.json()["status"] == "planned"
    assert_problem(await client.post(f"{BASE}/plans/{result['id']}/accept", headers=carrier.headers), 409)


async def test_replanning_keeps_the_run_that_has_started(client: Any, carrier: Org, day: Fleet) -> None:
    first = await plan_until_done(client, carrier)
    await client.post(f"{BASE}/plans/{first['id']}/accept", headers=carrier.headers)
    started = day.moves[0]["id"]
    patched = await client.patch(f"{BASE}/moves/{started}", json={"status": "in_progress"}, headers=carrier.headers)
    assert patched.status_code == 200, patched.text
    second = await plan_until_done(client, carrier)
    assert second["status"] == "done", second["error"]
    assert second["plan"]["runs"] == first["plan"]["runs"]


async def test_another_carrier_cannot_see_or_accept_the_plan(
    client: Any, carrier: Org, day: Fleet, make_org: Any
) -> None:
    result = await plan_until_done(client, carrier)
    other = await make_org("carrier")
    assert_problem(await client.get(f"{BASE}/plans/{result['id']}", headers=other.headers), 404)
    assert_problem(await client.post(f"{BASE}/plans/{result['id']}/accept", headers=other.headers), 404)
    listed = await client.get(f"{BASE}/plans", headers=other.headers)
    assert listed.json() == []


async def test_only_carriers_plan_and_bad_requests_are_refused(client: Any, carrier: Org, shipper: Org) -> None:
    assert_problem(await client.post(f"{BASE}/plans", json={}, headers=shipper.headers), 403)
    assert_problem(await client.post(f"{BASE}/plans", json={"time_limit_s": 9999}, headers=carrier.headers), 400)
    assert_problem(
        await client.post(f"{BASE}/plans", json={"start": "2026-12-03T06:00:00"}, headers=carrier.headers), 400
    )
    assert_problem(await client.post(f"{BASE}/plans", json={"colour": "red"}, headers=carrier.headers), 400)


async def test_accepting_puts_the_tractor_and_trailer_on_the_waybill_leg(
    client: Any, carrier: Org, shipper: Org
) -> None:
    fleet = await Fleet(client, carrier).build()
    body = with_carrier(waybill_body(), 1, carrier.uscc, carrier.principal.name)
    number = (await client.post("/v1/waybills", json=body, headers=shipper.headers)).json()["number"]
    await fleet.post("moves", fleet.move_body(waybill_number=number, leg_index=1))
    result = await plan_until_done(client, carrier)
    accepted = await client.post(f"{BASE}/plans/{result['id']}/accept", headers=carrier.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["assignments"][0]["waybill_number"] == number
    waybill = (await client.get(f"/v1/waybills/{number}", headers=carrier.headers)).json()
    equipment = waybill["legs"][0]["equipment"]
    assert (equipment["vehicle_plate"], equipment["trailer_plate"]) == (fleet.tractor["plate"], fleet.trailer["plate"])
