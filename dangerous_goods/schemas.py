"""msgspec schemas of the dangerous goods reference API: ADR 2025 Table A entries, camelCase on the wire."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from core.types import OutputStruct

__all__ = ("DangerousGoodPage", "DangerousGoodRead", "DangerousGoodStatus")


class DangerousGoodStatus(StrEnum):
    """How ADR treats the entry."""

    REGULATED = "regulated"
    CARRIAGE_PROHIBITED = "carriage_prohibited"
    NOT_SUBJECT_TO_ADR = "not_subject_to_adr"
    NOT_SUBJECT_EXCEPT_5_5_3 = "not_subject_except_5.5.3"


class DangerousGoodRead(OutputStruct, frozen=True, rename="camel"):
    """One ADR 2025 Table A entry (JT/T 617.3 has the same columns); ``null`` where Table A is empty."""

    un_number: str
    """Four digits, e.g. ``"1203"``."""
    entry_seq: int
    """1-based position among the entries of the UN number, in Table A order."""
    name: str
    """English proper shipping name, or the German one where no English name is known."""
    name_de: str | None
    hazard_class: str = msgspec.field(name="class")
    """Column 3a, e.g. ``"3"``, ``"6.1"``."""
    classification_code: str | None
    """Column 3b, e.g. ``"F1"``; for explosives the division and compatibility group, e.g. ``"1.1D"``."""
    packing_group: str | None
    """Column 4: ``"I"``, ``"II"``, ``"III"`` or ``null``."""
    labels: list[str]
    """Column 5, primary label first, e.g. ``["6.1", "3"]``."""
    special_provisions: list[str]
    """Column 6, e.g. ``["274", "614"]``."""
    transport_category: int | None
    """Column 15, 0–4; ``null`` where Table A gives ``-``."""
    tunnel_restriction_code: str | None
    """Column 15 in brackets, e.g. ``"D/E"``; ``null`` for no restriction."""
    hazard_identification_number: str | None
    """Column 20, the Kemler number on the orange plate, e.g. ``"33"``."""
    limited_quantity: str | None
    """Column 7a, e.g. ``"1 L"``; ``"0"`` means limited quantities are not allowed."""
    excepted_quantity: str | None
    """Column 7b, e.g. ``"E2"``."""
    tank_code: str | None
    """Column 12, ADR tank code, e.g. ``"LGBF"``."""
    multiplier_1136: int | None
    """ADR 1.1.3.6.4 multiplier of the quantity (50, 3, 1, or 20 for the footnote UN numbers)."""
    status: DangerousGoodStatus


class DangerousGoodPage(OutputStruct, frozen=True, rename="camel"):
    """One page of search results, by UN number and entry; pass ``nextCursor`` as ``cursor`` for the next page."""

    items: list[DangerousGoodRead]
    next_cursor: str | None
