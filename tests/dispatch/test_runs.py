"""A tractor's run of the accepted plan becomes a run sheet; the driver's taps move the moves and the waybill on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlmodel import col

from api.examples import CREATE_DISPATCH_DRIVER_EXAMPLE
from core.db import utcnow
from core.errors import DomainError, InvalidStateError, NotFoundError
from dispatch.models import DispatchMove, DispatchTractor, DispatchTrailer
from dispatch.plan_models import DispatchAssignment, DispatchCheckIn, DispatchPlan
from dispatch.plans import PlanCreate, accept_plan, create_plan
from dispatch.runs import RunSheet, accepted_runs, load_run_sheet, record_check_in
from dispatch.service import build_problem
from dispatch.solver.greedy import plan_greedy
from dispatch.solver.problem import ActivityKind, Plan
from tests.conftest import Org
from tests.dispatch.test_fleet_api import Fleet
from tests.factories import waybill_body, with_carrier

DAY_START = datetime.fromisoformat("2026-12-03T06:00:00+08:00")


@dataclass
class AcceptedDay:
    """A carrier's accepted plan: two tractors, three moves, the first on leg 1 of an issued waybill."""

    carrier: Org
    fleet: Fleet
    plan_id: uuid.UUID
    plan: Plan
    waybill_number: str
    waybill_move_id: int

    @property
    def waybill_run(self) -> tuple[int, int]:
        """(tractor id, move id) of the run that carries the waybill's move."""
        run = next(run for run in self.plan.runs if str(self.waybill_move_id) in run.moves)
        return int(run.tractor_id), self.waybill_move_id


async def accepted_day(
    client: Any, session_factory: Any, carrier: Org, shipper: Org, *, waybill: dict[str, Any] | None = None
) -> AcceptedDay:
    """Build the fleet and moves through the API, plan them (greedy, instant) and accept the plan."""
    fleet = await Fleet(client, carrier).build()
    second_driver = await fleet.post(
        "drivers", {**CREATE_DISPATCH_DRIVER_EXAMPLE, "name": "陈伟强", "phone": "+86 139 2233 8810"}
    )
    await fleet.post("tractors", fleet.tractor_body(plate="粤S67890", driver_id=second_driver["id"]))
    trailers = [
        fleet.trailer,
        *[await fleet.post("trailers", fleet.trailer_body(plate=p)) for p in ("粤S5678挂", "粤S9012挂")],
    ]
    body = waybill or with_carrier(waybill_body(), 1, carrier.uscc, carrier.principal.name)
    issued = await client.post("/v1/waybills", json=body, headers=shipper.headers)
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]
    moves = [
        await fleet.post("moves", fleet.move_body(waybill_number=number, leg_index=1)),
        await fleet.post(
            "moves",
            fleet.move_body(
                trailer_id=trailers[1]["id"],
                ready_at="2026-12-03T08:00:00+08:00",
                deliver_by="2026-12-03T12:00:00+08:00",
                cutoff=None,
            ),
        ),
        await fleet.post(
            "moves",
            fleet.move_body(
                trailer_id=trailers[2]["id"],
                destination_id=fleet.places["yard"]["id"],
                ready_at="2026-12-03T09:00:00+08:00",
                deliver_by="2026-12-03T15:00:00+08:00",
                cutoff=None,
            ),
        ),
    ]
    async with session_factory() as session:
        created = await create_plan(
            session, carrier_id=carrier.principal.organisation_id, data=PlanCreate(start=DAY_START)
        )
        problem = await build_problem(session, carrier_id=carrier.principal.organisation_id, start=DAY_START)
        plan = plan_greedy(problem)
        row = await session.get(DispatchPlan, created.id)
        row.problem, row.plan, row.status = msgspec.to_builtins(problem), msgspec.to_builtins(plan), "done"
        await accept_plan(session, principal=carrier.principal, plan_id=created.id)
        await session.commit()
    assert any(str(moves[0]["id"]) in run.moves for run in plan.runs), plan.unassigned
    return AcceptedDay(
        carrier=carrier,
        fleet=fleet,
        plan_id=created.id,
        plan=plan,
        waybill_number=number,
        waybill_move_id=moves[0]["id"],
    )


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    org: Org = await make_org("carrier", name="东莞虎门甩挂物流有限公司")
    return org


