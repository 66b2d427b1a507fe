"""Background jobs of drop-and-hook planning."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import create_engine, create_session_factory
from core.jobs import job, job_settings, run_async
from dispatch.plans import run_plan

__all__ = ("plan_dispatch",)


@job(queue_name="dispatch", time_limit_s=600, max_retries=2, throws=(ValueError,))
def plan_dispatch(plan_id: str) -> None:
    """Solve a queued plan (``dispatch.plans.run_plan``); a plan no longer queued is left alone."""
    run_async(_plan(uuid.UUID(plan_id)))


async def _plan(plan_id: uuid.UUID) -> None:
    engine = create_engine(job_settings())
    factory = create_session_factory(engine)

    @asynccontextmanager
    async def session() -> AsyncIterator[AsyncSession]:
        async with factory() as opened:
            yield opened

    try:
        await run_plan(session, plan_id=plan_id)
    finally:
        await engine.dispose()
