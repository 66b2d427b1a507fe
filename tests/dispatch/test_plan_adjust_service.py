"""The dispatcher adjusts a done plan, checks it, re-plans around pinned runs; a plan that breaks a rule is refused.

Most tests store the checker's hand-made Pearl River Delta day (see ``test_plan_check``) with its
greedy plan as a done plan; re-planning runs the real planning job on a fleet made through the
service.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from core.errors import InvalidStateError, NotFoundError, RuleViolationError
from dispatch import plans
from dispatch.plan_models import DispatchPlan
from dispatch.plans import PlanCreate
from dispatch.solver.greedy import plan_greedy
from dispatch.solver.matrix import great_circle_matrix
from dispatch.solver.plan_check import find_plan_violations
from dispatch.solver.problem import Plan, Problem
from tests.conftest import Org
from tests.dispatch.test_fleet_service import START, Fleet, at
from tests.dispatch.test_plan_check import pearl_river_delta_problem

DAY_START = START - timedelta(hours=8)
"""06:00 in Guangdong on the fleet's day, when its driver's shift starts."""


@pytest.fixture
async def carrier(make_org: Any) -> Org:
    org: Org = await make_org("carrier", name="东莞虎门甩挂物流有限公司")
    return org


@pytest.fixture
async def done_plan(session_factory: Any, carrier: Org) -> uuid.UUID:
    """The hand-made day and its greedy plan, stored as the carrier's done plan."""
    problem = pearl_river_delta_problem()
    plan = plan_greedy(problem, great_circle_matrix(problem.places, problem.matrix))
    async with session_factory() as session:
        row = DispatchPlan(
            carrier_id=carrier.principal.organisation_id,
            status="done",
            start=problem.start,
            horizon_hours=problem.horizon_hours,
            time_limit_s=5,
            problem=msgspec.to_builtins(problem),
            plan=msgspec.to_builtins(plan),
            progress={"elapsed_s": 5, "objective": 0, "tractors": 3, "unassigned": 1},
        )
        session.add(row)
        await session.commit()
        return row.id


async def stored_plan(session_factory: Any, plan_id: uuid.UUID) -> DispatchPlan:
    async with session_factory() as session:
        row: DispatchPlan | None = await session.get(DispatchPlan, plan_id)
        assert row is not None
        return row


