"""The printable e-waybill: a view of a waybill for drivers to show at roadside inspections.

One view-model (:class:`DocumentView`) is built from :class:`~waybill.schemas.WaybillRead` and rendered
as HTML (Jinja2, ``web/templates/``) or as a PDF (fpdf2). Every word the document prints comes from
the message catalogues in ``locale/`` (Simplified Chinese by default, English on request); names,
addresses and goods are shown as stored. Times are shown in Beijing time (Asia/Shanghai).

The PDF embeds Noto Sans CJK SC from ``web/fonts/`` (a subset made by ``scripts/subset_fonts.py``;
fpdf2 subsets it again per document), so it prints on a machine without any fonts installed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import jinja2
import segno
import sqlalchemy as sa
from babel.support import NullTranslations, Translations
from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode, XPos, YPos
from fpdf.table import Table
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from waybill.models import TransportEvent
from waybill.schemas import (
    CancellationReason,
    CargoLine,
    Equipment,
    LegRead,
    LegStatus,
    Party,
    Place,
    TimeWindow,
    TransportMode,
    WaybillRead,
    WaybillStatus,
)

__all__ = (
    "DEFAULT_LANGUAGE",
    "DISPLAY_ZONE",
    "DocumentView",
    "JourneyStatus",
    "Language",
    "build_document",
    "choose_language",
    "latest_journey_status",
    "qr_payload",
    "render_html",
    "render_pdf",
    "template_environment",
    "verification_url",
)

_ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = _ROOT / "locale"
TEMPLATE_DIR = _ROOT / "web" / "templates"
FONT_DIR = _ROOT / "web" / "fonts"
REGULAR_FONT = FONT_DIR / "NotoSansCJKsc-Regular-GBK.otf"
BOLD_FONT = FONT_DIR / "NotoSansCJKsc-Bold-GB2312.otf"

DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")
"""Times are stored in UTC and printed in Beijing time."""

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"
_CATALOGUES: dict[Language, str] = {"zh": "zh_Hans_CN", "en": "en"}
_HTML_LANG: dict[Language, str] = {"zh": "zh-Hans-CN", "en": "en"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


WAYBILL_STATUS_NAMES: dict[WaybillStatus, str] = {
    WaybillStatus.DRAFT: N_("Draft"),
    WaybillStatus.ISSUED: N_("Issued"),
    WaybillStatus.IN_TRANSIT: N_("In transit"),
    WaybillStatus.DELIVERED: N_("Delivered"),
    WaybillStatus.CLOSED: N_("Closed"),
    WaybillStatus.CANCELLED: N_("Cancelled"),
}
LEG_STATUS_NAMES: dict[LegStatus, str] = {
    LegStatus.PLANNED: N_("Planned"),
    LegStatus.UNDER_WAY: N_("Under way"),
    LegStatus.COMPLETED: N_("Completed"),
}
TRANSPORT_MODE_NAMES: dict[TransportMode, str] = {
    TransportMode.ROAD: N_("Road"),
    TransportMode.RAIL: N_("Rail"),
    TransportMode.INLAND_WATER: N_("Inland waterway"),
    TransportMode.SEA: N_("Sea"),
    TransportMode.AIR: N_("Air"),
}
CANCELLATION_REASON_NAMES: dict[CancellationReason, str] = {
    CancellationReason.SHIPPER_REQUEST: N_("At the shipper's request"),
    CancellationReason.DUPLICATE: N_("Duplicate waybill"),
    CancellationReason.GOODS_NOT_READY: N_("Goods not ready"),
    CancellationReason.NO_CARRIER: N_("No carrier available"),
    CancellationReason.REGULATORY: N_("Regulatory requirement"),
    CancellationReason.OTHER: N_("Other reason"),
}
EVENT_TYPE_NAMES: dict[str, str] = {
    "gate_in": N_("Gated in"),
    "gate_out": N_("Gated out"),
    "loaded": N_("Loaded"),
    "discharged": N_("Discharged"),
    "picked_up": N_("Picked up"),
    "dropped": N_("Trailer dropped"),
    "stuffed": N_("Stuffed"),
    "stripped": N_("Stripped"),
    "inspected": N_("Inspected"),
    "departed": N_("Departed"),
    "arrived": N_("Arrived"),
    "customs_lodged": N_("Customs declaration lodged"),
    "customs_held": N_("Held by customs"),
    "customs_released": N_("Released by customs"),
    "handover": N_("Handed over"),
    "delay": N_("Delayed"),
    "damage": N_("Damage reported"),
    "refused": N_("Refused by consignee"),
    "lost": N_("Reported lost"),
    "delivered": N_("Delivered"),
}
"""Transport event types (``waybill.event_schemas.EventType``); an unknown type is printed as reported."""
EVENT_CLASSIFIER_NAMES: dict[str, str] = {
    "actual": N_("actual"),
    "estimated": N_("estimated"),
    "planned": N_("planned"),
}


# --- language -----------------------------------------------------------------------------------


def choose_language(lang: str | None, accept_language: str | None) -> Language:
    """The document language: ``lang`` if given, else the best of ``Accept-Language``, else Chinese.

    Args:
        lang: the ``lang`` query parameter (``zh`` or ``en``), which wins when present.
        accept_language: the request's ``Accept-Language`` header.
    """
    if lang in _CATALOGUES:
        return lang  # type: ignore[return-value]
    best: tuple[float, int, Language] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in _CATALOGUES:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or (quality, -position) > (best[0], best[1])):
            best = (quality, -position, primary)  # type: ignore[assignment]
    return best[2] if best else DEFAULT_LANGUAGE


@lru_cache(maxsize=len(_CATALOGUES))
def translations_for(language: Language) -> NullTranslations:
    """The compiled catalogue of ``language`` (``locale/<locale>/LC_MESSAGES/messages.mo``)."""
    return Translations.load(str(LOCALE_DIR), [_CATALOGUES[language]], domain="messages")


# --- view-model ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class JourneyStatus:
    """The latest transport event reported on a waybill."""

    event_type: str
    classifier: str
    event_time: datetime
    place_name: str | None
    leg_sequence: int | None


@dataclass(frozen=True, kw_only=True)
class PartyView:
    """A party as printed: role label and stored particulars."""

    role: str
    name: str
    uscc: str | None
    contact: str | None
    phone: str | None
    address: str | None


@dataclass(frozen=True, kw_only=True)
class PlaceView:
    """A place with its time window."""

    role: str
    name: str
    address: str
    code: str
    window: str


@dataclass(frozen=True, kw_only=True)
class CargoView:
    """One cargo line."""

    line: int
    description: str
    packages: str
    gross_weight: str
    volume: str
    hs_code: str
    value: str
    dangerous_goods: str | None


@dataclass(frozen=True, kw_only=True)
class LegView:
    """One transport leg."""

    sequence: int
    mode: str
    status: str
    from_place: str
    to_place: str
    carrier: str
    departure: str
    arrival: str
    equipment: list[str]
    driver: str


@dataclass(frozen=True, kw_only=True)
class DocumentView:
    """Everything the printed waybill shows, already translated and formatted."""

    language: Language
    html_lang: str
    number: str
    version: int
    status: str
    cancelled: str | None
    shipper: str
    shipper_reference: str
    issued_at: str
    printed_at: str
    parties: list[PartyView]
    places: list[PlaceView]
    cargo: list[CargoView]
    total_packages: str
    total_weight: str
    order_number: str | None
    customs_declarations: list[str]
    instructions: str | None
    legs: list[LegView]
    journey: str | None
    verify_url: str
    qr_payload: str
    labels: dict[str, str] = field(default_factory=dict)
    emergency_contact: str | None = None
    """Name and phone of the emergency contact of a dangerous-goods waybill."""


def verification_url(base_url: str, number: str) -> str:
    """Where an inspector checks that a printed waybill is genuine and current."""
    return f"{base_url.rstrip('/')}/v1/waybills/{number}/verify"


def qr_payload(base_url: str, number: str) -> str:
    """What the QR code holds: the verification URL, which carries the waybill number.

    A plain URL is what a phone camera offers to open; an inspection app reads the number from it.
    """
    return verification_url(base_url, number)


def format_time(value: datetime | None) -> str:
    """``2026-12-03 08:00`` in Beijing time (the document says once which zone it uses)."""
    if value is None:
        return "—"
    return value.astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M")


def _window(window: TimeWindow) -> str:
    start, end = window.start.astimezone(DISPLAY_ZONE), window.end.astimezone(DISPLAY_ZONE)
    if start.date() == end.date():
        return f"{format_time(window.start)}–{end:%H:%M}"
    return f"{format_time(window.start)} – {format_time(window.end)}"


def _number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def _party(role: str, party: Party) -> PartyView:
    return PartyView(
        role=role,
        name=party.name,
        uscc=party.uscc,
        contact=party.contact_name,
        phone=party.phone,
        address=party.address,
    )


def _place(role: str, place: Place, window: TimeWindow) -> PlaceView:
    code = " · ".join(part for part in (place.locode, place.division_code) if part)
    return PlaceView(role=role, name=place.name, address=place.address, code=code, window=_window(window))


def _cargo(line: int, cargo: CargoLine, _: Callable[[str], str]) -> CargoView:
    dangerous = None
    if cargo.dangerous_goods is not None:
        dg = cargo.dangerous_goods
        dangerous = f"{dg.un_number} {_number(dg.quantity, 1)} {dg.unit}"
        if dg.packing_group:
            dangerous += " " + _("Packing group %(group)s") % {"group": dg.packing_group}
    value = "—"
    if cargo.declared_value is not None:
        value = f"{_number(cargo.declared_value, 2)} {cargo.currency}"
    return CargoView(
        line=line,
        description=cargo.description,
        packages=f"{cargo.package_count} {cargo.package_type}",
        gross_weight=f"{_number(cargo.gross_weight_kg, 1)} kg",
        volume=f"{_number(cargo.volume_m3, 2)} m³" if cargo.volume_m3 is not None else "—",
        hs_code=cargo.hs_code or "—",
        value=value,
        dangerous_goods=dangerous,
    )


def _equipment(equipment: Equipment, _: Callable[[str], str]) -> list[str]:
    vessel = " / ".join(part for part in (equipment.vessel_name, equipment.voyage) if part)
    items = (
        (_("Tractor"), equipment.vehicle_plate),
        (_("Trailer"), equipment.trailer_plate),
        (_("Container"), equipment.container_number),
        (_("Rail wagon"), equipment.rail_wagon),
        (_("Vessel / voyage"), vessel),
    )
    lines = [f"{name} {value}" for name, value in items if value]
    if equipment.unaccompanied:
        lines.append(_("Unaccompanied (no tractor)"))
    return lines


def _leg(leg: LegRead, _: Callable[[str], str]) -> LegView:
    carrier = f"{leg.carrier.name}\n{leg.carrier.uscc}" if leg.carrier else _("Not yet assigned")
    driver = "—"
    if leg.driver is not None:
        driver = leg.driver.name + (f"\n{leg.driver.phone}" if leg.driver.phone else "")
    return LegView(
        sequence=leg.sequence,
        mode=_(TRANSPORT_MODE_NAMES[leg.mode]),
        status=_(LEG_STATUS_NAMES[leg.status]),
        from_place=leg.from_place.name,
        to_place=leg.to_place.name,
        carrier=carrier,
        departure=format_time(leg.started_at or leg.planned_departure),
        arrival=format_time(leg.completed_at or leg.planned_arrival),
        equipment=_equipment(leg.equipment, _),
        driver=driver,
    )


def _journey(status: JourneyStatus | None, _: Callable[[str], str]) -> str | None:
    if status is None:
        return None
    name = _(EVENT_TYPE_NAMES[status.event_type]) if status.event_type in EVENT_TYPE_NAMES else status.event_type
    if status.classifier in EVENT_CLASSIFIER_NAMES:
        name += f" ({_(EVENT_CLASSIFIER_NAMES[status.classifier])})"
    parts = [name, format_time(status.event_time)]
    if status.place_name:
        parts.append(status.place_name)
    if status.leg_sequence is not None:
        parts.append(_("Leg %(sequence)d") % {"sequence": status.leg_sequence})
    return " · ".join(parts)


def labels(_: Callable[[str], str]) -> dict[str, str]:
    """Every fixed label of the document, translated (shared by the HTML and PDF layouts)."""
    return {
        "title": _("Multimodal Electronic Waybill"),
        "number": _("Waybill number"),
        "version": _("Version"),
        "status": _("Status"),
        "shipper": _("Shipper of record"),
        "shipper_reference": _("Shipper reference"),
        "issued_at": _("Issued at"),
        "printed_at": _("Printed at"),
        "parties": _("Parties"),
        "places": _("Pickup and delivery"),
        "window": _("Time window"),
        "cargo": _("Goods"),
        "description": _("Description"),
        "packages": _("Packages"),
        "gross_weight": _("Gross weight"),
        "volume": _("Volume"),
        "hs_code": _("HS code"),
        "value": _("Declared value"),
        "dangerous_goods": _("Dangerous goods"),
        "total": _("Total"),
        "references": _("References and instructions"),
        "order_number": _("Order number"),
        "customs_declarations": _("Customs declarations"),
        "instructions": _("Instructions"),
        "emergency_contact": _("Emergency contact"),
        "legs": _("Transport legs"),
        "mode": _("Mode"),
        "route": _("From → to"),
        "carrier": _("Carrier"),
        "times": _("Departure / arrival"),
        "equipment": _("Equipment"),
        "driver": _("Driver"),
        "leg_status": _("Leg status"),
        "current_status": _("Current status"),
        "journey": _("Latest transport event"),
        "no_journey": _("No transport event reported yet"),
        "cancelled": _("Cancelled"),
        "verify": _("Scan to verify this waybill"),
        "timezone": _("All times are Beijing time (Asia/Shanghai, UTC+8)."),
        "uscc": _("USCC"),
        "contact": _("Contact"),
        "phone": _("Phone"),
        "address": _("Address"),
        "page": _("Page"),
        "none": _("None"),
    }


def build_document(
    waybill: WaybillRead,
    *,
    language: Language,
    base_url: str,
    journey: JourneyStatus | None = None,
    printed_at: datetime,
) -> DocumentView:
    """The printable view of ``waybill`` in ``language``.

    Args:
        waybill: the waybill at its current version, as the API returns it.
        language: ``zh`` (Simplified Chinese) or ``en``.
        base_url: public base URL of the platform, for the verification link.
        journey: the latest transport event, if one has been reported.
        printed_at: when the document is made (printed on it).
    """
    _ = translations_for(language).gettext
    document = waybill.document
    parties = [_party(_("Consignor"), document.consignor), _party(_("Consignee"), document.consignee)]
    if document.notify_party is not None:
        parties.append(_party(_("Notify party"), document.notify_party))
    cancelled = None
    if waybill.cancellation is not None:
        cancelled = f"{_(CANCELLATION_REASON_NAMES[waybill.cancellation.reason_code])}, " + format_time(
            waybill.cancellation.cancelled_at
        )
        if waybill.cancellation.note:
            cancelled += f" — {waybill.cancellation.note}"
    return DocumentView(
        language=language,
        html_lang=_HTML_LANG[language],
        number=waybill.number,
        version=waybill.version,
        status=_(WAYBILL_STATUS_NAMES[waybill.status]),
        cancelled=cancelled,
        shipper=f"{waybill.shipper.name} ({waybill.shipper.uscc})",
        shipper_reference=waybill.shipper_reference,
        issued_at=format_time(waybill.issued_at),
        printed_at=format_time(printed_at),
        parties=parties,
        places=[
            _place(_("Pickup"), document.pickup, document.pickup_window),
            _place(_("Delivery"), document.delivery, document.delivery_window),
        ],
        cargo=[_cargo(i, line, _) for i, line in enumerate(document.cargo, start=1)],
        total_packages=str(sum(line.package_count for line in document.cargo)),
        total_weight=f"{_number(sum(line.gross_weight_kg for line in document.cargo), 1)} kg",
        order_number=document.references.order_number,
        customs_declarations=list(document.references.customs_declarations),
        instructions=document.instructions,
        emergency_contact=(
            f"{document.emergency_contact.name}, {document.emergency_contact.phone}"
            if document.emergency_contact
            else None
        ),
        legs=[_leg(leg, _) for leg in waybill.legs],
        journey=_journey(journey, _),
        verify_url=verification_url(base_url, waybill.number),
        qr_payload=qr_payload(base_url, waybill.number),
        labels=labels(_),
    )


async def latest_journey_status(session: AsyncSession, *, waybill_id: int) -> JourneyStatus | None:
    """The latest transport event on a waybill that stands (neither a retraction nor retracted)."""
    retracted = (
        sa.select(col(TransportEvent.retracts_event_id))
        .where(col(TransportEvent.waybill_id) == waybill_id, col(TransportEvent.retracts_event_id).is_not(None))
        .scalar_subquery()
    )
    event = await session.scalar(
        sa.select(TransportEvent)
        .where(
            col(TransportEvent.waybill_id) == waybill_id,
            col(TransportEvent.retracts_event_id).is_(None),
            col(TransportEvent.event_type) != "retracted",
            col(TransportEvent.event_id).not_in(retracted),
        )
        .order_by(col(TransportEvent.event_time).desc(), col(TransportEvent.id).desc())
        .limit(1)
    )
    if event is None:
        return None
    place_name = event.place.get("name") if isinstance(event.place, dict) else None
    return JourneyStatus(
        event_type=event.event_type,
        classifier=event.classifier,
        event_time=event.event_time,
        place_name=place_name if isinstance(place_name, str) else event.locode,
        leg_sequence=event.leg_sequence,
    )


# --- HTML ---------------------------------------------------------------------------------------


@lru_cache(maxsize=len(_CATALOGUES))
def template_environment(language: Language, directory: Path = TEMPLATE_DIR) -> jinja2.Environment:
    """A Jinja environment of ``directory`` translating into ``language`` (autoescape, strict undefined)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(translations_for(language), newstyle=True)  # type: ignore[attr-defined]
    return environment


