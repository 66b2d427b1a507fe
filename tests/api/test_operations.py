"""Operations: health probes, metrics, request ids, structured logs, an OpenAPI UI that needs no CDN."""

from __future__ import annotations

import json
import re
from typing import Any

from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.conftest import Org, settings_for


async def test_liveness_answers_ok(client: Any) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_checks_the_database(client: Any) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_is_503_when_the_database_is_unreachable() -> None:
    app = create_app(settings_for("postgresql://postgres@127.0.0.1:1/nowhere"))
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith("application/problem+json")
    assert ready.json()["detail"] == "the database cannot be reached"


async def test_metrics_count_requests_by_route_template(client: Any, shipper: Org) -> None:
    await client.get("/v1/waybills/EW2611-00000000-0", headers=shipper.headers)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert re.search(r'freight_requests_total\{[^}]*path="/v1/waybills/\{number\}"', response.text)


async def test_every_response_carries_a_request_id(client: Any, shipper: Org) -> None:
    own = await client.get("/v1/waybills", headers={**shipper.headers, "X-Request-ID": "erp-batch-42"})
    assert own.headers["x-request-id"] == "erp-batch-42"
    fresh = await client.get("/v1/waybills/nonsense", headers=shipper.headers)
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    assert fresh.json()["request_id"] == fresh.headers["x-request-id"]
    hostile = await client.get("/health/live", headers={"X-Request-ID": "bad id\twith spaces"})
    assert hostile.headers["x-request-id"] != "bad id\twith spaces"


async def test_access_log_lines_are_json_with_request_id(database_url: str, capsys: Any) -> None:
    app = create_app(settings_for(database_url, FREIGHT_ACCESS_LOG="true"))
    async with AsyncTestClient(app=app) as client:
        await client.get("/health/live", headers={"X-Request-ID": "trace-me-1"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "request"]
    assert access
    assert access[-1]["request_id"] == "trace-me-1"
    assert access[-1]["path"] == "/health/live"
    assert access[-1]["status"] == 200
    assert "duration_ms" in access[-1]


async def test_openapi_ui_is_served_with_its_own_assets(client: Any) -> None:
    page = await client.get("/schema/")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert urls
    assert not [url for url in urls if url.startswith(("http://", "https://", "//"))]
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url


async def test_every_operation_has_an_operation_id_and_documents_its_errors(client: Any) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    ids = {op["operationId"] for op in operations}
    assert {"createWaybill", "getWaybill", "listWaybills", "amendWaybill", "cancelWaybill"} <= ids
    assert len(ids) == len(operations)
    for op in operations:
        if op["operationId"] in {"liveness", "readiness", "getSigningKey"}:  # public by design
            continue
        assert "401" in op["responses"], op["operationId"]
        assert "application/problem+json" in op["responses"]["401"]["content"]


async def test_each_request_body_has_an_example(client: Any) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path in schema["paths"].values():
        for op in path.values():
            body = op.get("requestBody")
            if body is None or op["operationId"] == "createApiKey":
                continue
            media = body["content"]["application/json"]
            assert media.get("examples") or media["schema"].get("examples"), op["operationId"]
