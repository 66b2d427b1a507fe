"""Property-based tests from the app's own OpenAPI document, on a live server and real PostgreSQL.

Schemathesis generates valid and invalid requests for every operation; whatever it sends, the API
must answer as documented and never with a 5xx. The one check left out is "schema-valid data is
accepted": check characters (USCC, ISO 6346) and business rules (a 409 for a cancelled waybill, a
422 for an amendment that changes nothing) cannot be expressed in JSON Schema, so valid-looking data
is sometimes rightly refused. Path parameters are often replaced with waybills
that exist, so that amend, cancel and leg changes are exercised on real rows, not only on 404s.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from api.app import create_app
from tests.conftest import settings_for
from tests.factories import waybill_body
from tests.live import LiveServer

MAX_EXAMPLES = 40


@pytest.fixture(scope="module")
def live_server(migrated: dict[str, str]) -> Iterator[LiveServer]:
    with LiveServer(migrated["postgresql"]) as server:
        yield server


async def _register_shipper(database_url: str) -> str:
    from accounts import service as accounts
    from accounts.schemas import OrganisationCreate, OrganisationRole
    from core.db import create_engine, create_session_factory
    from tests.factories import new_uscc

    engine = create_engine(settings_for(database_url))
    try:
        async with create_session_factory(engine)() as session:
            data = OrganisationCreate(name="模糊测试托运人有限公司", role=OrganisationRole.SHIPPER, uscc=new_uscc())
            organisation = await accounts.create_organisation(session, data=data)
            key = await accounts.issue_api_key(session, organisation_id=organisation.id, label="schemathesis")
            await session.commit()
            return key.key
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def caller(live_server: LiveServer, migrated: dict[str, str]) -> dict[str, Any]:
    """A shipper with a pool of its own waybills, some with legs under way."""
    key = asyncio.run(_register_shipper(migrated["postgresql"]))
    headers = {"Authorization": f"Bearer {key}"}
    numbers = []
    with httpx.Client(base_url=live_server.url, headers=headers) as http:
        for index in range(12):
            response = http.post("/v1/waybills", json=waybill_body(draft=index % 4 == 0))
            response.raise_for_status()
            numbers.append(response.json()["number"])
    return {"headers": headers, "numbers": numbers}


# The app's own OpenAPI document, exactly as it serves it at /schema/openapi.json.
schema = schemathesis.openapi.from_dict(create_app(settings_for("sqlite://")).openapi_schema.to_schema())


def _use_real_number(case: Any) -> bool:
    """Half of the positive cases get a waybill that exists; negative cases keep their invalid path."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return False
    digest = hashlib.sha256(repr(case.path_parameters).encode()).digest()
    return digest[0] % 2 == 0


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_every_generated_request_as_documented(
    case: Any, live_server: LiveServer, caller: dict[str, Any]
) -> None:
    if case.path_parameters and "number" in case.path_parameters and _use_real_number(case):
        pool = caller["numbers"]
        case.path_parameters["number"] = pool[hash(repr(case.body)) % len(pool)]
    case.call_and_validate(
        base_url=live_server.url, headers=caller["headers"], excluded_checks=[positive_data_acceptance]
    )
