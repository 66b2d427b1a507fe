"""The carrier's planning pages: ask for a plan, watch it being made, read it (Gantt chart, map,
comparison, unassigned moves), adjust it, pin runs and re-plan the rest, accept it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, PathParameter
from litestar.response import Redirect
from sqlmodel import col

from api.deps import DbSession
from api.pages.auth import SignedIn, page_exception_handlers, principal_of
from api.pages.carrier import carrier_of, local_input_time
from api.pages.gantt import GanttRow, render_gantt
from api.pages.geo import Marker, Route, render_map
from api.pages.rendering import page_language, render_page
from core.db import utcnow
from core.jobs import enqueue
from dispatch import plans
from dispatch.board import board_version
from dispatch.models import DispatchMove
from dispatch.plan_view import PlanView, load_plan_row, move_label, plan_view, route_points
from dispatch.plans import PlanCreate
from dispatch.runs import accepted_runs
from dispatch.schemas import MoveStatus
from dispatch.solver.problem import Activity, Problem
from dispatch.tasks import plan_dispatch
from waybill.document import DISPLAY_ZONE, Language, translations_for

__all__ = ("PlanningController",)

PlanId = Annotated[uuid.UUID, PathParameter(description="The plan's id")]
_RUN_COLOURS = 10
_MAP_MARGIN_DEG = 0.08


class PlanForm(msgspec.Struct, kw_only=True):
    """The Plan button's form: from when, how far ahead, how long to search."""

    start: str = ""
    horizon_hours: str = "24"
    time_limit_s: str = "30"


class AdjustForm(msgspec.Struct, kw_only=True):
    """Move one task to a tractor (the same one to reorder) at a place in its run."""

    move_id: str = ""
    tractor_id: str = ""
    position: str = "1"
    """1 for the run's first move."""


