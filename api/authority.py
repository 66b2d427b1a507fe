"""HTTP routes for authorities (look-ups by equipment) and the shipper's view of their accesses."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import QueryParameter

from api.deps import Caller, DbSession, provide_principal
from api.params import AccessReason, NumberParam, waybill_number
from api.problems import problem_responses
from waybill import authority as service
from waybill.authority_schemas import AccessLog, EquipmentLookup

__all__ = ("AccessLogController", "AuthorityController")


class AuthorityController(Controller):
    """Look-ups for regulators and customs; every waybill shown is logged for its shipper to see."""

    path = "/v1/authority"
    tags = ["Authorities"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @get(
        "/waybills",
        operation_id="lookupWaybillsByEquipment",
        summary="Active waybills by vehicle plate, trailer plate or container number",
        description=(
            "Regulators and customs only. Give exactly one of `vehicle_plate`, `trailer_plate`, "
            "`container_number`; issued and in-transit waybills with a leg carrying it are returned, "
            f"newest first, at most {service.LOOKUP_LIMIT}. Each waybill returned is recorded in its "
            "access log with what was asked and `access_reason`."
        ),
        responses=problem_responses(400, 401, 403, 422),
    )
    async def lookup(
        self,
        db_session: DbSession,
        principal: Caller,
        vehicle_plate: Annotated[
            str | None,
            QueryParameter(description="Tractor or lorry plate, e.g. 粤E3K721", max_length=20, required=False),
        ] = None,
        trailer_plate: Annotated[
            str | None,
            QueryParameter(description="Semi-trailer plate, e.g. 粤E2386挂", max_length=20, required=False),
        ] = None,
        container_number: Annotated[
            str | None,
            QueryParameter(description="ISO 6346 container number, e.g. CSQU3054383", max_length=20, required=False),
        ] = None,
        access_reason: AccessReason = None,
    ) -> EquipmentLookup:
        kind, value = service.equipment_query(
            vehicle_plate=vehicle_plate, trailer_plate=trailer_plate, container_number=container_number
        )
        found = await service.lookup_by_equipment(
            db_session, principal=principal, kind=kind, value=value, reason=access_reason
        )
        await db_session.commit()
        return found


class AccessLogController(Controller):
    """The shipper's view of who among the authorities accessed its waybill."""

    path = "/v1/waybills/{number:str}/access-log"
    tags = ["Waybills"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @get(
        "/",
        operation_id="listWaybillAccessLog",
        summary="Authority accesses to the caller's waybill",
        description=(
            "Who (organisation name and USCC), when, what (read, look-up and what was asked) and why, "
            "newest first. The shipper of record only."
        ),
        responses=problem_responses(400, 401, 403, 404),
    )
    async def list_access_log(
        self,
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        before: Annotated[
            int | None, QueryParameter(ge=1, description="`next_before` of the previous page", required=False)
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500, description="Page size")] = 100,
    ) -> AccessLog:
        return await service.list_access_log(
            db_session, principal=principal, number=waybill_number(number), before=before, limit=limit
        )
