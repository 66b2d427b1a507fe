"""HTTP routes of a waybill's event subscriptions: signed callbacks to the shipper's systems."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.deps import Caller, DbSession, provide_principal
from api.inputs import strict_body
from api.params import NumberParam, waybill_number
from api.problems import problem_responses
from waybill import subscriptions as service
from waybill.subscription_schemas import (
    DeliveryPage,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionList,
)

__all__ = ("SubscriptionController",)

CREATE_SUBSCRIPTION_EXAMPLE = {
    "callback_url": "https://tms.shunde-appliances.example/freight/callbacks",
    "event_types": ["departed", "arrived", "delivered"],
}

CreateBody = SkipValidation[
    Annotated[
        SubscriptionCreate,
        Body(
            examples=[
                Example(summary="Departures and arrivals to the shipper's TMS", value=CREATE_SUBSCRIPTION_EXAMPLE)
            ]
        ),
    ]
]
SubscriptionId = Annotated[uuid.UUID, PathParameter(description="Subscription id, as returned when it was made")]


class SubscriptionController(Controller):
    """Callbacks for a waybill's events, signed with HMAC-SHA256 (shipper of record only)."""

    path = "/v1/waybills/{number:str}/subscriptions"
    tags = ["Subscriptions"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createSubscription",
        summary="Subscribe a callback URL to the waybill's events",
        description=(
            "Each event recorded on the waybill (or each of `event_types`, if given) is POSTed to "
            "`callback_url` as JSON, signed in `X-Freight-Signature` (see docs/webhooks.md). The signing "
            "`secret` is in this answer only: store it now. https only, plain http only to localhost."
        ),
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def create_subscription(
        self, db_session: DbSession, principal: Caller, number: NumberParam, data: CreateBody
    ) -> SubscriptionCreated:
        created = await service.create_subscription(
            db_session,
            principal=principal,
            number=waybill_number(number),
            data=strict_body(data, SubscriptionCreate),
        )
        await db_session.commit()
        return created

    @get(
        "/",
        operation_id="listSubscriptions",
        summary="The waybill's subscriptions (without secrets)",
        responses=problem_responses(401, 403, 404),
    )
    async def list_subscriptions(
        self, db_session: DbSession, principal: Caller, number: NumberParam
    ) -> SubscriptionList:
        return await service.list_subscriptions(db_session, principal=principal, number=waybill_number(number))

    @delete(
        "/{subscription_id:uuid}",
        operation_id="deleteSubscription",
        summary="Deactivate a subscription",
        description="No more deliveries are made; pending ones are given up. The subscription stays listed.",
        status_code=HTTP_204_NO_CONTENT,
        responses=problem_responses(400, 401, 403, 404),
    )
    async def delete_subscription(
        self, db_session: DbSession, principal: Caller, number: NumberParam, subscription_id: SubscriptionId
    ) -> None:
        await service.deactivate_subscription(
            db_session, principal=principal, number=waybill_number(number), subscription_id=subscription_id
        )
        await db_session.commit()

    @post(
        "/{subscription_id:uuid}/rotate-secret",
        operation_id="rotateSubscriptionSecret",
        summary="Give a subscription a new signing secret",
        description=(
            "The new secret is in this answer only. For 24 hours the previous secret keeps signing too: "
            "each delivery then carries two `v1=` signatures, so receivers can switch without losing any."
        ),
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409),
    )
    async def rotate_secret(
        self, db_session: DbSession, principal: Caller, number: NumberParam, subscription_id: SubscriptionId
    ) -> SecretRotated:
        rotated = await service.rotate_secret(
            db_session, principal=principal, number=waybill_number(number), subscription_id=subscription_id
        )
        await db_session.commit()
        return rotated

    @get(
        "/{subscription_id:uuid}/deliveries",
        operation_id="listSubscriptionDeliveries",
        summary="Deliveries of a subscription: status, attempts, answers",
        responses=problem_responses(400, 401, 403, 404),
    )
    async def list_deliveries(
        self,
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        subscription_id: SubscriptionId,
        before: Annotated[
            int | None, QueryParameter(ge=1, description="`next_before` of the previous page", required=False)
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Page size")] = 50,
    ) -> DeliveryPage:
        return await service.list_deliveries(
            db_session,
            principal=principal,
            number=waybill_number(number),
            subscription_id=subscription_id,
            before=before,
            limit=limit,
        )
