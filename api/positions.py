"""HTTP route of GNSS position reports from carriers' tracking platforms."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, SkipValidation
from litestar.status_codes import HTTP_200_OK

from accounts.schemas import OrganisationRole
from api.deps import Caller, DbSession, provide_principal
from api.inputs import strict_body
from api.problems import problem_responses
from core.errors import ForbiddenError
from tracking.schemas import PositionReceipt, PositionReports
from tracking.service import record_positions

__all__ = ("PositionController",)

POSITIONS_EXAMPLE: dict[str, Any] = {
    "positions": [
        {"plate": "粤E3K721", "time": "2026-12-03T13:20:00+08:00", "lat": 22.9321, "lon": 113.2185, "speed": 52.5},
        {"plate": "粤E3K721", "time": "2026-12-03T13:20:30+08:00", "lat": 22.9338, "lon": 113.2227, "heading": 71},
    ]
}
_REPORTING_ROLES = frozenset({OrganisationRole.CARRIER, OrganisationRole.ADMIN})

PositionsBody = SkipValidation[
    Annotated[PositionReports, Body(examples=[Example(summary="Two fixes of a tractor", value=POSITIONS_EXAMPLE)])]
]


class PositionController(Controller):
    """Carriers' GNSS platforms report where their vehicles are, in batches."""

    path = "/v1/positions"
    tags = ["Tracking"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="reportVehiclePositions",
        summary="Report vehicle positions",
        description=(
            "Up to 5,000 GNSS fixes (plate, time, latitude, longitude, optional speed in km/h and heading) "
            "in one request, stored together. A fix already stored for the same vehicle and time is not "
            "stored twice, so a batch can be sent again safely. Times more than 5 minutes ahead or more "
            "than 7 days old are refused. Carriers only."
        ),
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 413, 422),
    )
    async def report_positions(self, db_session: DbSession, principal: Caller, data: PositionsBody) -> PositionReceipt:
        batch = strict_body(data, PositionReports)
        if principal.role not in _REPORTING_ROLES:
            raise ForbiddenError("only carriers report vehicle positions")
        receipt = await record_positions(db_session, batch.positions, reporter_uscc=principal.uscc)
        await db_session.commit()
        return receipt
