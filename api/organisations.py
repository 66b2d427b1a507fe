"""HTTP routes of organisations and their API keys."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, JSONBody, SkipValidation
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from accounts import service
from accounts.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationRole,
)
from api.deps import Caller, DbSession, provide_principal
from api.examples import CREATE_ORGANISATION_EXAMPLE
from api.inputs import strict_body
from api.problems import problem_responses
from core.errors import ForbiddenError
from core.types import OutputStruct

__all__ = ("OrganisationController",)


class OrganisationCreated(OutputStruct, frozen=True):
    """A new organisation and its first API key (shown this once)."""

    organisation: OrganisationRead
    api_key: ApiKeyIssued


class OrganisationController(Controller):
    """Who the caller is, its API keys, and (for platform operators) new organisations."""

    path = "/v1/organisations"
    tags = ["Organisations"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="createOrganisation",
        summary="Register an organisation (platform operators only)",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 403, 409, 413),
    )
    async def create_organisation(
        self,
        db_session: DbSession,
        principal: Caller,
        data: Annotated[
            OrganisationCreate,
            Body(examples=[Example(summary="A carrier in Dongguan", value=CREATE_ORGANISATION_EXAMPLE)]),
        ],
    ) -> OrganisationCreated:
        if principal.role is not OrganisationRole.ADMIN:
            raise ForbiddenError("only platform operators register organisations")
        organisation = await service.create_organisation(db_session, data=strict_body(data, OrganisationCreate))
        key = await service.issue_api_key(db_session, organisation_id=organisation.id, label="initial")
        await db_session.commit()
        return OrganisationCreated(organisation=organisation, api_key=key)

    @get("/me", operation_id="getMyOrganisation", summary="The caller's organisation", responses=problem_responses(401))
    async def get_me(self, db_session: DbSession, principal: Caller) -> OrganisationRead:
        return await service.get_organisation(db_session, organisation_id=principal.organisation_id)

    @get(
        "/me/api-keys",
        operation_id="listApiKeys",
        summary="The caller's API keys (without secrets)",
        responses=problem_responses(401),
    )
    async def list_keys(self, db_session: DbSession, principal: Caller) -> list[ApiKeyRead]:
        return await service.list_api_keys(db_session, organisation_id=principal.organisation_id)

    @post(
        "/me/api-keys",
        operation_id="createApiKey",
        summary="Issue a new API key; the key is shown once",
        status_code=HTTP_201_CREATED,
        responses=problem_responses(400, 401, 413),
    )
    async def create_key(
        self, db_session: DbSession, principal: Caller, data: SkipValidation[JSONBody[ApiKeyCreate]]
    ) -> ApiKeyIssued:
        label = strict_body(data, ApiKeyCreate).label
        key = await service.issue_api_key(db_session, organisation_id=principal.organisation_id, label=label)
        await db_session.commit()
        return key

    @post(
        "/me/api-keys/{key_id:uuid}/revoke",
        operation_id="revokeApiKey",
        summary="Revoke an API key; it stops working at once",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 404),
    )
    async def revoke_key(
        self, request: Request[Any, Any, Any], db_session: DbSession, principal: Caller, key_id: FromPath[uuid.UUID]
    ) -> ApiKeyRead:
        key = await service.revoke_api_key(db_session, organisation_id=principal.organisation_id, key_id=key_id)
        await db_session.commit()
        request.app.state.principal_cache.forget_key(key_id)
        return key