def runs_of(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {run.tractor_id: run.moves for run in plan.runs}


async def test_adjusting_a_done_plan_stores_the_new_plan(
    session_factory: Any, carrier: Org, done_plan: uuid.UUID
) -> None:
    async with session_factory() as session:
        adjustment = await plans.adjust_plan(
            session,
            carrier_id=carrier.principal.organisation_id,
            plan_id=done_plan,
            move_id="M1",
            tractor_id="T04",
            position=0,
        )
        await session.commit()

    assert adjustment.violations == []
    row = await stored_plan(session_factory, done_plan)
    stored = msgspec.convert(row.plan, Plan)
    assert stored == adjustment.plan
    assert runs_of(stored) == {"T01": ("M2", "M3"), "T03": ("M4",), "T04": ("M1",)}
    assert (row.status, stored.solver) == ("done", "adjusted")
    assert row.progress == {
        "elapsed_s": 5,
        "objective": 0,
        "tractors": 3,
        "unassigned": 1,
        "deadhead_km": stored.summary.deadhead_km,
    }


async def test_an_accepted_plan_cannot_be_adjusted(session_factory: Any, carrier: Org, done_plan: uuid.UUID) -> None:
    async with session_factory() as session:
        row = await session.get(DispatchPlan, done_plan)
        row.status = "accepted"
        await session.commit()

    async with session_factory() as session:
        with pytest.raises(InvalidStateError, match="only a done plan can be adjusted; this one is accepted"):
            await plans.adjust_plan(
                session,
                carrier_id=carrier.principal.organisation_id,
                plan_id=done_plan,
                move_id="M1",
                tractor_id="T04",
                position=0,
            )


async def test_unknown_ids_and_other_carriers_are_not_found(
    session_factory: Any, carrier: Org, done_plan: uuid.UUID, make_org: Any
) -> None:
    other = await make_org("carrier")
    async with session_factory() as session:
        with pytest.raises(NotFoundError, match="move M99"):
            await plans.adjust_plan(
                session,
                carrier_id=carrier.principal.organisation_id,
                plan_id=done_plan,
                move_id="M99",
                tractor_id="T04",
                position=0,
            )
        with pytest.raises(NotFoundError):
            await plans.plan_check_of(session, carrier_id=other.principal.organisation_id, plan_id=done_plan)


async def test_a_plan_that_breaks_a_rule_is_checked_and_cannot_be_accepted(
    session_factory: Any, carrier: Org, done_plan: uuid.UUID
) -> None:
    carrier_id = carrier.principal.organisation_id
    async with session_factory() as session:
        assert await plans.plan_check_of(session, carrier_id=carrier_id, plan_id=done_plan) == ([], [])
        adjustment = await plans.adjust_plan(
            session, carrier_id=carrier_id, plan_id=done_plan, move_id="M4", tractor_id="T01", position=0
        )
        await session.commit()
    hazmat = "tractor T01: hazmat move M4 needs a tractor approved for dangerous goods"
    assert hazmat in adjustment.violations

    async with session_factory() as session:
        violations, _ = await plans.plan_check_of(session, carrier_id=carrier_id, plan_id=done_plan)
        assert violations == adjustment.violations
        with pytest.raises(RuleViolationError, match=r"the plan breaks [0-9]+ rules: .*hazmat move M4") as refused:
            await plans.accept_plan(session, principal=carrier.principal, plan_id=done_plan)
        assert refused.value.extra["violations"] == adjustment.violations
        await session.rollback()
    assert (await stored_plan(session_factory, done_plan)).status == "done"


async def test_replanning_around_a_pinned_run_keeps_it_and_plans_nothing_else_on_its_tractor(
    session_factory: Any, carrier: Org
) -> None:
    async with session_factory() as session:
        fleet = await Fleet(session, carrier).build()
        await fleet.move(
            kind="haul",
            trailer_id=fleet.reefer,
            origin_id=fleet.factory,
            destination_id=fleet.terminal,
            ready_at=at(-6),
            deliver_by=at(-2),
        )
        first = await plans.create_plan(
            session, carrier_id=fleet.carrier_id, data=PlanCreate(start=DAY_START, horizon_hours=16, time_limit_s=1)
        )
        await session.commit()
    await plans.run_plan(session_factory, plan_id=first.id)
    async with session_factory() as session:
        source = await plans.get_plan(session, carrier_id=fleet.carrier_id, plan_id=first.id)
    assert source.status == "done", source.error
    assert source.plan is not None
    (pinned,) = source.plan.runs

    async with session_factory() as session:
        fleet.db = session
        later = await fleet.trailer("粤S7777挂", fleet.factory, loaded=True)
        extra = await fleet.move(
            kind="haul", trailer_id=later, origin_id=fleet.factory, destination_id=fleet.terminal, ready_at=at(-5)
        )
        queued = await plans.replan_around(
            session,
            carrier_id=fleet.carrier_id,
            plan_id=first.id,
            pinned_tractor_ids=[int(pinned.tractor_id)],
            time_limit_s=1,
        )
        await session.commit()
    assert queued.status == "queued"
    assert (queued.start, queued.horizon_hours) == (source.start, source.horizon_hours)
    await plans.run_plan(session_factory, plan_id=queued.id)

    row = await stored_plan(session_factory, queued.id)
    assert row.status == "done", row.error
    assert row.source_plan_id == first.id
    problem = msgspec.convert(row.problem, Problem)
    replanned = msgspec.convert(row.plan, Plan)
    assert problem.fixed_runs == (pinned,)
    assert replanned.runs == (pinned,)
    assert [entry.move_id for entry in replanned.unassigned] == [str(extra)]
    assert find_plan_violations(problem, replanned, great_circle_matrix(problem.places, problem.matrix)) == []


async def test_replanning_needs_a_run_of_each_pinned_tractor(
    session_factory: Any, carrier: Org, done_plan: uuid.UUID
) -> None:
    async with session_factory() as session:
        with pytest.raises(NotFoundError, match="no run of tractor T04"):
            await plans.replan_around(
                session,
                carrier_id=carrier.principal.organisation_id,
                plan_id=done_plan,
                pinned_tractor_ids=["T01", "T04"],
                time_limit_s=5,
            )
        with pytest.raises(RuleViolationError, match="time_limit_s"):
            await plans.replan_around(
                session,
                carrier_id=carrier.principal.organisation_id,
                plan_id=done_plan,
                pinned_tractor_ids=["T01"],
                time_limit_s=0,
            )
