"""HTTP routes of a carrier's drop-and-hook fleet: places, tractors, drivers, trailers, moves, yard inventory.

Carriers only (others get 403); each carrier sees and references only its own objects, another
carrier's are 404 as if they did not exist.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import Example
from litestar.params import Body, PathParameter, QueryParameter, SkipValidation
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from accounts.schemas import OrganisationRole, Principal
from api.deps import Caller, DbSession, provide_principal
from api.examples import (
    CREATE_DISPATCH_DRIVER_EXAMPLE,
    CREATE_DISPATCH_MOVE_EXAMPLE,
    CREATE_DISPATCH_PLACE_EXAMPLES,
    CREATE_DISPATCH_TRACTOR_EXAMPLE,
    CREATE_DISPATCH_TRAILER_EXAMPLE,
    UPDATE_DISPATCH_DRIVER_EXAMPLE,
    UPDATE_DISPATCH_MOVE_EXAMPLE,
    UPDATE_DISPATCH_PLACE_EXAMPLE,
    UPDATE_DISPATCH_TRACTOR_EXAMPLE,
    UPDATE_DISPATCH_TRAILER_EXAMPLE,
)
from api.inputs import strict_body
from api.problems import problem_responses
from core.errors import ForbiddenError
from dispatch import service
from dispatch.schemas import (
    MAX_ID,
    DriverCreate,
    DriverPage,
    DriverRead,
    DriverUpdate,
    MoveCreate,
    MovePage,
    MoveRead,
    MoveStatus,
    MoveUpdate,
    PlaceCreate,
    PlacePage,
    PlaceRead,
    PlaceUpdate,
    TractorCreate,
    TractorPage,
    TractorRead,
    TractorUpdate,
    TrailerCreate,
    TrailerPage,
    TrailerRead,
    TrailerUpdate,
    YardInventory,
)
from dispatch.solver.problem import MoveKind, PlaceKind, TrailerType

__all__ = (
    "DriverController",
    "MoveController",
    "PlaceController",
    "TractorController",
    "TrailerController",
    "YardInventoryController",
)

Carrier = NamedDependency[Principal]
"""The authenticated caller, a carrier (``carrier``)."""


async def provide_carrier(principal: Caller) -> Principal:
    """The caller, if it is a carrier; 403 for every other role."""
    if principal.role is not OrganisationRole.CARRIER:
        raise ForbiddenError("only carriers keep a drop-and-hook fleet")
    return principal


_DEPENDENCIES = {"principal": Provide(provide_principal), "carrier": Provide(provide_carrier)}
_BASE = "/v1/dispatch"


def _object_id(what: str) -> object:
    return PathParameter(ge=1, le=MAX_ID, description=f"Id of the {what}, as returned when it was made")


PlaceId = Annotated[int, _object_id("place")]
TractorId = Annotated[int, _object_id("tractor")]
DriverId = Annotated[int, _object_id("driver")]
TrailerId = Annotated[int, _object_id("trailer")]
MoveId = Annotated[int, _object_id("move")]
Cursor = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page", max_length=200)]
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size")]
PlaceFilter = Annotated[
    int | None, QueryParameter(ge=1, le=MAX_ID, description="Only trailers at this place (id)", required=False)
]
TrailerTypeFilter = Annotated[
    TrailerType | None, QueryParameter(name="type", description="Only trailers of this type", required=False)
]

_CREATE = problem_responses(400, 401, 403, 409, 413, 422)
_LIST = problem_responses(400, 401, 403, 422)
_GET = problem_responses(400, 401, 403, 404)
_UPDATE = problem_responses(400, 401, 403, 404, 409, 413, 422)
_DELETE = problem_responses(400, 401, 403, 404, 409)
_PARTIAL = (
    "Fields left out keep their value; `null` clears an optional field. Unknown fields are refused, "
    "and the result must satisfy the same rules as a new object."
)

# Request bodies: documented as their structs, converted strictly in the handler (see api.inputs).
PlaceCreateBody = SkipValidation[
    Annotated[
        PlaceCreate,
        Body(
            examples=[
                Example(summary=summary, value=value) for summary, value in CREATE_DISPATCH_PLACE_EXAMPLES.items()
            ]
        ),
    ]
]
PlaceUpdateBody = SkipValidation[
    Annotated[PlaceUpdate, Body(examples=[Example(summary="Longer gate hours", value=UPDATE_DISPATCH_PLACE_EXAMPLE)])]
]
TractorCreateBody = SkipValidation[
    Annotated[
        TractorCreate,
        Body(examples=[Example(summary="A hazmat tractor based in Dongguan", value=CREATE_DISPATCH_TRACTOR_EXAMPLE)]),
    ]
]
TractorUpdateBody = SkipValidation[
    Annotated[
        TractorUpdate,
        Body(examples=[Example(summary="Back in service at Nansha", value=UPDATE_DISPATCH_TRACTOR_EXAMPLE)]),
    ]
]
DriverCreateBody = SkipValidation[
    Annotated[
        DriverCreate,
        Body(examples=[Example(summary="A day-shift hazmat driver", value=CREATE_DISPATCH_DRIVER_EXAMPLE)]),
    ]
]
DriverUpdateBody = SkipValidation[
    Annotated[DriverUpdate, Body(examples=[Example(summary="Longer shift", value=UPDATE_DISPATCH_DRIVER_EXAMPLE)])]
]
TrailerCreateBody = SkipValidation[
    Annotated[
        TrailerCreate,
        Body(examples=[Example(summary="An empty reefer in the Dongguan yard", value=CREATE_DISPATCH_TRAILER_EXAMPLE)]),
    ]
]
TrailerUpdateBody = SkipValidation[
    Annotated[
        TrailerUpdate,
        Body(examples=[Example(summary="Dropped loaded at Nansha", value=UPDATE_DISPATCH_TRAILER_EXAMPLE)]),
    ]
]
MoveCreateBody = SkipValidation[
    Annotated[
        MoveCreate,
        Body(
            examples=[
                Example(summary="Refrigerators from Shunde to the Nansha terminal", value=CREATE_DISPATCH_MOVE_EXAMPLE)
            ]
        ),
    ]
]
MoveUpdateBody = SkipValidation[
    Annotated[MoveUpdate, Body(examples=[Example(summary="Later promise", value=UPDATE_DISPATCH_MOVE_EXAMPLE)])]
]


class PlaceController(Controller):
    """The carrier's yards, shipper sites, terminals and berths."""

    path = f"{_BASE}/places"
    tags = ["Dispatch"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDispatchPlace",
        summary="Add a place",
        description="Opening hours and cut-offs are local times (Asia/Shanghai); the code is unique per carrier.",
        status_code=HTTP_201_CREATED,
        responses=_CREATE,
    )
    async def create_place(self, db_session: DbSession, carrier: Carrier, data: PlaceCreateBody) -> Response[PlaceRead]:
        place = await service.create_place(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, PlaceCreate)
        )
        await db_session.commit()
        return Response(place, status_code=HTTP_201_CREATED, headers={"Location": f"{self.path}/{place.id}"})

    @get("/", operation_id="listDispatchPlaces", summary="List places", responses=_LIST)
    async def list_places(
        self,
        db_session: DbSession,
        carrier: Carrier,
        kind: Annotated[
            PlaceKind | None, QueryParameter(description="Only places of this kind", required=False)
        ] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> PlacePage:
        return await service.list_places(
            db_session, carrier_id=carrier.organisation_id, kind=kind, cursor=cursor, limit=limit
        )

    @get("/{place_id:int}", operation_id="getDispatchPlace", summary="Read a place", responses=_GET)
    async def get_place(self, db_session: DbSession, carrier: Carrier, place_id: PlaceId) -> PlaceRead:
        return await service.get_place(db_session, carrier_id=carrier.organisation_id, place_id=place_id)

    @patch(
        "/{place_id:int}",
        operation_id="updateDispatchPlace",
        summary="Change a place",
        description=_PARTIAL,
        responses=_UPDATE,
    )
    async def update_place(
        self, db_session: DbSession, carrier: Carrier, place_id: PlaceId, data: PlaceUpdateBody
    ) -> PlaceRead:
        place = await service.update_place(
            db_session, carrier_id=carrier.organisation_id, place_id=place_id, update=strict_body(data, PlaceUpdate)
        )
        await db_session.commit()
        return place

    @delete(
        "/{place_id:int}",
        operation_id="deleteDispatchPlace",
        summary="Delete a place",
        description="Refused (409) while a tractor, trailer or move refers to the place.",
        status_code=HTTP_204_NO_CONTENT,
        responses=_DELETE,
    )
    async def delete_place(self, db_session: DbSession, carrier: Carrier, place_id: PlaceId) -> None:
        await service.delete_place(db_session, carrier_id=carrier.organisation_id, place_id=place_id)
        await db_session.commit()


class TractorController(Controller):
    """The carrier's tractor units and the crews assigned to them."""

    path = f"{_BASE}/tractors"
    tags = ["Dispatch"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDispatchTractor",
        summary="Add a tractor",
        description="Places and crew are ids of the carrier's own places and drivers; the plate is unique per carrier.",
        status_code=HTTP_201_CREATED,
        responses=_CREATE,
    )
    async def create_tractor(
        self, db_session: DbSession, carrier: Carrier, data: TractorCreateBody
    ) -> Response[TractorRead]:
        tractor = await service.create_tractor(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, TractorCreate)
        )
        await db_session.commit()
        return Response(tractor, status_code=HTTP_201_CREATED, headers={"Location": f"{self.path}/{tractor.id}"})

    @get("/", operation_id="listDispatchTractors", summary="List tractors", responses=_LIST)
    async def list_tractors(
        self,
        db_session: DbSession,
        carrier: Carrier,
        out_of_service: Annotated[
            bool | None, QueryParameter(description="Only tractors out of (true) or in (false) service", required=False)
        ] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> TractorPage:
        return await service.list_tractors(
            db_session, carrier_id=carrier.organisation_id, out_of_service=out_of_service, cursor=cursor, limit=limit
        )

    @get("/{tractor_id:int}", operation_id="getDispatchTractor", summary="Read a tractor", responses=_GET)
    async def get_tractor(self, db_session: DbSession, carrier: Carrier, tractor_id: TractorId) -> TractorRead:
        return await service.get_tractor(db_session, carrier_id=carrier.organisation_id, tractor_id=tractor_id)

    @patch(
        "/{tractor_id:int}",
        operation_id="updateDispatchTractor",
        summary="Change a tractor",
        description=_PARTIAL,
        responses=_UPDATE,
    )
    async def update_tractor(
        self, db_session: DbSession, carrier: Carrier, tractor_id: TractorId, data: TractorUpdateBody
    ) -> TractorRead:
        tractor = await service.update_tractor(
            db_session,
            carrier_id=carrier.organisation_id,
            tractor_id=tractor_id,
            update=strict_body(data, TractorUpdate),
        )
        await db_session.commit()
        return tractor

    @delete(
        "/{tractor_id:int}",
        operation_id="deleteDispatchTractor",
        summary="Delete a tractor",
        status_code=HTTP_204_NO_CONTENT,
        responses=_DELETE,
    )
    async def delete_tractor(self, db_session: DbSession, carrier: Carrier, tractor_id: TractorId) -> None:
        await service.delete_tractor(db_session, carrier_id=carrier.organisation_id, tractor_id=tractor_id)
        await db_session.commit()


class DriverController(Controller):
    """The carrier's drivers and escorts: shifts, qualifications, driving already done."""

    path = f"{_BASE}/drivers"
    tags = ["Dispatch"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDispatchDriver",
        summary="Add a driver or escort",
        status_code=HTTP_201_CREATED,
        responses=_CREATE,
    )
    async def create_driver(
        self, db_session: DbSession, carrier: Carrier, data: DriverCreateBody
    ) -> Response[DriverRead]:
        driver = await service.create_driver(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, DriverCreate)
        )
        await db_session.commit()
        return Response(driver, status_code=HTTP_201_CREATED, headers={"Location": f"{self.path}/{driver.id}"})

    @get("/", operation_id="listDispatchDrivers", summary="List drivers and escorts", responses=_LIST)
    async def list_drivers(
        self, db_session: DbSession, carrier: Carrier, cursor: Cursor = None, limit: Limit = 50
    ) -> DriverPage:
        return await service.list_drivers(db_session, carrier_id=carrier.organisation_id, cursor=cursor, limit=limit)

    @get("/{driver_id:int}", operation_id="getDispatchDriver", summary="Read a driver", responses=_GET)
    async def get_driver(self, db_session: DbSession, carrier: Carrier, driver_id: DriverId) -> DriverRead:
        return await service.get_driver(db_session, carrier_id=carrier.organisation_id, driver_id=driver_id)

    @patch(
        "/{driver_id:int}",
        operation_id="updateDispatchDriver",
        summary="Change a driver",
        description=_PARTIAL,
        responses=_UPDATE,
    )
    async def update_driver(
        self, db_session: DbSession, carrier: Carrier, driver_id: DriverId, data: DriverUpdateBody
    ) -> DriverRead:
        driver = await service.update_driver(
            db_session, carrier_id=carrier.organisation_id, driver_id=driver_id, update=strict_body(data, DriverUpdate)
        )
        await db_session.commit()
        return driver

    @delete(
        "/{driver_id:int}",
        operation_id="deleteDispatchDriver",
        summary="Delete a driver",
        description="Refused (409) while a tractor has the driver as driver or escort.",
        status_code=HTTP_204_NO_CONTENT,
        responses=_DELETE,
    )
    async def delete_driver(self, db_session: DbSession, carrier: Carrier, driver_id: DriverId) -> None:
        await service.delete_driver(db_session, carrier_id=carrier.organisation_id, driver_id=driver_id)
        await db_session.commit()


