"""HTTP routes of a carrier's dangerous-goods registry: its permit, vehicles, drivers and escorts.

Carriers only (others get 403); each carrier sees only its own records, another carrier's are 404
as if they did not exist. A dangerous-goods road leg of this carrier is checked against them.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from accounts.schemas import OrganisationRole, Principal
from api.deps import Caller, DbSession, provide_principal
from api.inputs import strict_body
from api.problems import problem_responses
from core.errors import ForbiddenError
from dangerous_goods import registry
from dangerous_goods.registry_schemas import (
    MAX_ID,
    DgCarrierPermitRead,
    DgCarrierPermitWrite,
    DgPersonCreate,
    DgPersonPage,
    DgPersonRead,
    DgPersonUpdate,
    DgVehicleCreate,
    DgVehiclePage,
    DgVehicleRead,
    DgVehicleUpdate,
)

__all__ = (
    "CREATE_DG_PERSON_EXAMPLE",
    "CREATE_DG_VEHICLE_EXAMPLE",
    "DG_CARRIER_PERMIT_EXAMPLE",
    "DgCarrierPermitController",
    "DgPersonController",
    "DgVehicleController",
)

CREATE_DG_VEHICLE_EXAMPLE: dict[str, Any] = {
    "plate": "粤E7K724",
    "transport_certificate_number": "粤交运管佛字440604012345号",
    "permitted_classes": ["2", "3", "8"],
    "tank_allowed": False,
    "permit_expires_on": "2027-06-30",
}
UPDATE_DG_VEHICLE_EXAMPLE: dict[str, Any] = {"permit_expires_on": "2028-06-30"}
DG_CARRIER_PERMIT_EXAMPLE: dict[str, Any] = {
    "permit_number": "粤交运管许可佛字440604000123号",
    "business_scope": "道路危险货物运输 (2类1项, 3类, 8类)",
    "permitted_classes": ["2", "3", "8"],
    "expires_on": "2029-12-31",
}
CREATE_DG_PERSON_EXAMPLE: dict[str, Any] = {
    "role": "driver",
    "name": "黄志明",
    "certificate_number": "441900198507121234",
    "qualification_type": "道路危险货物运输驾驶员",
    "qualified_classes": ["2", "3", "8"],
    "expires_on": "2028-03-31",
    "phone": "+86 138 2299 4410",
}
CREATE_DG_ESCORT_EXAMPLE: dict[str, Any] = {
    "role": "escort",
    "name": "陈丽华",
    "certificate_number": "440604199103155528",
    "qualification_type": "道路危险货物运输押运人员",
    "qualified_classes": ["3", "8"],
    "expires_on": "2027-11-30",
}
UPDATE_DG_PERSON_EXAMPLE: dict[str, Any] = {"expires_on": "2030-03-31", "qualified_classes": ["2", "3", "6.1", "8"]}

Carrier = NamedDependency[Principal]
"""The authenticated caller, a carrier (``carrier``)."""


async def provide_registry_carrier(principal: Caller) -> Principal:
    """The caller, if it is a carrier; 403 for every other role."""
    if principal.role is not OrganisationRole.CARRIER:
        raise ForbiddenError("only carriers keep a dangerous-goods registry")
    return principal


_DEPENDENCIES = {"principal": Provide(provide_principal), "carrier": Provide(provide_registry_carrier)}
_BASE = "/v1/dangerous-goods"

VehicleId = Annotated[
    int, PathParameter(ge=1, le=MAX_ID, description="Id of the vehicle, as returned when it was registered")
]
PersonId = Annotated[
    int, PathParameter(ge=1, le=MAX_ID, description="Id of the person, as returned when they were registered")
]
Cursor = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page", max_length=200)]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]

_CREATE = problem_responses(400, 401, 403, 409, 413, 422)
_LIST = problem_responses(400, 401, 403, 422)
_GET = problem_responses(400, 401, 403, 404)
_UPDATE = problem_responses(400, 401, 403, 404, 409, 413, 422)
_DELETE = problem_responses(400, 401, 403, 404)
_PARTIAL = "Fields left out keep their value. Unknown fields are refused."

VehicleCreateBody = SkipValidation[
    Annotated[
        DgVehicleCreate,
        Body(examples=[Example(summary="A tractor permitted for classes 2, 3 and 8", value=CREATE_DG_VEHICLE_EXAMPLE)]),
    ]
]
VehicleUpdateBody = SkipValidation[
    Annotated[DgVehicleUpdate, Body(examples=[Example(summary="Permit renewed", value=UPDATE_DG_VEHICLE_EXAMPLE)])]
]
PersonCreateBody = SkipValidation[
    Annotated[
        DgPersonCreate,
        Body(
            examples=[
                Example(summary="A dangerous-goods driver", value=CREATE_DG_PERSON_EXAMPLE),
                Example(summary="An escort (押运员)", value=CREATE_DG_ESCORT_EXAMPLE),
            ]
        ),
    ]
]
PermitBody = SkipValidation[
    Annotated[
        DgCarrierPermitWrite,
        Body(examples=[Example(summary="A permit for classes 2, 3 and 8", value=DG_CARRIER_PERMIT_EXAMPLE)]),
    ]
]
PersonUpdateBody = SkipValidation[
    Annotated[DgPersonUpdate, Body(examples=[Example(summary="Qualification renewed", value=UPDATE_DG_PERSON_EXAMPLE)])]
]


class DgVehicleController(Controller):
    """The carrier's vehicles approved for dangerous goods, with their permits."""

    path = f"{_BASE}/vehicles"
    tags = ["Dangerous goods registry"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDgVehicle",
        summary="Register a vehicle",
        description="The plate is unique per carrier (409 otherwise); the permit is valid through `permit_expires_on`.",
        status_code=HTTP_201_CREATED,
        responses=_CREATE,
    )
    async def create_vehicle(
        self, db_session: DbSession, carrier: Carrier, data: VehicleCreateBody
    ) -> Response[DgVehicleRead]:
        vehicle = await registry.create_vehicle(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, DgVehicleCreate)
        )
        await db_session.commit()
        return Response(vehicle, status_code=HTTP_201_CREATED, headers={"Location": f"{self.path}/{vehicle.id}"})

    @get("/", operation_id="listDgVehicles", summary="List registered vehicles", responses=_LIST)
    async def list_vehicles(
        self, db_session: DbSession, carrier: Carrier, cursor: Cursor = None, limit: Limit = 50
    ) -> DgVehiclePage:
        return await registry.list_vehicles(db_session, carrier_id=carrier.organisation_id, cursor=cursor, limit=limit)

    @get("/{vehicle_id:int}", operation_id="getDgVehicle", summary="Read a registered vehicle", responses=_GET)
    async def get_vehicle(self, db_session: DbSession, carrier: Carrier, vehicle_id: VehicleId) -> DgVehicleRead:
        return await registry.get_vehicle(db_session, carrier_id=carrier.organisation_id, vehicle_id=vehicle_id)

    @patch(
        "/{vehicle_id:int}",
        operation_id="updateDgVehicle",
        summary="Change a registered vehicle",
        description=_PARTIAL,
        responses=_UPDATE,
    )
    async def update_vehicle(
        self, db_session: DbSession, carrier: Carrier, vehicle_id: VehicleId, data: VehicleUpdateBody
    ) -> DgVehicleRead:
        vehicle = await registry.update_vehicle(
            db_session,
            carrier_id=carrier.organisation_id,
            vehicle_id=vehicle_id,
            update=strict_body(data, DgVehicleUpdate),
        )
        await db_session.commit()
        return vehicle

    @delete(
        "/{vehicle_id:int}",
        operation_id="deleteDgVehicle",
        summary="Remove a vehicle from the registry",
        status_code=HTTP_204_NO_CONTENT,
        responses=_DELETE,
    )
    async def delete_vehicle(self, db_session: DbSession, carrier: Carrier, vehicle_id: VehicleId) -> None:
        await registry.delete_vehicle(db_session, carrier_id=carrier.organisation_id, vehicle_id=vehicle_id)
        await db_session.commit()