def _number(value: str, field: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValidationException(detail=f"{field}: not a number") from None
    if not low <= number <= high:
        raise ValidationException(detail=f"{field}: must be between {low:g} and {high:g}")
    return number


def _plan_create(form: PlanForm) -> PlanCreate:
    try:
        return PlanCreate(
            start=local_input_time(form.start, "start"),
            horizon_hours=_number(form.horizon_hours, "horizon_hours", 1, 72),
            time_limit_s=_number(form.time_limit_s, "time_limit_s", 1, 300),
        )
    except ValueError as exc:
        raise ValidationException(detail=str(exc)) from None


def _describer(problem: Problem, language: Language) -> Callable[[Activity], str]:
    _ = translations_for(language).gettext
    places = {place.id: place.name or place.id for place in problem.places}
    trailers = {trailer.id: trailer.plate or trailer.id for trailer in problem.trailers}
    kinds = {"drive": _("Drive"), "hook": _("Hook"), "drop": _("Drop"), "wait": _("Wait"), "break": _("Break")}

    def describe(activity: Activity) -> str:
        start = activity.start.astimezone(DISPLAY_ZONE).strftime("%H:%M")
        end = activity.end.astimezone(DISPLAY_ZONE).strftime("%H:%M")
        where = places.get(activity.place_id, activity.place_id)
        if activity.to_place_id:
            where += " → " + places.get(activity.to_place_id, activity.to_place_id)
        parts = [f"{kinds.get(activity.kind.value, activity.kind.value)} {start}–{end}", where]
        if activity.move_id:
            parts.append(f"#{activity.move_id}")
        if activity.trailer_id:
            parts.append(trailers.get(activity.trailer_id, activity.trailer_id))
        if activity.km:
            parts.append(f"{activity.km:.0f} km")
        return " · ".join(parts)

    return describe


def _plan_map(view: PlanView, language: Language, title: str) -> Any:
    routes: list[Route] = []
    used: set[str] = set()
    for index, run in enumerate(view.runs):
        points = route_points(view.problem, run.run)
        if len(points) >= 2:
            routes.append(Route(points=points, css_class=f"route run c{index % _RUN_COLOURS}", label=run.tractor_plate))
        used.update(a.place_id for a in run.run.activities)
    places = [p for p in view.problem.places if p.id in used]
    markers = [
        Marker(lat=p.latitude, lon=p.longitude, label=p.name or p.id, css_class="marker place small") for p in places
    ]
    focus = None
    if places:
        lats, lons = [p.latitude for p in places], [p.longitude for p in places]
        focus = (
            min(lats) - _MAP_MARGIN_DEG,
            min(lons) - _MAP_MARGIN_DEG,
            max(lats) + _MAP_MARGIN_DEG,
            max(lons) + _MAP_MARGIN_DEG,
        )
    return render_map(markers=markers, routes=routes, language=language, focus=focus, title=title)


async def _default_start(session: Any, carrier_id: Any) -> str:
    """When to plan from unless the dispatcher says otherwise: in five minutes, or when the first open move is
    ready if that is later (a day prepared the evening before plans from its morning)."""
    soonest = utcnow() + timedelta(minutes=5)
    first_ready = await session.scalar(
        sa.select(sa.func.min(col(DispatchMove.ready_at))).where(
            col(DispatchMove.carrier_id) == carrier_id, col(DispatchMove.status) == MoveStatus.OPEN.value
        )
    )
    start = max(soonest, first_ready) if first_ready is not None else soonest
    return start.astimezone(DISPLAY_ZONE).replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")


class PlanningController(Controller):
    """Plans of the carrier's open moves, made by the dispatcher's Plan button."""

    path = "/carrier/plans"
    include_in_schema = False
    exception_handlers = page_exception_handlers  # type: ignore[assignment]

    @get("/")
    async def index(self, request: Request[Any, Any, Any], db_session: DbSession, page_user: SignedIn) -> Response[str]:
        """The Plan button, the latest plans and the runs of the accepted plan."""
        carrier_id = carrier_of(page_user)
        return render_page(
            request,
            "carrier/plans.html",
            user=page_user,
            plans=await plans.list_plans(db_session, carrier_id=carrier_id, limit=20),
            runs=await accepted_runs(db_session, carrier_id=carrier_id),
            default_start=await _default_start(db_session, carrier_id),
            version=await board_version(db_session, carrier_id=carrier_id),
        )

    @post("/", status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        data: Annotated[PlanForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Queue a planning run of the open moves and go to its page."""
        carrier_id = carrier_of(page_user)
        plan = await plans.create_plan(db_session, carrier_id=carrier_id, data=_plan_create(data))
        await db_session.commit()
        await enqueue(request.app.state.broker, plan_dispatch, str(plan.id))
        return Redirect(f"{self.path}/{plan.id}", status_code=303)

    @get("/{plan_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], db_session: DbSession, page_user: SignedIn, plan_id: PlanId
    ) -> Response[str]:
        """The plan: progress while it is made; then its Gantt chart, map, figures and what to do with it."""
        carrier_id = carrier_of(page_user)
        row = await load_plan_row(db_session, carrier_id=carrier_id, plan_id=plan_id)
        if row.status in {"queued", "running", "failed"} or row.plan is None:
            return render_page(request, "carrier/plan_progress.html", user=page_user, plan=row)
        view = await plan_view(db_session, row)
        language = page_language(request)
        _ = translations_for(language).gettext
        describe = _describer(view.problem, language)
        gantt_rows = [GanttRow(label=run.tractor_plate, run=run.run, pinned=run.pinned) for run in view.runs]
        return render_page(
            request,
            "carrier/plan.html",
            user=page_user,
            plan=row,
            view=view,
            gantt=render_gantt(gantt_rows, describe=describe, late_moves=view.late_moves, title=_("Gantt chart")),
            plan_map=_plan_map(view, language, _("Routes of the plan")),
            move_label=lambda move_id: move_label(view.problem, move_id),
            movable=sorted(
                [(m, move_label(view.problem, m)) for run in view.runs for m in run.run.moves]
                + [(u.move_id, u.label) for u in view.unassigned],
                key=lambda item: int(item[0]) if item[0].isdigit() else 0,
            ),
            tractors=sorted((t.plate or t.id, t.id) for t in view.problem.tractors),
            runs=await accepted_runs(db_session, carrier_id=carrier_id) if row.status == "accepted" else [],
            moved=request.query_params.get("moved"),
        )

    @get("/{plan_id:uuid}/progress")
    async def progress(self, db_session: DbSession, page_user: SignedIn, plan_id: PlanId) -> dict[str, Any]:
        """The planning run's state and best plan so far, polled by the progress bar."""
        row = await load_plan_row(db_session, carrier_id=carrier_of(page_user), plan_id=plan_id)
        progress = row.progress or {}
        elapsed = progress.get("elapsed_s", 0.0)
        if row.status == "running" and row.started_at is not None:
            elapsed = max(elapsed, (utcnow() - row.started_at).total_seconds())
        return {
            "status": row.status,
            "elapsed_s": round(float(elapsed), 1),
            "time_limit_s": row.time_limit_s,
            "tractors": progress.get("tractors"),
            "deadhead_km": progress.get("deadhead_km"),
            "unassigned": progress.get("unassigned"),
            "error": row.error,
        }

    @post("/{plan_id:uuid}/adjust", status_code=303)
    async def adjust(
        self,
        db_session: DbSession,
        page_user: SignedIn,
        plan_id: PlanId,
        data: Annotated[AdjustForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        """Move a task to a tractor at a position in its run; the page then shows what breaks."""
        carrier_id = carrier_of(page_user)
        position = int(_number(data.position or "1", "position", 1, 1000)) - 1
        if not data.move_id.strip() or not data.tractor_id.strip():
            raise ValidationException(detail="move_id: choose a move and a tractor")
        try:
            await plans.adjust_plan(
                db_session,
                carrier_id=carrier_id,
                plan_id=plan_id,
                move_id=data.move_id.strip(),
                tractor_id=data.tractor_id.strip(),
                position=position,
            )
        except ValueError as exc:
            raise ValidationException(detail=str(exc)) from None
        await db_session.commit()
        return Redirect(f"{self.path}/{plan_id}?moved={data.move_id.strip()}#check", status_code=303)

    @post("/{plan_id:uuid}/replan", status_code=303)
    async def replan(
        self, request: Request[Any, Any, Any], db_session: DbSession, page_user: SignedIn, plan_id: PlanId
    ) -> Redirect:
        """Keep the pinned runs as they are and plan the other moves again."""
        carrier_id = carrier_of(page_user)
        form = await request.form()
        pinned = [value for value in form.getall("pinned") if isinstance(value, str) and value.strip()]
        time_limit = _number(str(form.get("time_limit_s") or "30"), "time_limit_s", 1, 300)
        plan = await plans.replan_around(
            db_session, carrier_id=carrier_id, plan_id=plan_id, pinned_tractor_ids=pinned, time_limit_s=time_limit
        )
        await db_session.commit()
        await enqueue(request.app.state.broker, plan_dispatch, str(plan.id))
        return Redirect(f"{self.path}/{plan.id}", status_code=303)

    @post("/{plan_id:uuid}/accept", status_code=303)
    async def accept(self, db_session: DbSession, page_user: SignedIn, plan_id: PlanId) -> Redirect:
        """Accept the plan: assignments to the drivers' pages and the plates onto the waybills' legs."""
        carrier_of(page_user)
        await plans.accept_plan(db_session, principal=principal_of(page_user), plan_id=plan_id)
        await db_session.commit()
        return Redirect(f"{self.path}/{plan_id}#runs", status_code=303)