class TrailerController(Controller):
    """The carrier's semi-trailers: where each stands, loaded or empty."""

    path = f"{_BASE}/trailers"
    tags = ["Dispatch"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDispatchTrailer",
        summary="Add a trailer",
        description="The plate ends in 挂 and is unique per carrier; the place is one of the carrier's.",
        status_code=HTTP_201_CREATED,
        responses=_CREATE,
    )
    async def create_trailer(
        self, db_session: DbSession, carrier: Carrier, data: TrailerCreateBody
    ) -> Response[TrailerRead]:
        trailer = await service.create_trailer(
            db_session, carrier_id=carrier.organisation_id, data=strict_body(data, TrailerCreate)
        )
        await db_session.commit()
        return Response(trailer, status_code=HTTP_201_CREATED, headers={"Location": f"{self.path}/{trailer.id}"})

    @get("/", operation_id="listDispatchTrailers", summary="List trailers", responses=_LIST)
    async def list_trailers(
        self,
        db_session: DbSession,
        carrier: Carrier,
        place_id: PlaceFilter = None,
        trailer_type: TrailerTypeFilter = None,
        loaded: Annotated[
            bool | None, QueryParameter(description="Only loaded (true) or empty (false) trailers", required=False)
        ] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> TrailerPage:
        filters = service.TrailerFilters(place_id=place_id, type=trailer_type, loaded=loaded)
        return await service.list_trailers(
            db_session, carrier_id=carrier.organisation_id, filters=filters, cursor=cursor, limit=limit
        )

    @get("/{trailer_id:int}", operation_id="getDispatchTrailer", summary="Read a trailer", responses=_GET)
    async def get_trailer(self, db_session: DbSession, carrier: Carrier, trailer_id: TrailerId) -> TrailerRead:
        return await service.get_trailer(db_session, carrier_id=carrier.organisation_id, trailer_id=trailer_id)

    @patch(
        "/{trailer_id:int}",
        operation_id="updateDispatchTrailer",
        summary="Change a trailer",
        description=_PARTIAL,
        responses=_UPDATE,
    )
    async def update_trailer(
        self, db_session: DbSession, carrier: Carrier, trailer_id: TrailerId, data: TrailerUpdateBody
    ) -> TrailerRead:
        trailer = await service.update_trailer(
            db_session,
            carrier_id=carrier.organisation_id,
            trailer_id=trailer_id,
            update=strict_body(data, TrailerUpdate),
        )
        await db_session.commit()
        return trailer

    @delete(
        "/{trailer_id:int}",
        operation_id="deleteDispatchTrailer",
        summary="Delete a trailer",
        description="Refused (409) while a move refers to the trailer.",
        status_code=HTTP_204_NO_CONTENT,
        responses=_DELETE,
    )
    async def delete_trailer(self, db_session: DbSession, carrier: Carrier, trailer_id: TrailerId) -> None:
        await service.delete_trailer(db_session, carrier_id=carrier.organisation_id, trailer_id=trailer_id)
        await db_session.commit()


class MoveController(Controller):
    """The trailer moves to plan: hauls, positionings of empties, collections after loading."""

    path = f"{_BASE}/moves"
    tags = ["Dispatch"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createDispatchMove",
        summary="Add a trailer move",
        description=(
            "A `haul` names its trailer and origin; a `position` names the trailer type to bring; a `collect` "
            "names its trailer and origin, or follows a position move (`after_move_id`). `deliver_by` and "
            "`cutoff` are not before `ready_at`. A `waybill_number` with `leg_index` ties the move to a leg of "
            "a waybill the carrier may see."
        ),
        status_code=HTTP_201_CREATED,
        responses=_CREATE,
    )
    async def create_move(self, db_session: DbSession, carrier: Carrier, data: MoveCreateBody) -> Response[MoveRead]:
        move = await service.create_move(db_session, principal=carrier, data=strict_body(data, MoveCreate))
        await db_session.commit()
        return Response(move, status_code=HTTP_201_CREATED, headers={"Location": f"{self.path}/{move.id}"})

    @get("/", operation_id="listDispatchMoves", summary="List trailer moves", responses=_LIST)
    async def list_moves(
        self,
        db_session: DbSession,
        carrier: Carrier,
        status: Annotated[list[MoveStatus] | None, QueryParameter(description="Only these states")] = None,
        kind: Annotated[MoveKind | None, QueryParameter(description="Only moves of this kind", required=False)] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> MovePage:
        filters = service.MoveFilters(status=tuple(status or ()), kind=kind)
        return await service.list_moves(
            db_session, carrier_id=carrier.organisation_id, filters=filters, cursor=cursor, limit=limit
        )

    @get("/{move_id:int}", operation_id="getDispatchMove", summary="Read a trailer move", responses=_GET)
    async def get_move(self, db_session: DbSession, carrier: Carrier, move_id: MoveId) -> MoveRead:
        return await service.get_move(db_session, carrier_id=carrier.organisation_id, move_id=move_id)

    @patch(
        "/{move_id:int}",
        operation_id="updateDispatchMove",
        summary="Change a trailer move",
        description=_PARTIAL,
        responses=_UPDATE,
    )
    async def update_move(
        self, db_session: DbSession, carrier: Carrier, move_id: MoveId, data: MoveUpdateBody
    ) -> MoveRead:
        move = await service.update_move(
            db_session, principal=carrier, move_id=move_id, update=strict_body(data, MoveUpdate)
        )
        await db_session.commit()
        return move

    @delete(
        "/{move_id:int}",
        operation_id="deleteDispatchMove",
        summary="Delete a trailer move",
        description="Refused (409) while another move comes after it.",
        status_code=HTTP_204_NO_CONTENT,
        responses=_DELETE,
    )
    async def delete_move(self, db_session: DbSession, carrier: Carrier, move_id: MoveId) -> None:
        await service.delete_move(db_session, carrier_id=carrier.organisation_id, move_id=move_id)
        await db_session.commit()


class YardInventoryController(Controller):
    """What stands in the yards: the dispatcher's "how many empty reefers at Nansha"."""

    path = f"{_BASE}/yard-inventory"
    tags = ["Dispatch"]
    dependencies = _DEPENDENCIES
    security = [{"BearerAuth": []}]

    @get(
        "/",
        operation_id="getYardInventory",
        summary="Trailers per place and type, empty and loaded",
        description="Counts of the carrier's trailers at each place by type; out-of-service ones are counted apart.",
        responses=problem_responses(400, 401, 403),
    )
    async def get_yard_inventory(
        self,
        db_session: DbSession,
        carrier: Carrier,
        place_id: PlaceFilter = None,
        trailer_type: TrailerTypeFilter = None,
    ) -> YardInventory:
        return await service.yard_inventory(
            db_session, carrier_id=carrier.organisation_id, place_id=place_id, trailer_type=trailer_type
        )