class DgPersonController(Controller):
    """The carrier's drivers and escorts (押运员) with their qualification certificates."""

    path = f"{_BASE}/people"
    tags = ["Dangerous goods registry"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDgPerson",
        summary="Register a driver or escort",
        description="The certificate number is unique per carrier and role (409 otherwise).",
        status_code=HTTP_201_CREATED,
        responses=_CREATE,
    )
    async def create_person(
        self, db_session: DbSession, carrier: Carrier, data: PersonCreateBody
    ) -> Response[DgPersonRead]:
        person = await registry.create_person(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, DgPersonCreate)
        )
        await db_session.commit()
        return Response(person, status_code=HTTP_201_CREATED, headers={"Location": f"{self.path}/{person.id}"})

    @get("/", operation_id="listDgPeople", summary="List registered drivers and escorts", responses=_LIST)
    async def list_people(
        self, db_session: DbSession, carrier: Carrier, cursor: Cursor = None, limit: Limit = 50
    ) -> DgPersonPage:
        return await registry.list_people(db_session, carrier_id=carrier.organisation_id, cursor=cursor, limit=limit)

    @get("/{person_id:int}", operation_id="getDgPerson", summary="Read a registered driver or escort", responses=_GET)
    async def get_person(self, db_session: DbSession, carrier: Carrier, person_id: PersonId) -> DgPersonRead:
        return await registry.get_person(db_session, carrier_id=carrier.organisation_id, person_id=person_id)

    @patch(
        "/{person_id:int}",
        operation_id="updateDgPerson",
        summary="Change a registered driver or escort",
        description=_PARTIAL + " `phone: null` clears the phone.",
        responses=_UPDATE,
    )
    async def update_person(
        self, db_session: DbSession, carrier: Carrier, person_id: PersonId, data: PersonUpdateBody
    ) -> DgPersonRead:
        person = await registry.update_person(
            db_session,
            carrier_id=carrier.organisation_id,
            person_id=person_id,
            update=strict_body(data, DgPersonUpdate),
        )
        await db_session.commit()
        return person

    @delete(
        "/{person_id:int}",
        operation_id="deleteDgPerson",
        summary="Remove a driver or escort from the registry",
        status_code=HTTP_204_NO_CONTENT,
        responses=_DELETE,
    )
    async def delete_person(self, db_session: DbSession, carrier: Carrier, person_id: PersonId) -> None:
        await registry.delete_person(db_session, carrier_id=carrier.organisation_id, person_id=person_id)
        await db_session.commit()


class DgCarrierPermitController(Controller):
    """The carrier's road transport permit (道路运输经营许可证) and its dangerous-goods business scope."""

    path = f"{_BASE}/carrier-permit"
    tags = ["Dangerous goods registry"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @put(
        "/",
        operation_id="putDgCarrierPermit",
        summary="Register the carrier's road transport permit",
        description=(
            "Replaces the permit registered before. A dangerous-goods road leg of this carrier is refused "
            "unless the permit covers the load's classes and is valid on the leg's planned departure date."
        ),
        responses=problem_responses(400, 401, 403, 409, 413, 422),
    )
    async def put_permit(self, db_session: DbSession, carrier: Carrier, data: PermitBody) -> DgCarrierPermitRead:
        permit = await registry.put_carrier_permit(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, DgCarrierPermitWrite)
        )
        await db_session.commit()
        return permit

    @get(
        "/",
        operation_id="getDgCarrierPermit",
        summary="Read the carrier's road transport permit",
        description="404 until the carrier registers its permit.",
        responses=_GET,
    )
    async def get_permit(self, db_session: DbSession, carrier: Carrier) -> DgCarrierPermitRead:
        return await registry.get_carrier_permit(db_session, carrier_id=carrier.organisation_id)
