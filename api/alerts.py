"""HTTP routes of dangerous-goods monitoring alerts and their lifecycle (open, acknowledged, closed).

Regulators and admins see every alert, a carrier the alerts of its own vehicles; other roles get
403, and an alert the caller may not see is 404. Regulators and the alert's carrier acknowledge and
close it; each step records who (organisation USCC and name), when and an optional note.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_200_OK

from api.deps import Caller, DbSession, provide_principal
from api.inputs import strict_body
from api.problems import problem_responses
from core.cursors import MAX_ID
from monitoring import service
from monitoring.alerts import AlertKind
from monitoring.models import AlertStatus
from monitoring.schemas import AlertNote, AlertPage, AlertRead

__all__ = ("ACKNOWLEDGE_ALERT_EXAMPLE", "CLOSE_ALERT_EXAMPLE", "AlertController")

ACKNOWLEDGE_ALERT_EXAMPLE: dict[str, Any] = {"note": "已电话联系驾驶员，车辆正在返回规划路线"}
CLOSE_ALERT_EXAMPLE: dict[str, Any] = {"note": "车辆已驶离禁行区域，核实无异常"}

AlertId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="Id of the alert")]
Cursor = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page", max_length=200)]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
StatusFilter = Annotated[AlertStatus | None, QueryParameter(description="Only alerts in this status", required=False)]
KindFilter = Annotated[AlertKind | None, QueryParameter(description="Only alerts of this kind", required=False)]
PlateFilter = Annotated[
    str | None,
    QueryParameter(description="Only alerts of this vehicle, e.g. 粤E7K724", max_length=16, required=False),
]
AcknowledgeBody = SkipValidation[
    Annotated[
        AlertNote | None,
        Body(
            description="Optional; `note` says what was done.",
            examples=[Example(summary="Driver called", value=ACKNOWLEDGE_ALERT_EXAMPLE)],
        ),
    ]
]
CloseBody = SkipValidation[
    Annotated[
        AlertNote | None,
        Body(
            description="Optional; `note` says how the episode ended.",
            examples=[Example(summary="Checked, nothing wrong", value=CLOSE_ALERT_EXAMPLE)],
        ),
    ]
]

_LIST = problem_responses(400, 401, 403, 422)
_GET = problem_responses(400, 401, 403, 404)
_ACT = problem_responses(400, 401, 403, 404, 409, 413)


def _note(data: Any) -> str | None:
    return None if data is None else strict_body(data, AlertNote).note


class AlertController(Controller):
    """Alerts raised by the monitoring rules on vehicles carrying dangerous goods."""

    path = "/v1/alerts"
    tags = ["Monitoring"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @get("/", operation_id="listAlerts", summary="List alerts, oldest first", responses=_LIST)
    async def list_alerts(
        self,
        db_session: DbSession,
        principal: Caller,
        status: StatusFilter = None,
        kind: KindFilter = None,
        plate: PlateFilter = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> AlertPage:
        return await service.list_alerts(
            db_session, principal, status=status, kind=kind, plate=plate, cursor=cursor, limit=limit
        )

    @get("/{alert_id:int}", operation_id="getAlert", summary="Read an alert", responses=_GET)
    async def get_alert(self, db_session: DbSession, principal: Caller, alert_id: AlertId) -> AlertRead:
        return await service.get_alert(db_session, principal, alert_id)

    @post(
        "/{alert_id:int}/acknowledge",
        operation_id="acknowledgeAlert",
        summary="Acknowledge an open alert",
        description="Regulators and the vehicle's carrier; 409 unless the alert is open.",
        status_code=HTTP_200_OK,
        responses=_ACT,
    )
    async def acknowledge(
        self, db_session: DbSession, principal: Caller, alert_id: AlertId, data: AcknowledgeBody = None
    ) -> AlertRead:
        alert = await service.acknowledge(db_session, alert_id, principal, _note(data))
        await db_session.commit()
        return alert

    @post(
        "/{alert_id:int}/close",
        operation_id="closeAlert",
        summary="Close an open or acknowledged alert",
        description="Regulators and the vehicle's carrier; 409 if the alert is closed already.",
        status_code=HTTP_200_OK,
        responses=_ACT,
    )
    async def close(
        self, db_session: DbSession, principal: Caller, alert_id: AlertId, data: CloseBody = None
    ) -> AlertRead:
        alert = await service.close(db_session, alert_id, principal, _note(data))
        await db_session.commit()
        return alert
