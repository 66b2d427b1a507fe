"""The Litestar application: ``create_app()`` lists every router, plugin and handler in one place."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import swagger_ui_bundle
from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Reference,
    Schema,
    SecurityScheme,
    Server,
    Tag,
)
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router

from api.alerts import AlertController
from api.authority import AccessLogController, AuthorityController
from api.chain import ChainController
from api.dangerous_goods import DangerousGoodController
from api.dangerous_goods_assess import DangerousGoodsAssessController
from api.deps import PrincipalCache, provide_session
from api.dg_registry import DgCarrierPermitController, DgPersonController, DgVehicleController
from api.dispatch import (
    DriverController,
    MoveController,
    PlaceController,
    TractorController,
    TrailerController,
    YardInventoryController,
)
from api.dispatch_plans import DispatchPlanController
from api.documents import DocumentController
from api.events import EventController
from api.health import HealthController
from api.inputs import record_query_parameters, reject_unknown_query_parameters
from api.middleware import RequestContextMiddleware, allow_header_fixer
from api.organisations import OrganisationController
from api.pages.auth import SignInController, csrf_config, provide_page_user, session_config
from api.pages.carrier import CarrierController
from api.pages.driver import DriverRunController
from api.pages.planning import PlanningController
from api.pages.regulator import RegulatorController
from api.pages.runs import RunSheetController
from api.positions import PositionController
from api.problems import PROBLEM_MEDIA_TYPE, exception_handlers
from api.subscriptions import SubscriptionController
from api.waybills import WaybillController
from core.db import create_engine, create_session_factory
from core.jobs import configure_broker, start_in_process_worker, stop_in_process_worker
from core.logging import configure_logging
from core.settings import Settings, get_settings
from core.signing import activate_signer, get_signer
from core.types import InputStruct

__all__ = ("create_app",)

_SWAGGER_ASSETS = Path(swagger_ui_bundle.swagger_ui_path)
_STATIC = "/static/swagger-ui"
_FONTS = Path(__file__).resolve().parents[1] / "web" / "fonts"
_PAGE_ASSETS = Path(__file__).resolve().parents[1] / "web" / "static"


class MetricsController(PrometheusController):
    """Prometheus metrics in the text exposition format."""

    path = "/metrics"
    include_in_schema = False


def _openapi(settings: Settings) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Freight e-waybill API",
        version="1.0.0",
        description=(
            "One standardized electronic waybill that follows the cargo across road, rail, water, air "
            "and customs. Authenticate with `Authorization: Bearer <API key>`. Errors are RFC 9457 "
            "problem documents (`application/problem+json`)."
        ),
        path="/schema",
        servers=[Server(url="/")],
        tags=[
            Tag(name="Waybills", description="Issue, read, amend and cancel e-waybills"),
            Tag(name="Journey", description="Transport events and the timeline across every leg"),
            Tag(name="Subscriptions", description="Signed callbacks of a waybill's events to its shipper"),
            Tag(name="Authorities", description="Regulators' and customs' look-ups, each one logged"),
            Tag(
                name="Dispatch",
                description="A carrier's drop-and-hook fleet: places, tractors, drivers, trailers, moves",
            ),
            Tag(name="Dangerous goods", description="The ADR 2025 dangerous goods list (JT/T 617.3)"),
            Tag(name="Organisations", description="The caller's organisation and API keys"),
            Tag(name="Operations", description="Health probes"),
        ],
        components=Components(
            security_schemes={
                "BearerAuth": SecurityScheme(type="http", scheme="bearer", description="Organisation API key")
            }
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                path="/",
                js_url=f"{_STATIC}/swagger-ui-bundle.js",
                css_url=f"{_STATIC}/swagger-ui.css",
                standalone_preset_js_url=f"{_STATIC}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{_STATIC}/favicon-32x32.png'>",
            ),
            JsonRenderPlugin(),
        ],
    )


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    engine = create_engine(settings)
    broker = configure_broker(settings)
    signer = get_signer(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        app.state.settings = settings
        app.state.principal_cache = PrincipalCache(settings.auth_cache_seconds)
        app.state.broker = broker
        activate_signer(signer)
        # Without RabbitMQ this process runs the jobs itself; with it, `freight worker` does.
        job_worker = start_in_process_worker(broker) if settings.amqp_url is None else None
        # Everything loaded so far lives as long as the process: keep it out of the collector's
        # scans, which otherwise show up as latency spikes under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if job_worker is not None:
                await asyncio.to_thread(stop_in_process_worker, job_worker)
            else:
                await asyncio.to_thread(broker.close)
            await engine.dispose()

    prometheus = PrometheusConfig(
        app_name="freight",
        prefix="freight",
        group_path=True,
        exclude=["/metrics", "/health", "/static", "/schema"],
    )
    app = Litestar(
        route_handlers=[
            WaybillController,
            DocumentController,
            ChainController,
            EventController,
            SubscriptionController,
            AccessLogController,
            AuthorityController,
            OrganisationController,
            PlaceController,
            TractorController,
            DriverController,
            TrailerController,
            MoveController,
            YardInventoryController,
            DispatchPlanController,
            DangerousGoodController,
            DangerousGoodsAssessController,
            DgVehicleController,
            DgPersonController,
            DgCarrierPermitController,
            AlertController,
            PositionController,
            SignInController,
            RegulatorController,
            CarrierController,
            PlanningController,
            DriverRunController,
            RunSheetController,
            HealthController,
            MetricsController,
            create_static_files_router(path=_STATIC, directories=[_SWAGGER_ASSETS], include_in_schema=False),
            create_static_files_router(
                path="/static/fonts",
                directories=[_FONTS],
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=86_400, public=True),
            ),
            create_static_files_router(
                path="/static/pages",
                directories=[_PAGE_ASSETS],
                include_in_schema=False,
                cache_control=CacheControlHeader(max_age=3_600, public=True),
            ),
        ],
        dependencies={"db_session": Provide(provide_session), "page_user": Provide(provide_page_user)},
        exception_handlers=exception_handlers,
        before_request=reject_unknown_query_parameters,
        lifespan=[lifespan],
        middleware=[
            prometheus.middleware,
            lambda app: RequestContextMiddleware(app, access_log=settings.access_log),
            session_config(settings, signer).middleware,
        ],
        csrf_config=csrf_config(settings, signer),
        # Pages with thousands of map markers and CSV exports shrink tenfold; clients that do not ask
        # for gzip (Accept-Encoding) get the plain body.
        compression_config=CompressionConfig(backend="gzip", minimum_size=4096, gzip_compress_level=6),
        openapi_config=_openapi(settings),
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,
        debug=False,
    )
    _declare_closed_request_bodies(app.openapi_schema)
    _describe_errors_as_problems(app.openapi_schema)
    record_query_parameters(app)
    app.before_send.append(allow_header_fixer(app))  # type: ignore[arg-type]
    return app


def _describe_errors_as_problems(schema: OpenAPI) -> None:
    """Litestar documents its own 400 as plain JSON; every error of this API is a problem document."""
    problem = Reference(ref="#/components/schemas/Problem")
    for path in (schema.paths or {}).values():
        for operation in (path.get, path.post, path.put, path.patch, path.delete):
            for status, response in ((operation.responses or {}) if operation else {}).items():
                if int(status) >= 400 and isinstance(response, OpenAPIResponse) and response.content:
                    response.content = {PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=problem)}


def _input_struct_names() -> set[str]:
    pending, names = [InputStruct], set()
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def _declare_closed_request_bodies(schema: OpenAPI) -> None:
    """Say ``additionalProperties: false`` for every request struct, as msgspec enforces it."""
    components = schema.components.schemas if schema.components and schema.components.schemas else {}
    inputs = _input_struct_names()
    for name, component in components.items():
        if isinstance(component, Schema) and name.rsplit("_", 1)[-1] in inputs:
            component.additional_properties = False