@pytest.fixture
async def day(client: Any, session_factory: Any, carrier: Org, shipper: Org) -> AcceptedDay:
    return await accepted_day(client, session_factory, carrier, shipper)


async def sheet_of(db: Any, day: AcceptedDay, tractor_id: int) -> RunSheet:
    sheet = await load_run_sheet(
        db, carrier_id=day.carrier.principal.organisation_id, plan_id=day.plan_id, tractor_id=tractor_id
    )
    await db.rollback()
    return sheet


async def tap(db: Any, day: AcceptedDay, stop: str, action: str, **extra: Any) -> Any:
    tractor_id, move_id = day.waybill_run
    recorded = await record_check_in(
        db,
        principal=day.carrier.principal,
        plan_id=day.plan_id,
        tractor_id=tractor_id,
        move_id=move_id,
        stop=stop,
        action=action,
        at=extra.pop("at", utcnow()),
        **extra,
    )
    await db.commit()
    return recorded


async def test_the_run_sheet_lists_hook_and_drop_of_each_move_in_plan_order(db: Any, day: AcceptedDay) -> None:
    tractor_id, move_id = day.waybill_run
    run = next(run for run in day.plan.runs if run.tractor_id == str(tractor_id))

    sheet = await sheet_of(db, day, tractor_id)

    assert [s.sequence for s in sheet.stops] == list(range(1, 2 * len(run.moves) + 1))
    assert [(str(s.move_id), s.stop) for s in sheet.stops] == [
        (a.move_id, a.kind.value) for a in run.activities if a.kind in (ActivityKind.HOOK, ActivityKind.DROP)
    ]
    hook = next(s for s in sheet.stops if s.move_id == move_id and s.stop == "hook")
    drop = next(s for s in sheet.stops if s.move_id == move_id and s.stop == "drop")
    assert (hook.place_code, drop.place_code) == ("SD-BEIJIAO-3", "NANSHA-T2")
    assert hook.trailer_plate == "粤S1234挂"
    assert hook.trailer_type == "reefer"
    assert (hook.waybill_number, hook.leg_index) == (day.waybill_number, 1)
    assert hook.planned_start <= hook.planned_end <= drop.planned_start <= drop.planned_end
    assert sheet.tractor_plate in {"粤S12345", "粤S67890"}
    assert sheet.driver_name in {"黄志明", "陈伟强"}
    assert sheet.move_status[move_id] == "planned"
    assert sheet.next_stop == 1
    assert sheet.km == pytest.approx(run.km)


async def test_the_carriers_runs_are_listed_by_tractor_plate(db: Any, day: AcceptedDay) -> None:
    runs = await accepted_runs(db, carrier_id=day.carrier.principal.organisation_id)
    await db.rollback()

    assert [r.tractor_plate for r in runs] == sorted(r.tractor_plate for r in runs)
    assert sum(r.moves for r in runs) == sum(len(run.moves) for run in day.plan.runs)
    assert all(r.moves_done == 0 and r.next_stop_label and r.next_stop_label.startswith("hook · ") for r in runs)
    assert all(r.first_start is not None and r.last_end is not None and r.first_start < r.last_end for r in runs)


