"""HTTP routes of the e-waybill: thin handlers that parse, call the service, and commit."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, HeaderParameter, PathParameter, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.deps import Caller, DbSession, provide_principal
from api.examples import AMEND_WAYBILL_EXAMPLE, CANCEL_WAYBILL_EXAMPLE, CREATE_WAYBILL_EXAMPLE, UPDATE_LEG_EXAMPLE
from api.inputs import parse_query_time, strict_body
from api.params import AccessReason, NumberParam, request_line, waybill_number
from api.problems import problem_responses
from waybill import service
from waybill.schemas import (
    ChangeList,
    LegUpdate,
    TransportMode,
    WaybillAmendment,
    WaybillCancellation,
    WaybillCreate,
    WaybillPage,
    WaybillRead,
    WaybillStatus,
    WaybillVersionList,
)

__all__ = ("WaybillController",)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description="Repeat a request safely: the same key and body return the first result",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        required=False,
    ),
]


# Request bodies: documented as their structs, converted strictly in the handler (see api.inputs).
CreateBody = SkipValidation[
    Annotated[
        WaybillCreate,
        Body(
            examples=[
                Example(summary="Refrigerators from Shunde to Shekou by truck and barge", value=CREATE_WAYBILL_EXAMPLE)
            ]
        ),
    ]
]
AmendBody = SkipValidation[
    Annotated[
        WaybillAmendment, Body(examples=[Example(summary="Delivery postponed by a day", value=AMEND_WAYBILL_EXAMPLE)])
    ]
]
CancelBody = SkipValidation[
    Annotated[WaybillCancellation, Body(examples=[Example(summary="Goods not ready", value=CANCEL_WAYBILL_EXAMPLE)])]
]
LegUpdateBody = SkipValidation[
    Annotated[LegUpdate, Body(examples=[Example(summary="Replacement tractor", value=UPDATE_LEG_EXAMPLE)])]
]


class WaybillController(Controller):
    """Issue, read, list, amend and cancel e-waybills."""

    path = "/v1/waybills"
    tags = ["Waybills"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createWaybill",
        summary="Issue a waybill",
        description=(
            "Issue an e-waybill with the caller as shipper of record (or keep it as a draft with "
            "`draft: true`). Send an `Idempotency-Key` to make retries safe: the same key and body "
            "return the waybill made the first time (200), the same key with another body is refused (422)."
        ),
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 409, 413, 422),
    )
    async def create_waybill(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        data: CreateBody,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[WaybillRead]:
        request_data = strict_body(data, WaybillCreate)
        digest = hashlib.sha256(msgspec.json.encode(request_data)).hexdigest() if idempotency_key else ""
        waybill, created = await service.create_waybill(
            db_session, principal=principal, data=request_data, idempotency_key=idempotency_key, request_sha256=digest
        )
        await db_session.commit()
        headers = {"Location": f"/v1/waybills/{waybill.number}"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return Response(waybill, status_code=HTTP_201_CREATED if created else HTTP_200_OK, headers=headers)

    @get(
        "/",
        operation_id="listWaybills",
        summary="List waybills",
        description="Waybills the caller may see, newest first, one page at a time.",
        responses=problem_responses(400, 401, 422),
    )
    async def list_waybills(
        self,
        db_session: DbSession,
        principal: Caller,
        status: Annotated[list[WaybillStatus] | None, QueryParameter(description="Only these states")] = None,
        created_from: Annotated[
            str | None,
            QueryParameter(
                description="Created at or after (RFC 3339 with offset)",
                max_length=40,
                schema_extra={"format": "date-time"},
            ),
        ] = None,
        created_to: Annotated[
            str | None,
            QueryParameter(
                description="Created before (RFC 3339 with offset)", max_length=40, schema_extra={"format": "date-time"}
            ),
        ] = None,
        mode: Annotated[TransportMode | None, QueryParameter(description="Has a leg of this mode")] = None,
        place: Annotated[
            str | None,
            QueryParameter(
                description="UN/LOCODE (CNSHK) or division code or prefix (4406) of pickup, delivery or a leg",
                max_length=6,
            ),
        ] = None,
        carrier: Annotated[
            str | None, QueryParameter(description="USCC of a carrier with a leg on the waybill", max_length=18)
        ] = None,
        cursor: Annotated[
            str | None, QueryParameter(description="`next_cursor` of the previous page", max_length=200)
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="Page size")] = 50,
    ) -> WaybillPage:
        filters = service.WaybillFilters(
            status=tuple(status or ()),
            created_from=parse_query_time(created_from, "created_from"),
            created_to=parse_query_time(created_to, "created_to"),
            mode=mode,
            place=place.upper() if place else None,
            carrier_uscc=carrier.upper() if carrier else None,
        )
        return await service.list_waybills(db_session, principal=principal, filters=filters, cursor=cursor, limit=limit)

    @get(
        "/{number:str}",
        operation_id="getWaybill",
        summary="Read a waybill",
        responses=problem_responses(401, 404),
    )
    async def get_waybill(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        access_reason: AccessReason = None,
    ) -> WaybillRead:
        waybill = await service.get_waybill(
            db_session,
            principal=principal,
            number=waybill_number(number),
            access_reason=access_reason,
            request=request_line(request),
        )
        await db_session.commit()
        return waybill

    @get(
        "/{number:str}/versions",
        operation_id="listWaybillVersions",
        summary="Every version of a waybill",
        responses=problem_responses(401, 404),
    )
    async def list_versions(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        access_reason: AccessReason = None,
    ) -> WaybillVersionList:
        versions = await service.list_versions(
            db_session,
            principal=principal,
            number=waybill_number(number),
            access_reason=access_reason,
            request=request_line(request),
        )
        await db_session.commit()
        return versions

    @get(
        "/{number:str}/changes",
        operation_id="listWaybillChanges",
        summary="Audit trail of a waybill",
        description="Every change to the waybill and its legs: what, who, when.",
        responses=problem_responses(401, 404),
    )
    async def list_changes(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        access_reason: AccessReason = None,
    ) -> ChangeList:
        changes = await service.list_changes(
            db_session,
            principal=principal,
            number=waybill_number(number),
            access_reason=access_reason,
            request=request_line(request),
        )
        await db_session.commit()
        return changes

    @post(
        "/{number:str}/amendments",
        operation_id="amendWaybill",
        summary="Amend the goods part",
        description=(
            "Make a new version of the goods part. Fields left out keep their value. Refused once the "
            "waybill is delivered; earlier versions stay readable."
        ),
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def amend_waybill(
        self,
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        data: AmendBody,
    ) -> WaybillRead:
        waybill = await service.amend_waybill(
            db_session,
            principal=principal,
            number=waybill_number(number),
            amendment=strict_body(data, WaybillAmendment),
        )
        await db_session.commit()
        return waybill

    @post(
        "/{number:str}/cancel",
        operation_id="cancelWaybill",
        summary="Cancel a waybill",
        description="Cancel with a reason code; refused once the first leg has started.",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413),
    )
    async def cancel_waybill(
        self,
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        data: CancelBody,
    ) -> WaybillRead:
        waybill = await service.cancel_waybill(
            db_session,
            principal=principal,
            number=waybill_number(number),
            cancellation=strict_body(data, WaybillCancellation),
        )
        await db_session.commit()
        return waybill

    @post(
        "/{number:str}/issue",
        operation_id="issueWaybill",
        summary="Issue a draft",
        status_code=HTTP_200_OK,
        responses=problem_responses(401, 403, 404, 409),
    )
    async def issue_waybill(self, db_session: DbSession, principal: Caller, number: NumberParam) -> WaybillRead:
        waybill = await service.issue_waybill(db_session, principal=principal, number=waybill_number(number))
        await db_session.commit()
        return waybill

    @patch(
        "/{number:str}/legs/{sequence:int}",
        operation_id="updateWaybillLeg",
        summary="Change a leg's carrier, times or equipment",
        description=(
            "The shipper may change anything on a leg that has not completed; the leg's carrier may "
            "change its planned times and equipment (e.g. a replacement tractor after a breakdown). "
            "Each change is recorded in the audit trail."
        ),
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def update_leg(
        self,
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        sequence: Annotated[int, PathParameter(ge=1, le=20, description="Leg sequence number")],
        data: LegUpdateBody,
    ) -> WaybillRead:
        waybill = await service.update_leg(
            db_session,
            principal=principal,
            number=waybill_number(number),
            sequence=sequence,
            update=strict_body(data, LegUpdate),
        )
        await db_session.commit()
        return waybill
