"""HTTP routes of the printable e-waybill: a PDF and an HTML page for roadside inspections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get
from litestar.concurrency import sync_to_thread
from litestar.di import Provide
from litestar.enums import MediaType
from litestar.params import QueryParameter

from api.deps import Caller, DbSession, provide_principal
from api.params import AccessReason, NumberParam, request_line, waybill_number
from api.problems import problem_responses
from core.settings import Settings
from waybill import service
from waybill.document import (
    DocumentView,
    build_document,
    choose_language,
    latest_journey_status,
    render_html,
    render_pdf,
)

__all__ = ("DocumentController",)

PDF_MEDIA_TYPE = "application/pdf"

LanguageParam = Annotated[
    Literal["zh", "en"] | None,
    QueryParameter(
        description=(
            "Language of the document: `zh` (Simplified Chinese, the default) or `en`. "
            "Without it, `Accept-Language` decides."
        ),
        required=False,
    ),
]


async def _document_view(
    request: Request[Any, Any, Any],
    db_session: DbSession,
    principal: Caller,
    number: str,
    lang: str | None,
    access_reason: str | None,
) -> DocumentView:
    waybill = await service.load_waybill_for_reading(
        db_session,
        principal=principal,
        number=waybill_number(number),
        access_reason=access_reason,
        request=request_line(request),
        action="document",
    )
    read = await service.read_waybill(db_session, waybill=waybill)
    assert waybill.id is not None
    journey = await latest_journey_status(db_session, waybill_id=waybill.id)
    await db_session.commit()
    settings: Settings = request.app.state.settings
    return build_document(
        read,
        language=choose_language(lang, request.headers.get("accept-language")),
        base_url=settings.public_base_url,
        journey=journey,
        printed_at=datetime.now(UTC),
    )


def _headers(view: DocumentView) -> dict[str, str]:
    return {"Content-Language": view.html_lang, "Vary": "Accept-Language", "Cache-Control": "private, no-store"}


class DocumentController(Controller):
    """The e-waybill as a printable document, for drivers to show at roadside inspections."""

    path = "/v1/waybills"
    tags = ["Waybills"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @get(
        "/{number:str}/document.pdf",
        operation_id="getWaybillDocumentPdf",
        summary="The printable e-waybill (PDF)",
        description=(
            "An A4 PDF of the waybill: parties, goods, legs with carrier, equipment and driver, the "
            "current status and the latest transport event, and a QR code holding the verification URL "
            "(which carries the waybill number). Chinese by default, English with `lang=en`; times in "
            "Beijing time. Visible to whoever may read the waybill; an authority's read is logged."
        ),
        media_type=PDF_MEDIA_TYPE,
        responses=problem_responses(400, 401, 404),
    )
    async def get_document_pdf(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        lang: LanguageParam = None,
        access_reason: AccessReason = None,
    ) -> Response[bytes]:
        view = await _document_view(request, db_session, principal, number, lang, access_reason)
        pdf = await sync_to_thread(render_pdf, view)
        headers = {**_headers(view), "Content-Disposition": f'inline; filename="{view.number}.pdf"'}
        return Response(pdf, media_type=PDF_MEDIA_TYPE, headers=headers)

    @get(
        "/{number:str}/document",
        operation_id="getWaybillDocument",
        summary="The printable e-waybill (HTML)",
        description="The same document as the PDF, as a self-contained HTML page.",
        media_type=MediaType.HTML,
        responses=problem_responses(400, 401, 404),
    )
    async def get_document_html(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        principal: Caller,
        number: NumberParam,
        lang: LanguageParam = None,
        access_reason: AccessReason = None,
    ) -> Response[str]:
        view = await _document_view(request, db_session, principal, number, lang, access_reason)
        return Response(render_html(view), media_type=MediaType.HTML, headers=_headers(view))