async def test_another_carrier_sees_no_run(db: Any, day: AcceptedDay, make_org: Any) -> None:
    other = await make_org("carrier")
    tractor_id, move_id = day.waybill_run
    with pytest.raises(NotFoundError):
        await load_run_sheet(db, carrier_id=other.principal.organisation_id, plan_id=day.plan_id, tractor_id=tractor_id)
    with pytest.raises(NotFoundError):
        await record_check_in(
            db,
            principal=other.principal,
            plan_id=day.plan_id,
            tractor_id=tractor_id,
            move_id=move_id,
            stop="hook",
            action="arrived",
            at=utcnow(),
        )
    assert await accepted_runs(db, carrier_id=other.principal.organisation_id) == []
    await db.rollback()


async def test_a_tractor_without_a_run_or_a_move_of_another_run_is_not_found(db: Any, day: AcceptedDay) -> None:
    move_id = day.waybill_move_id
    with pytest.raises(NotFoundError):
        await load_run_sheet(
            db, carrier_id=day.carrier.principal.organisation_id, plan_id=day.plan_id, tractor_id=10**9
        )
    with pytest.raises(NotFoundError):
        await record_check_in(
            db,
            principal=day.carrier.principal,
            plan_id=day.plan_id,
            tractor_id=10**9,
            move_id=move_id,
            stop="hook",
            action="arrived",
            at=utcnow(),
        )
    await db.rollback()


async def test_taps_in_natural_order_move_the_move_and_post_journey_events(db: Any, day: AcceptedDay) -> None:
    tractor_id, move_id = day.waybill_run
    start = utcnow() - timedelta(hours=2)
    steps = [
        ("hook", "arrived", {}),
        ("hook", "hooked", {}),
        ("hook", "departed", {}),
        ("drop", "arrived", {}),
        ("drop", "dropped", {}),
        ("drop", "delivered", {"receiver_name": "南沙码头 李工"}),
    ]
    statuses = []
    for minutes, (stop, action, extra) in enumerate(steps):
        recorded = await tap(db, day, stop, action, at=start + timedelta(minutes=20 * minutes), **extra)
        assert recorded.new
        assert recorded.event_id is not None
        statuses.append((await db.get(DispatchMove, move_id)).status)
        await db.rollback()

    assert statuses == ["planned", "in_progress", "in_progress", "in_progress", "done", "done"]
    sheet = await sheet_of(db, day, tractor_id)
    drop = next(s for s in sheet.stops if s.move_id == move_id and s.stop == "drop")
    assert set(drop.done) == {"arrived", "dropped", "delivered"}
    assert drop.finished
    delivered = await db.scalar(
        sa.select(DispatchCheckIn).where(
            col(DispatchCheckIn.move_id) == move_id, col(DispatchCheckIn.action) == "delivered"
        )
    )
    assert delivered.receiver_name == "南沙码头 李工"
    await db.rollback()


async def test_a_drop_puts_the_trailer_and_the_tractor_at_the_stop(db: Any, day: AcceptedDay) -> None:
    tractor_id, move_id = day.waybill_run
    drop = next(s for s in (await sheet_of(db, day, tractor_id)).stops if s.move_id == move_id and s.stop == "drop")
    trailer_id = (await db.get(DispatchAssignment, await _assignment_id(db, day, move_id))).trailer_id
    await db.rollback()
    start = utcnow() - timedelta(hours=1)
    for minutes, (stop, action) in enumerate([("hook", "hooked"), ("hook", "departed"), ("drop", "dropped")]):
        await tap(db, day, stop, action, at=start + timedelta(minutes=15 * minutes))
        await db.rollback()
    assert (await db.get(DispatchTrailer, trailer_id)).place_id == drop.place_id
    assert (await db.get(DispatchTractor, tractor_id)).current_place_id == drop.place_id
    await db.rollback()


async def _assignment_id(db: Any, day: AcceptedDay, move_id: int) -> int:
    return int(
        await db.scalar(
            sa.select(col(DispatchAssignment.id)).where(
                col(DispatchAssignment.plan_id) == day.plan_id, col(DispatchAssignment.move_id) == move_id
            )
        )
    )


