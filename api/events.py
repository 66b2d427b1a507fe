"""HTTP routes of transport events and the journey timeline."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.deps import Caller, DbSession, provide_principal
from api.inputs import strict_body
from api.params import AccessReason, NumberParam, request_line, waybill_number
from api.problems import problem_responses
from waybill import events as service
from waybill.event_schemas import (
    Timeline,
    TransportEventBatch,
    TransportEventCreate,
    TransportEventList,
    TransportEventRead,
)

__all__ = ("EventController",)

GATE_IN_EXAMPLE: dict[str, Any] = {
    "event_type": "gate_in",
    "classifier": "actual",
    "event_time": "2026-12-03T14:05:00+08:00",
    "leg": 1,
    "place": {"locode": "CNFOS", "name": "佛山北滘港集装箱码头"},
    "equipment": {"trailer_plate": "粤E2386挂", "container_number": "CSQU3054383"},
    "external_ref": "BJ-GATE-20261203-0147",
}
DEPARTED_EXAMPLE: dict[str, Any] = {
    "event_type": "departed",
    "event_time": "2026-12-03T13:02:00+08:00",
    "leg": 1,
    "place": {"latitude": 22.9265, "longitude": 113.2092},
    "equipment": {"vehicle_plate": "粤E3K721", "trailer_plate": "粤E2386挂"},
    "source": "gnss",
}

EventBody = SkipValidation[
    Annotated[
        TransportEventCreate,
        Body(
            examples=[
                Example(summary="Trailer gated in at the river terminal", value=GATE_IN_EXAMPLE),
                Example(summary="Departure seen by GNSS", value=DEPARTED_EXAMPLE),
            ]
        ),
    ]
]
BatchBody = SkipValidation[
    Annotated[
        TransportEventBatch,
        Body(
            examples=[Example(summary="Departure and gate-in", value={"events": [DEPARTED_EXAMPLE, GATE_IN_EXAMPLE]})]
        ),
    ]
]


class EventController(Controller):
    """Carriers, ports and customs report events on the legs they are party to; every party reads the timeline."""

    path = "/v1/waybills/{number:str}"
    tags = ["Journey"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @post(
        "/events",
        operation_id="postTransportEvent",
        summary="Report a transport event",
        description=(
            "An equipment, transport, customs, handover, exception or delivery event on a leg the caller is "
            "party to. Events are never edited: withdraw a mistaken one with a `retracted` event. Late events "
            "are accepted and ordered by event time. Sending the same `external_ref` again returns the event "
            "recorded the first time (200) without applying it twice."
        ),
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def post_event(
        self, db_session: DbSession, principal: Caller, number: NumberParam, data: EventBody
    ) -> Response[TransportEventRead]:
        event = strict_body(data, TransportEventCreate)
        recorded, new = await service.record_events(
            db_session, principal=principal, number=waybill_number(number), events=[event]
        )
        await db_session.commit()
        return Response(recorded[0], status_code=HTTP_201_CREATED if new else HTTP_200_OK)

    @post(
        "/events/batch",
        operation_id="postTransportEvents",
        summary="Report several events at once",
        description="Up to 500 events of one waybill, applied together or not at all; errors name `events[i]`.",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def post_events(
        self, db_session: DbSession, principal: Caller, number: NumberParam, data: BatchBody
    ) -> TransportEventList:
        batch = strict_body(data, TransportEventBatch)
        canonical = waybill_number(number)
        recorded, _ = await service.record_events(
            db_session, principal=principal, number=canonical, events=batch.events, batch=True
        )
        await db_session.commit()
        return TransportEventList(number=canonical, events=recorded)

    @get(
        "/events",
        operation_id="listTransportEvents",
        summary="Every event of a waybill, in event-time order",
        responses=problem_responses(400, 401, 404),
    )
    async def list_events(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        access_reason: AccessReason = None,
    ) -> TransportEventList:
        canonical = waybill_number(number)
        events = await service.list_events(
            db_session,
            principal=principal,
            number=canonical,
            access_reason=access_reason,
            request=request_line(request),
        )
        await db_session.commit()
        return TransportEventList(number=canonical, events=events)

    @get(
        "/timeline",
        operation_id="getTimeline",
        summary="The journey across every leg",
        description=(
            "Current status, place and equipment, each leg's progress, the next planned step, and an estimated "
            "arrival that moves with reported delays and estimates."
        ),
        responses=problem_responses(400, 401, 404),
    )
    async def timeline(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        access_reason: AccessReason = None,
    ) -> Timeline:
        timeline = await service.get_timeline(
            db_session,
            principal=principal,
            number=waybill_number(number),
            access_reason=access_reason,
            request=request_line(request),
        )
        await db_session.commit()
        return timeline
