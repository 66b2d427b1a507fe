"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from litestar import Controller, get
from litestar.datastructures import State
from litestar.exceptions import ServiceUnavailableException

from api.problems import problem_responses
from core.types import OutputStruct

__all__ = ("HealthController",)


class HealthStatus(OutputStruct, frozen=True):
    """A probe's answer."""

    status: str


class HealthController(Controller):
    """``/health/live`` answers while the process runs; ``/health/ready`` also needs the database."""

    path = "/health"
    tags = ["Operations"]

    @get("/live", operation_id="liveness", summary="The process is up")
    async def live(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get(
        "/ready",
        operation_id="readiness",
        summary="The database answers",
        responses=problem_responses(503),
    )
    async def ready(self, state: State) -> HealthStatus:
        try:
            async with asyncio.timeout(2):
                async with state.engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
        except Exception:  # any failure to reach the database means "not ready"
            raise ServiceUnavailableException("the database cannot be reached") from None
        return HealthStatus(status="ok")
