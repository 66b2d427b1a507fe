"""The ADR 2025 dangerous-goods list (Table A), shipped with the project in ``dangerous_goods/data/``.

China's JT/T 617.3 list has the same columns as ADR Table A, so ADR's entries apply directly. A UN
number may have several entries (packing groups, name variants): pick one by UN number and packing
group, and by name where that still leaves several (:func:`select_entry`).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import msgspec

__all__ = (
    "DATA_DIR",
    "DangerousGood",
    "EntryNotFoundError",
    "all_entries",
    "entries_for",
    "select_entry",
)

DATA_DIR = Path(__file__).resolve().parent / "data"
"""The shipped data: ``adr2025_core.csv`` and ``rules/*.json`` (see its README for origin and caveats)."""


class EntryNotFoundError(LookupError):
    """No Table A entry matches."""


class DangerousGood(msgspec.Struct, kw_only=True, frozen=True):
    """One ADR 2025 Table A entry; empty columns are ``None``."""

    un_number: str
    """Four digits, e.g. ``"1203"``."""
    entry_seq: int
    """1-based position of the entry among those of its UN number, in Table A order."""
    name_en: str | None
    name_de: str | None
    hazard_class: str
    """Column 3a, e.g. ``"3"``, ``"6.1"``."""
    classification_code: str | None
    """Column 3b, e.g. ``"F1"``, or ``"1.1D"`` for explosives (division and compatibility group)."""
    packing_group: str | None
    labels: tuple[str, ...]
    """Column 5, primary label first (e.g. ``("6.1", "3")``)."""
    special_provisions: tuple[str, ...]
    limited_quantity: str | None
    """Column 7a: ``"0"`` means limited quantities are not allowed."""
    excepted_quantity: str | None
    tank_code: str | None
    tank_vehicle: str | None
    transport_category: int | None
    """Column 15, 0–4; ``None`` where Table A gives ``-`` (carriage prohibited or not subject)."""
    tunnel_restriction_code: str | None
    """Column 15 in brackets, e.g. ``"D/E"``; ``None`` for no restriction."""
    multiplier_1136: int | None
    """ADR 1.1.3.6.4 multiplier of the entry's transport category (20 for the footnote UN numbers)."""
    hazard_identification_number: str | None
    """Column 20, the Kemler number on the orange plate, e.g. ``"33"``."""
    sp_carriage_packages: tuple[str, ...]
    sp_carriage_loading_handling: tuple[str, ...]
    sp_carriage_operation: tuple[str, ...]
    status: str
    """``regulated``, ``carriage_prohibited``, ``not_subject_to_adr`` or ``not_subject_except_5.5.3``."""

    @property
    def compatibility_group(self) -> str | None:
        """Class 1: the letter of the classification code (``"1.1D"`` → ``"D"``)."""
        if self.hazard_class != "1" or not self.classification_code:
            return None
        return self.classification_code[-1]


def _none(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", "-") else value


def _codes(value: str, separator: str = " ") -> tuple[str, ...]:
    return tuple(part for part in (p.strip() for p in value.split(separator)) if part)


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def _entry(row: dict[str, str]) -> DangerousGood:
    return DangerousGood(
        un_number=row["un_number"],
        entry_seq=int(row["entry_seq"]),
        name_en=_none(row["name_en"]),
        name_de=_none(row["name_de"]),
        hazard_class=row["class"].strip(),
        classification_code=_none(row["classification_code"]),
        packing_group=_none(row["packing_group"]),
        labels=_codes(row["labels"], "+"),
        special_provisions=_codes(row["special_provisions"]),
        limited_quantity=_none(row["limited_quantity"]),
        excepted_quantity=_none(row["excepted_quantity"]),
        tank_code=_none(row["tank_code"]),
        tank_vehicle=_none(row["tank_vehicle"]),
        transport_category=_int(row["transport_category"]),
        tunnel_restriction_code=_none(row["tunnel_restriction_code"]),
        multiplier_1136=_int(row["multiplier_1136"]),
        hazard_identification_number=_none(row["hazard_identification_number"]),
        sp_carriage_packages=_codes(row["sp_carriage_packages"]),
        sp_carriage_loading_handling=_codes(row["sp_carriage_loading_handling"]),
        sp_carriage_operation=_codes(row["sp_carriage_operation"]),
        status=row["status"].strip(),
    )


@lru_cache(maxsize=1)
def all_entries() -> tuple[DangerousGood, ...]:
    """Every Table A entry, in table order (read once from the shipped CSV)."""
    with (DATA_DIR / "adr2025_core.csv").open(encoding="utf-8", newline="") as handle:
        return tuple(_entry(row) for row in csv.DictReader(handle))


@lru_cache(maxsize=1)
def _by_un_number() -> dict[str, tuple[DangerousGood, ...]]:
    grouped: dict[str, list[DangerousGood]] = defaultdict(list)
    for entry in all_entries():
        grouped[entry.un_number].append(entry)
    return {un: tuple(entries) for un, entries in grouped.items()}


def entries_for(un_number: str) -> tuple[DangerousGood, ...]:
    """All entries of a UN number (empty if it is not in Table A)."""
    return _by_un_number().get(un_number.strip().upper().removeprefix("UN").strip(), ())


def select_entry(un_number: str, packing_group: str | None = None, name: str | None = None) -> DangerousGood:
    """The one entry for a UN number, packing group and (where still ambiguous) name.

    Raises:
        EntryNotFoundError: the UN number is unknown, no entry has that packing group, or several
            entries remain and ``name`` does not single one out (the message lists the choices).
    """
    candidates = list(entries_for(un_number))
    if not candidates:
        raise EntryNotFoundError(f"UN {un_number} is not in the ADR 2025 dangerous goods list")
    if packing_group is not None:
        candidates = [e for e in candidates if e.packing_group == packing_group]
        if not candidates:
            groups = sorted({e.packing_group or "none" for e in entries_for(un_number)})
            raise EntryNotFoundError(
                f"UN {un_number} has no packing group {packing_group} (it has: {', '.join(groups)})"
            )
    if len(candidates) > 1 and name:
        wanted = name.casefold()
        named = [
            e for e in candidates if wanted in (e.name_en or "").casefold() or wanted in (e.name_de or "").casefold()
        ]
        candidates = named or candidates
    if len(candidates) > 1:
        packing_groups = {e.packing_group for e in candidates}
        if len(packing_groups) > 1:
            raise EntryNotFoundError(f"UN {un_number} has entries in several packing groups: give the packing group")
        choices = "; ".join(f"{e.entry_seq}: {e.name_en or e.name_de}" for e in candidates)
        raise EntryNotFoundError(f"UN {un_number} has several entries; name the variant ({choices})")
    return candidates[0]