async def test_tapping_twice_records_once(db: Any, day: AcceptedDay) -> None:
    first = await tap(db, day, "hook", "arrived")
    again = await tap(db, day, "hook", "arrived")

    assert again.new is False
    assert (again.id, again.event_id, again.at) == (first.id, first.event_id, first.at)
    count = await db.scalar(
        sa.select(sa.func.count()).select_from(DispatchCheckIn).where(col(DispatchCheckIn.plan_id) == day.plan_id)
    )
    await db.rollback()
    assert count == 1


async def test_delivery_needs_the_receivers_name_and_actions_belong_to_their_stop(db: Any, day: AcceptedDay) -> None:
    for stop, action, receiver in (
        ("drop", "delivered", None),
        ("drop", "delivered", "   "),
        ("hook", "dropped", None),
        ("yard", "arrived", None),
    ):
        with pytest.raises(DomainError) as refused:
            await tap(db, day, stop, action, receiver_name=receiver)
        assert refused.value.status_code == 400
        await db.rollback()


async def test_a_superseded_plan_takes_no_check_ins(db: Any, day: AcceptedDay) -> None:
    row = await db.get(DispatchPlan, day.plan_id)
    row.status = "superseded"
    await db.commit()

    with pytest.raises(InvalidStateError):
        await tap(db, day, "hook", "arrived")
    await db.rollback()
    sheet = await sheet_of(db, day, day.waybill_run[0])
    assert sheet.plan_status == "superseded"


async def test_a_refused_journey_event_leaves_nothing_written(db: Any, day: AcceptedDay) -> None:
    """An actual event far in the future is refused by the journey rules: no check-in, the move unchanged."""
    with pytest.raises(DomainError) as refused:
        await tap(db, day, "hook", "hooked", at=utcnow() + timedelta(days=1))
    await db.rollback()

    assert refused.value.status_code == 422
    count = await db.scalar(
        sa.select(sa.func.count()).select_from(DispatchCheckIn).where(col(DispatchCheckIn.plan_id) == day.plan_id)
    )
    move = await db.get(DispatchMove, day.waybill_move_id)
    assert (count, move.status) == (0, "planned")
    await db.rollback()


async def test_a_move_without_a_waybill_is_checked_in_without_journey_events(db: Any, day: AcceptedDay) -> None:
    run = next(run for run in day.plan.runs if any(m != str(day.waybill_move_id) for m in run.moves))
    move_id = int(next(m for m in run.moves if m != str(day.waybill_move_id)))

    recorded = await record_check_in(
        db,
        principal=day.carrier.principal,
        plan_id=day.plan_id,
        tractor_id=int(run.tractor_id),
        move_id=move_id,
        stop="drop",
        action="dropped",
        at=utcnow(),
    )
    await db.commit()

    assert recorded.event_id is None
    assert (await db.get(DispatchMove, move_id)).status == "done"
    await db.rollback()


async def test_a_delivery_on_the_last_leg_carries_the_receivers_proof(
    client: Any, session_factory: Any, db: Any, carrier: Org, shipper: Org
) -> None:
    body = with_carrier(waybill_body(), 1, carrier.uscc, carrier.principal.name)
    body["legs"] = body["legs"][:1]
    day = await accepted_day(client, session_factory, carrier, shipper, waybill=body)

    recorded = await tap(db, day, "drop", "delivered", receiver_name="南沙码头 李工")

    events = (await client.get(f"/v1/waybills/{day.waybill_number}/events", headers=carrier.headers)).json()["events"]
    delivered = next(event for event in events if event["event_id"] == str(recorded.event_id))
    assert delivered["event_type"] == "delivered"
    assert delivered["proof_of_delivery"]["receiver_name"] == "南沙码头 李工"
    assert delivered["proof_of_delivery"]["signature_ref"].startswith("driver-page:")
    assert delivered["place"]["name"] == "广州南沙港区二期集装箱码头 (南沙港)"
