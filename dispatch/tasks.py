"""Background jobs of drop-and-hook planning."""

from __future__ import annotations

import uuid

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
    try:
        await run_plan(create_session_factory(engine), plan_id=plan_id)
    finally:
        await engine.dispose()
