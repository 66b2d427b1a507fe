"""The ADR rules tables shipped in ``dangerous_goods/data/rules/``, read once into typed structs.

- ``adr_7521_mixed_loading.json``: ADR 7.5.2.1 (label × label, notes a–d) and 7.5.2.2 (Class 1
  compatibility groups, notes a–d);
- ``adr_1136_transport_categories.json``: ADR 1.1.3.6 transport categories, multipliers, the
  factor-20 footnote UN numbers, the 1000-point limit and how quantities are measured;
- ``adr_tunnel_codes.json``: ADR 8.6.4, the tunnel categories each tunnel restriction code is
  forbidden in, by kind of carriage and net explosive mass;
- ``adr_hazard_identification_numbers.json``: ADR 5.3.2.3, what each Kemler number means.

See ``dangerous_goods/data/README.md`` for where each table comes from.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal, TypeVar

import msgspec

from dangerous_goods.reference import DATA_DIR

__all__ = (
    "MIXED_LOADING_PERMITTED",
    "MIXED_LOADING_PROHIBITED",
    "Carriage",
    "HazardIdentificationNumbers",
    "MixedLoadingRules",
    "TransportCategories",
    "TransportCategory",
    "TunnelCode",
    "TunnelCodes",
    "hazard_identification_numbers",
    "mixed_loading_rules",
    "transport_categories",
    "tunnel_codes",
)

RULES_DIR = DATA_DIR / "rules"
_T = TypeVar("_T", bound=msgspec.Struct)

Carriage = Literal["packages", "bulk", "tank"]

MIXED_LOADING_PERMITTED = "X"
MIXED_LOADING_PROHIBITED = ""


class MixedLoadingRules(msgspec.Struct, kw_only=True, frozen=True):
    """ADR 7.5.2.1 and 7.5.2.2.

    A cell is ``"X"`` (permitted), ``""`` (prohibited), ``"see 7.5.2.2"`` or one or more note
    letters (``"a,b,c"``): permitted only where one of the notes allows it.
    """

    source: str
    label_groups: dict[str, list[str] | str]
    labels: list[str]
    """The rows and columns of the 7.5.2.1 table (``"2"`` for 2.1–2.3, ``"4.1+1"`` for 4.1 with subsidiary 1...)."""
    matrix: dict[str, dict[str, str]]
    notes: dict[str, str]
    class1_compatibility_groups: list[str]
    class1_matrix: dict[str, dict[str, str]]
    class1_notes: dict[str, str]

    def cell(self, first: str, second: str) -> str:
        """The 7.5.2.1 cell of two table labels."""
        return self.matrix[first][second]

    def class1_cell(self, first: str, second: str) -> str:
        """The 7.5.2.2 cell of two compatibility groups."""
        return self.class1_matrix[first][second]


class TransportCategory(msgspec.Struct, kw_only=True, frozen=True):
    """One row of the ADR 1.1.3.6.3 table."""

    max_total_per_transport_unit: int | None
    """Column 3: ``None`` means unlimited (category 4), ``0`` means no exemption (category 0)."""
    multiplier: int | None
    """ADR 1.1.3.6.4: points per kg or L; ``None`` for category 0, which may never be exempted."""
    exempt_possible: bool = True
    note: str | None = None


class TransportCategories(msgspec.Struct, kw_only=True, frozen=True):
    """ADR 1.1.3.6: the small-load exemption."""

    source: str
    categories: dict[str, TransportCategory]
    footnote_un_numbers_tc1_factor20_max50: list[str]
    """UN numbers of transport category 1 counted with factor 20 instead of 50 (1.1.3.6.3 footnote)."""
    rule: str
    quantity_basis: dict[str, str]
    not_counted: str
    what_the_exemption_lifts: str
    china: str

    POINTS_LIMIT = 1000
    """ADR 1.1.3.6.4: the sum of quantity × multiplier may not exceed 1000 ("does not exceed": 1000 is exempt)."""

    def category(self, transport_category: int) -> TransportCategory:
        """The row of a transport category 0–4."""
        return self.categories[str(transport_category)]

    def multiplier(self, un_number: str, transport_category: int) -> int | None:
        """Points per unit of quantity of a UN number in a transport category (``None``: category 0)."""
        if un_number in self.footnote_un_numbers_tc1_factor20_max50:
            return 20
        return self.category(transport_category).multiplier


class TunnelCode(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """The tunnel categories one tunnel restriction code is forbidden in (ADR 8.6.4).

    Exactly one way of deciding is filled in: always the same (``forbidden_in``), by carriage in
    tanks (B/D, B/E, C/D, C/E), by carriage in bulk or tanks (D/E), or by the net explosive mass
    per transport unit (B1000C, C5000D).
    """

    forbidden_in: list[str] | None = None
    tank_carriage: list[str] | None = None
    bulk_or_tank_carriage: list[str] | None = None
    other_carriage: list[str] | None = None
    if_net_explosive_mass_per_unit_gt_1000kg: list[str] | None = None
    if_net_explosive_mass_per_unit_gt_5000kg: list[str] | None = None
    otherwise: list[str] | None = None

    def forbidden_categories(self, *, carriage: Carriage, net_explosive_mass_kg: float) -> tuple[str, ...]:
        """The tunnel categories (A–E) this code forbids for a kind of carriage and explosive mass."""
        if self.forbidden_in is not None:
            return tuple(self.forbidden_in)
        if self.tank_carriage is not None and self.other_carriage is not None:
            return tuple(self.tank_carriage if carriage == "tank" else self.other_carriage)
        if self.bulk_or_tank_carriage is not None and self.other_carriage is not None:
            return tuple(self.bulk_or_tank_carriage if carriage in ("bulk", "tank") else self.other_carriage)
        if self.if_net_explosive_mass_per_unit_gt_1000kg is not None and self.otherwise is not None:
            heavy = net_explosive_mass_kg > 1000
            return tuple(self.if_net_explosive_mass_per_unit_gt_1000kg if heavy else self.otherwise)
        if self.if_net_explosive_mass_per_unit_gt_5000kg is not None and self.otherwise is not None:
            heavy = net_explosive_mass_kg > 5000
            return tuple(self.if_net_explosive_mass_per_unit_gt_5000kg if heavy else self.otherwise)
        raise ValueError("tunnel code without a rule")  # the shipped table has none; see tests


class TunnelCodes(msgspec.Struct, kw_only=True, frozen=True):
    """ADR 1.9.5.2.2 tunnel categories and 8.6.4 restrictions."""

    source: str
    tunnel_categories: dict[str, str]
    codes: dict[str, TunnelCode]
    """By code, in the order of the 8.6.4 table: most restrictive first, ``"-"`` (none) last."""
    notes: list[str]

    def rank(self, code: str) -> int:
        """Position of a code in the 8.6.4 table (0 = most restrictive)."""
        return list(self.codes).index(code)


class HazardIdentificationNumbers(msgspec.Struct, kw_only=True, frozen=True):
    """ADR 5.3.2.3: Kemler numbers (upper half of the orange plate)."""

    source: str
    digits: dict[str, str]
    rules: list[str]
    meanings: dict[str, str]

    def meaning(self, number: str) -> str | None:
        """What a hazard identification number means (``None`` for Class 1 codes such as ``1.5D``)."""
        return self.meanings.get(number)


def _load(name: str, struct_type: type[_T]) -> _T:
    return msgspec.json.decode((RULES_DIR / name).read_bytes(), type=struct_type)


@lru_cache(maxsize=1)
def mixed_loading_rules() -> MixedLoadingRules:
    """ADR 7.5.2.1 / 7.5.2.2 (read once)."""
    rules = _load("adr_7521_mixed_loading.json", MixedLoadingRules)
    cell = re.compile(r"^(X|see 7\.5\.2\.2|[a-d](,[a-d])*)?$")
    for row in rules.labels:
        for column in rules.labels:
            if not cell.match(rules.matrix[row][column]):
                raise ValueError(f"7.5.2.1 cell {row}×{column}: {rules.matrix[row][column]!r}")
    return rules


@lru_cache(maxsize=1)
def transport_categories() -> TransportCategories:
    """ADR 1.1.3.6 (read once)."""
    return _load("adr_1136_transport_categories.json", TransportCategories)


@lru_cache(maxsize=1)
def tunnel_codes() -> TunnelCodes:
    """ADR 8.6.4 (read once)."""
    return _load("adr_tunnel_codes.json", TunnelCodes)


@lru_cache(maxsize=1)
def hazard_identification_numbers() -> HazardIdentificationNumbers:
    """ADR 5.3.2.3 (read once)."""
    return _load("adr_hazard_identification_numbers.json", HazardIdentificationNumbers)
