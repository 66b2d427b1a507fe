"""The printable run sheet of a tractor's run (A4 PDF): crew, stops in order, the driver's link and the waybills.

Drawn with the e-waybill document's fonts and helpers (``waybill.document``), so that both print
alike: Chinese by default, English on request; times in Beijing time.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from core.db import utcnow
from dispatch.runs import RunSheet, RunStop
from dispatch.schemas import MoveStatus
from waybill.document import (
    _FAMILY,
    _MUTED,
    BOLD_FONT,
    N_,
    REGULAR_FONT,
    Language,
    _draw_qr,
    _heading,
    _key_values,
    _table,
    format_time,
    qr_payload,
    translations_for,
)

__all__ = ("ACTION_NAMES", "MOVE_STATUS_NAMES", "STOP_NAMES", "render_run_sheet_pdf")

_QR_MM = 38.0
_WAYBILL_QR_MM = 30.0

ACTION_NAMES: dict[str, str] = {
    "arrived": N_("Arrived"),
    "hooked": N_("Trailer hooked"),
    "departed": N_("Departed"),
    "dropped": N_("Trailer dropped"),
    "delivered": N_("Delivered"),
}
"""What each check-in action is called (marked for translation, translated where shown)."""
STOP_NAMES: dict[str, str] = {"hook": N_("Hook trailer"), "drop": N_("Drop trailer")}
TRAILER_TYPE_NAMES: dict[str, str] = {
    "box": N_("Box van"),
    "curtain": N_("Curtain-sider"),
    "reefer": N_("Reefer"),
    "tank": N_("Tank"),
    "flatbed": N_("Flatbed"),
    "container_chassis": N_("Container chassis"),
}
MOVE_STATUS_NAMES: dict[str, str] = {
    MoveStatus.OPEN.value: N_("Not planned"),
    MoveStatus.PLANNED.value: N_("Planned"),
    MoveStatus.IN_PROGRESS.value: N_("In progress"),
    MoveStatus.DONE.value: N_("Done"),
    MoveStatus.CANCELLED.value: N_("Cancelled"),
}


class _RunSheetPdf(FPDF):
    def __init__(self, title: str, footer: str, language: Language) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font(_FAMILY, "", str(REGULAR_FONT))
        self.add_font(_FAMILY, "B", str(BOLD_FONT))
        self.set_fallback_fonts([_FAMILY], exact_match=False)
        self.set_title(title)
        self.set_lang("zh-Hans-CN" if language == "zh" else "en")
        self.set_creator("freight")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FAMILY, "", 7.5)
        self.set_text_color(*_MUTED)
        self.cell(0, 4, f"{self.footer_text} · {self.page_no()}/{{nb}}", align="R")
        self.set_text_color(0, 0, 0)


def _trailer_type(value: str | None, _: Callable[[str], str]) -> str:
    if not value:
        return ""
    return _(TRAILER_TYPE_NAMES[value]) if value in TRAILER_TYPE_NAMES else value


def _clock(value: datetime) -> str:
    return format_time(value)[-5:]


def _done_text(stop: RunStop, _: Callable[[str], str]) -> str:
    return "\n".join(
        f"√ {_(ACTION_NAMES[action])} {_clock(stop.done[action])}" for action in stop.actions if action in stop.done
    )


def _header(pdf: FPDF, sheet: RunSheet, driver_link: str, _: Callable[[str], str]) -> None:
    top = pdf.get_y()
    qr_x = pdf.w - pdf.r_margin - _QR_MM
    _draw_qr(pdf, driver_link, x=qr_x, y=top, size=_QR_MM)
    pdf.set_xy(qr_x, top + _QR_MM)
    pdf.set_font(_FAMILY, "", 7.5)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(_QR_MM, 3.4, _("Driver: scan to open the run and check in"), align="C")
    pdf.set_text_color(0, 0, 0)
    width = pdf.w - pdf.l_margin - pdf.r_margin - _QR_MM - 6
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font(_FAMILY, "B", 16)
    pdf.cell(width, 8, _("Run sheet"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(_FAMILY, "B", 19)
    pdf.cell(width, 9, sheet.tractor_plate, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.5)
    _key_values(
        pdf,
        [
            (_("Driver"), " · ".join(v for v in (sheet.driver_name, sheet.driver_phone) if v) or "—"),
            (_("Escort"), sheet.escort_name or "—"),
            (_("Planned start"), format_time(sheet.planned_start)),
            (_("Planned end"), format_time(sheet.planned_end)),
            (_("Distance"), f"{sheet.km:.1f} km"),
            (_("Plan"), str(sheet.plan_id)),
        ],
        width=width,
    )
    pdf.set_y(max(pdf.get_y(), top + _QR_MM + 9))


def _stops(pdf: FPDF, sheet: RunSheet, _: Callable[[str], str]) -> None:
    _heading(pdf, _("Stops"))
    if not sheet.stops:
        _key_values(pdf, [(_("Stops"), _("This run has no stops."))])
        return
    with _table(pdf, col_widths=(8, 13, 49, 22, 30, 34, 30)) as table:
        table.row(["#", _("Stop"), _("Place"), _("Planned time"), _("Trailer"), _("Waybill"), _("Check-ins")])
        for stop in sheet.stops:
            table.row(
                [
                    str(stop.sequence),
                    _(STOP_NAMES[stop.stop]),
                    f"{stop.place_name}\n{stop.place_code}" + (f"\n{_('Dangerous goods')}" if stop.hazmat else ""),
                    f"{_clock(stop.planned_start)}-{_clock(stop.planned_end)}\n{format_time(stop.planned_start)[:10]}",
                    f"{stop.trailer_plate or '—'}\n{_trailer_type(stop.trailer_type, _)}".strip(),
                    f"{stop.waybill_number}\n" + _("leg %(leg)s") % {"leg": stop.leg_index}
                    if stop.waybill_number
                    else "—",
                    _done_text(stop, _),
                ]
            )


def _waybills(pdf: FPDF, sheet: RunSheet, base_url: str, _: Callable[[str], str]) -> None:
    numbers = list(dict.fromkeys(stop.waybill_number for stop in sheet.stops if stop.waybill_number))
    if not numbers:
        return
    _heading(pdf, _("Waybills"))
    per_row = int((pdf.w - pdf.l_margin - pdf.r_margin) // (_WAYBILL_QR_MM + 8))
    for start in range(0, len(numbers), per_row):
        if pdf.will_page_break(_WAYBILL_QR_MM + 10):
            pdf.add_page()
        top = pdf.get_y()
        for column, number in enumerate(numbers[start : start + per_row]):
            x = pdf.l_margin + column * (_WAYBILL_QR_MM + 8)
            _draw_qr(pdf, qr_payload(base_url, number), x=x, y=top, size=_WAYBILL_QR_MM)
            pdf.set_xy(x - 4, top + _WAYBILL_QR_MM)
            pdf.set_font(_FAMILY, "", 7.5)
            pdf.cell(_WAYBILL_QR_MM + 8, 4, number, align="C")
        pdf.set_xy(pdf.l_margin, top + _WAYBILL_QR_MM + 6)


def render_run_sheet_pdf(
    sheet: RunSheet,
    *,
    language: Language,
    driver_link: str,
    base_url: str,
    printed_at: datetime | None = None,
) -> bytes:
    """The run sheet as an A4 PDF with the driver's link and each waybill as QR codes.

    CPU-bound (reading the font): call it from a worker thread.

    Args:
        sheet: the run.
        language: ``zh`` or ``en``.
        driver_link: the URL of the driver's run page.
        base_url: the platform's public address, for the waybills' verification codes.
        printed_at: the time printed in the footer; now when omitted.
    """
    _ = translations_for(language).gettext
    printed = format_time(printed_at or utcnow())
    footer = f"{_('Run sheet')} {sheet.tractor_plate} · {_('Times are Beijing time.')} · {printed}"
    pdf = _RunSheetPdf(f"{_('Run sheet')} {sheet.tractor_plate}", footer, language)
    pdf.add_page()
    _header(pdf, sheet, driver_link, _)
    _stops(pdf, sheet, _)
    _waybills(pdf, sheet, base_url, _)
    buffer = io.BytesIO()
    pdf.output(buffer)
    return buffer.getvalue()
