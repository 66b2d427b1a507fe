"""HTTP routes of planning runs: ask for a plan, follow its progress, read it, accept it (carriers only)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from api.deps import DbSession, provide_principal
from api.dispatch import Carrier, provide_carrier
from api.inputs import strict_body
from api.problems import problem_responses
from core.jobs import enqueue
from dispatch import plans
from dispatch.plans import PlanCreate, PlanRead
from dispatch.tasks import plan_dispatch

__all__ = ("DispatchPlanController",)

PlanId = Annotated[uuid.UUID, PathParameter(description="The plan's id")]
PlanCreateBody = SkipValidation[
    Annotated[
        PlanCreate,
        Body(
            description="When to plan from, how far ahead and how long the solver may search",
            examples=[
                Example(
                    summary="Plan tomorrow's day shift in 30 s",
                    value={"start": "2026-12-03T06:00:00+08:00", "horizon_hours": 16, "time_limit_s": 30},
                )
            ],
        ),
    ]
]


class DispatchPlanController(Controller):
    """Planning runs of the carrier's open moves, solved in the background."""

    path = "/v1/dispatch/plans"
    tags = ["Dispatch"]
    dependencies = {"principal": Provide(provide_principal), "carrier": Provide(provide_carrier)}
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDispatchPlan",
        summary="Ask for a plan",
        description="Queues a planning run of the open moves and returns at once (202); "
        "follow it with getDispatchPlan.",
        status_code=HTTP_202_ACCEPTED,
        responses=problem_responses(400, 401, 403, 413, 422),
    )
    async def create_plan(
        self, request: Request[Any, Any, Any], db_session: DbSession, carrier: Carrier, data: PlanCreateBody
    ) -> Response[PlanRead]:
        plan = await plans.create_plan(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, PlanCreate)
        )
        await db_session.commit()
        await enqueue(request.app.state.broker, plan_dispatch, str(plan.id))
        return Response(plan, status_code=HTTP_202_ACCEPTED, headers={"Location": f"{self.path}/{plan.id}"})

    @get(
        "/",
        operation_id="listDispatchPlans",
        summary="The latest plans",
        responses=problem_responses(400, 401, 403),
    )
    async def list_plans(
        self,
        db_session: DbSession,
        carrier: Carrier,
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="How many, newest first")] = 20,
    ) -> list[PlanRead]:
        return await plans.list_plans(db_session, carrier_id=carrier.organisation_id, limit=limit)

    @get(
        "/{plan_id:uuid}",
        operation_id="getDispatchPlan",
        summary="A plan: its progress while it is solved, then the runs and the moves left out",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def get_plan(self, db_session: DbSession, carrier: Carrier, plan_id: PlanId) -> PlanRead:
        return await plans.get_plan(db_session, carrier_id=carrier.organisation_id, plan_id=plan_id)

    @post(
        "/{plan_id:uuid}/accept",
        operation_id="acceptDispatchPlan",
        summary="Accept a done plan: assignments per move, moves planned, the previous plan superseded",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    async def accept_plan(self, db_session: DbSession, carrier: Carrier, plan_id: PlanId) -> PlanRead:
        plan = await plans.accept_plan(db_session, principal=carrier, plan_id=plan_id)
        await db_session.commit()
        return plan