def render_html(view: DocumentView) -> str:
    """The document as a self-contained HTML page (inline QR code and styles, no external assets)."""
    qr = segno.make(view.qr_payload, error="m")
    qr_svg = Markup(qr.svg_inline(scale=4, border=2, omitsize=False))
    return template_environment(view.language).get_template("waybill_document.html").render(doc=view, qr_svg=qr_svg)


# --- PDF ----------------------------------------------------------------------------------------

_FAMILY = "NotoSansSC"
_GREY = (235, 238, 242)
_DARK = (30, 41, 59)
_MUTED = (90, 100, 115)
_BAND = (246, 248, 250)


class _WaybillPdf(FPDF):
    def __init__(self, view: DocumentView) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.view = view
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(_FAMILY, "", str(REGULAR_FONT))
        self.add_font(_FAMILY, "B", str(BOLD_FONT))
        # Bold is cut to GB2312; any rarer character in a bold line comes from the regular face.
        self.set_fallback_fonts([_FAMILY], exact_match=False)
        self.set_title(f"{view.labels['title']} {view.number}")
        self.set_lang(view.html_lang)
        self.set_creator("freight")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FAMILY, "", 7.5)
        self.set_text_color(*_MUTED)
        label = self.view.labels
        self.cell(0, 4, f"{label['timezone']}  {label['printed_at']}: {self.view.printed_at}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"{self.view.number} · {label['page']} {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def _qr_matrix(payload: str) -> Iterator[tuple[int, int, int]]:
    """Dark runs of the QR code as (row, first column, length), quiet zone excluded."""
    qr = segno.make(payload, error="m")
    for row, modules in enumerate(qr.matrix):
        start = None
        for column, dark in enumerate([*modules, 0]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                yield row, start, column - start
                start = None


def _draw_qr(pdf: FPDF, payload: str, *, x: float, y: float, size: float) -> None:
    modules = len(segno.make(payload, error="m").matrix)
    quiet = 4
    unit = size / (modules + 2 * quiet)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row, column, length in _qr_matrix(payload):
        pdf.rect(x + (quiet + column) * unit, y + (quiet + row) * unit, length * unit, unit, style="F")


def _heading(pdf: FPDF, text: str) -> None:
    if pdf.will_page_break(18):
        pdf.add_page()
    pdf.ln(2.5)
    pdf.set_font(_FAMILY, "B", 10.5)
    pdf.set_fill_color(*_DARK)
    pdf.set_text_color(255, 255, 255)
    pdf.cell(0, 6.5, f"  {text}", fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(1.2)


@contextmanager
def _table(pdf: FPDF, *, col_widths: tuple[float, ...], text_align: str | tuple[str, ...] = "LEFT") -> Iterator[Table]:
    """A table in the document's style: grey heading row, light bands, regular 8 pt text, top-aligned."""
    pdf.set_font(_FAMILY, "", 8)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(203, 213, 225)
    pdf.set_fill_color(*_BAND)  # fpdf2 bands rows with the current fill colour
    with pdf.table(
        col_widths=col_widths,
        text_align=text_align,
        v_align="TOP",
        headings_style=FontFace(emphasis="BOLD", fill_color=_GREY, size_pt=8),
        cell_fill_color=_BAND,
        cell_fill_mode=TableCellFillMode.EVEN_ROWS,
        line_height=4.2,
        padding=(1.2, 1.5),
        borders_layout="HORIZONTAL_LINES",
        first_row_as_headings=True,
    ) as table:
        yield table


def _header(pdf: FPDF, view: DocumentView) -> None:
    label = view.labels
    qr_size = 40.0
    top = pdf.get_y()
    _draw_qr(pdf, view.qr_payload, x=pdf.w - pdf.r_margin - qr_size, y=top, size=qr_size)
    pdf.set_xy(pdf.w - pdf.r_margin - qr_size, top + qr_size)
    pdf.set_font(_FAMILY, "", 7.5)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(qr_size, 3.4, label["verify"], align="C")
    pdf.set_text_color(0, 0, 0)

    width = pdf.w - pdf.l_margin - pdf.r_margin - qr_size - 6
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(_FAMILY, "B", 16)
    pdf.cell(width, 8, label["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FAMILY, "", 8)
    pdf.set_text_color(*_MUTED)
    pdf.cell(width, 4.5, label["number"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(_FAMILY, "B", 19)
    pdf.cell(width, 9, view.number, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.5)
    _key_values(
        pdf,
        [
            (label["status"], _status_line(view)),
            (label["version"], str(view.version)),
            (label["issued_at"], view.issued_at),
            (label["shipper"], view.shipper),
            (label["shipper_reference"], view.shipper_reference),
        ],
        width=width,
        bold_first=True,
    )
    pdf.set_y(max(pdf.get_y(), top + qr_size + 7))


def _status_line(view: DocumentView) -> str:
    return view.status + (f" — {view.cancelled}" if view.cancelled else "")


def _party_text(view: DocumentView, party: PartyView) -> str:
    label = view.labels
    lines = [party.name]
    for name, value in (
        (label["uscc"], party.uscc),
        (label["contact"], party.contact),
        (label["phone"], party.phone),
        (label["address"], party.address),
    ):
        if value:
            lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _body(pdf: FPDF, view: DocumentView) -> None:
    label = view.labels

    _heading(pdf, label["parties"])
    with _table(pdf, col_widths=(1,) * len(view.parties)) as table:
        table.row([party.role for party in view.parties])
        table.row([_party_text(view, party) for party in view.parties])

    _heading(pdf, label["places"])
    with _table(pdf, col_widths=(1, 1)) as table:
        table.row([place.role for place in view.places])
        table.row(
            [f"{place.name}\n{place.address}\n{place.code}\n{label['window']}: {place.window}" for place in view.places]
        )

    _heading(pdf, label["cargo"])
    headings = ["#", label["description"], label["packages"], label["gross_weight"], label["volume"]]
    with _table(
        pdf,
        col_widths=(6, 62, 16, 22, 18, 22, 30),
        text_align=("CENTER", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT", "RIGHT"),
    ) as table:
        table.row([*headings, label["hs_code"], label["value"]])
        for line in view.cargo:
            description = line.description
            if line.dangerous_goods:
                description += f"\n{label['dangerous_goods']}: {line.dangerous_goods}"
            table.row(
                [str(line.line), description, line.packages, line.gross_weight, line.volume, line.hs_code, line.value]
            )
        row = table.row()
        row.cell("")
        row.cell(label["total"], style=FontFace(emphasis="BOLD"))
        row.cell(view.total_packages, style=FontFace(emphasis="BOLD"))
        row.cell(view.total_weight, style=FontFace(emphasis="BOLD"))
        row.cell("", colspan=3)

    _heading(pdf, label["legs"])
    if view.legs:
        with _table(pdf, col_widths=(5, 19, 36, 32, 28, 37, 26)) as table:
            table.row(
                [
                    "#",
                    label["mode"],
                    label["route"],
                    label["carrier"],
                    label["times"],
                    label["equipment"],
                    label["driver"],
                ]
            )
            for leg in view.legs:
                table.row(
                    [
                        str(leg.sequence),
                        f"{leg.mode}\n{leg.status}",
                        f"{leg.from_place}\n→ {leg.to_place}",
                        leg.carrier,
                        f"{leg.departure}\n{leg.arrival}",
                        "\n".join(leg.equipment) or "—",
                        leg.driver,
                    ]
                )
    else:
        _key_values(pdf, [(label["legs"], label["none"])])

    _heading(pdf, label["references"])
    _key_values(
        pdf,
        [
            (label["order_number"], view.order_number or "—"),
            (label["customs_declarations"], ", ".join(view.customs_declarations) or "—"),
            (label["instructions"], view.instructions or "—"),
            *([(label["emergency_contact"], view.emergency_contact)] if view.emergency_contact else []),
        ],
    )

    _heading(pdf, label["current_status"])
    _key_values(
        pdf,
        [(label["status"], _status_line(view)), (label["journey"], view.journey or label["no_journey"])],
        bold_first=True,
    )


def _key_values(
    pdf: FPDF, rows: list[tuple[str, str]], *, width: float | None = None, bold_first: bool = False
) -> None:
    width = width or pdf.w - pdf.l_margin - pdf.r_margin
    name_width = 38.0
    for index, (name, value) in enumerate(rows):
        pdf.set_font(_FAMILY, "", 8)
        pdf.set_text_color(*_MUTED)
        pdf.cell(name_width, 5, name)
        pdf.set_text_color(0, 0, 0)
        pdf.set_font(_FAMILY, "B" if bold_first and index == 0 else "", 9)
        pdf.multi_cell(width - name_width, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_pdf(view: DocumentView) -> bytes:
    """The document as an A4 PDF with the Chinese font embedded (subset to the glyphs it uses).

    CPU-bound (a few hundred milliseconds, mostly reading the font): call it from a worker thread.
    """
    pdf = _WaybillPdf(view)
    pdf.add_page()
    _header(pdf, view)
    _body(pdf, view)
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()
