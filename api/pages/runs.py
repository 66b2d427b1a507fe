"""The carrier's run sheets: a tractor's run of the accepted plan to print and hand to its driver.

The sheet lists the stops in order with planned times and trailers, each waybill's verification
code, and the driver's link as a QR code: the driver scans it and checks in from the phone.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import segno
from litestar import Controller, Request, Response, get
from litestar.params import PathParameter
from markupsafe import Markup

from api.deps import DbSession
from api.pages.auth import SignedIn, page_exception_handlers
from api.pages.carrier import carrier_of
from api.pages.driver import NAMES, driver_link_url
from api.pages.rendering import page_language, render_page
from core.settings import Settings
from dispatch.run_sheet_pdf import render_run_sheet_pdf
from dispatch.runs import RunSheet, load_run_sheet
from waybill.document import qr_payload

__all__ = ("RunSheetController",)

PlanId = Annotated[uuid.UUID, PathParameter()]
TractorId = Annotated[int, PathParameter(ge=1, le=2**63 - 1)]


def _qr_svg(payload: str, *, scale: int = 4) -> Markup:
    """A QR code as inline SVG (as the e-waybill document draws it)."""
    return Markup(segno.make(payload, error="m").svg_inline(scale=scale, border=2, omitsize=False))


def _waybill_codes(sheet: RunSheet, base_url: str) -> list[tuple[str, Markup]]:
    numbers = dict.fromkeys(stop.waybill_number for stop in sheet.stops if stop.waybill_number)
    return [(number, _qr_svg(qr_payload(base_url, number), scale=3)) for number in numbers if number]


class RunSheetController(Controller):
    """Run sheets of the carrier's accepted plan, for its dispatchers."""

    path = "/carrier/runs"
    include_in_schema = False
    exception_handlers = page_exception_handlers  # type: ignore[assignment]

    @get("/{plan_id:uuid}/{tractor_id:int}", operation_id="carrierRunSheetPage")
    async def run_sheet(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        plan_id: PlanId,
        tractor_id: TractorId,
    ) -> Response[str]:
        """The printable run sheet with the driver's link and the waybills' codes."""
        sheet = await load_run_sheet(
            db_session, carrier_id=carrier_of(page_user), plan_id=plan_id, tractor_id=tractor_id
        )
        settings: Settings = request.app.state.settings
        link = driver_link_url(request, plan_id=plan_id, tractor_id=tractor_id)
        return render_page(
            request,
            "carrier/run_sheet.html",
            user=page_user,
            sheet=sheet,
            driver_link=link,
            driver_qr=_qr_svg(link),
            waybill_codes=_waybill_codes(sheet, settings.public_base_url),
            pdf_path=f"/carrier/runs/{plan_id}/{tractor_id}/pdf",
            names=NAMES,
        )

    @get("/{plan_id:uuid}/{tractor_id:int}/pdf", operation_id="carrierRunSheetPdf")
    async def run_sheet_pdf(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        page_user: SignedIn,
        plan_id: PlanId,
        tractor_id: TractorId,
    ) -> Response[bytes]:
        """The run sheet as an A4 PDF in the page language."""
        sheet = await load_run_sheet(
            db_session, carrier_id=carrier_of(page_user), plan_id=plan_id, tractor_id=tractor_id
        )
        settings: Settings = request.app.state.settings
        pdf = await asyncio.to_thread(
            render_run_sheet_pdf,
            sheet,
            language=page_language(request),
            driver_link=driver_link_url(request, plan_id=plan_id, tractor_id=tractor_id),
            base_url=settings.public_base_url,
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="run-sheet-{plan_id.hex[:8]}-{tractor_id}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )
