"""ADR assessment of one transport unit's load: pure, on the cached Table A and rules tables.

``assess(lines)`` selects each line's Table A entry and works out, for the whole load:

- the ADR 1.1.3.6.4 points and whether the small-load exemption applies;
- the pairs of lines that may not be loaded together (ADR 7.5.2.1, and 7.5.2.2 for Class 1);
- the tunnel restriction code of the load and the tunnel categories it may not enter (ADR 8.6.3.3, 8.6.4);
- the orange plates (ADR 5.3.2);
- what the vehicle, the driver and the escort (押运员) need.

Interpretation choices are written where they are made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import msgspec

from dangerous_goods.reference import DangerousGood, EntryNotFoundError, entries_for, select_entry
from dangerous_goods.rules import (
    MIXED_LOADING_PERMITTED,
    MIXED_LOADING_PROHIBITED,
    Carriage,
    hazard_identification_numbers,
    mixed_loading_rules,
    transport_categories,
    tunnel_codes,
)

__all__ = (
    "AssessedLine",
    "Assessment",
    "AssessmentError",
    "LoadLine",
    "MixedLoadingFinding",
    "OrangePlate",
    "Qualification",
    "RequiredQualifications",
    "Unit",
    "assess",
)

Unit = Literal["kg", "L", "articles"]

# ADR 7.5.2.1 note d: the blasting explosives (EXPLOSIVE, BLASTING, TYPE A–E) and the nitrates they
# may travel with. UN 0083 (TYPE C) is excluded by the note itself.
BLASTING_EXPLOSIVES = frozenset({"0081", "0082", "0083", "0084", "0241", "0331", "0332"})
NOTE_D_EXCLUDED = frozenset({"0083"})
AMMONIUM_NITRATES = frozenset({"1942", "2067", "3375"})
ALKALI_METAL_NITRATES = frozenset({"1451", "2722", "1486", "1498"})  # caesium, lithium, potassium, sodium
RUBIDIUM_NITRATE = "1477"
"""ADR names rubidium nitrate under UN 1477 (NITRATES, INORGANIC, N.O.S.): counted only when the line says rubidium."""
ALKALINE_EARTH_METAL_NITRATES = frozenset({"1446", "2464", "1454", "1474", "1507"})
# Notes b and c: life-saving appliances of Class 9, and the pyrotechnic / electric safety devices.
LIFE_SAVING_APPLIANCES = frozenset({"2990", "3072", "3268"})
PYROTECHNIC_SAFETY_DEVICES = "0503"
ELECTRIC_SAFETY_DEVICES = "3268"

_RULE_7521 = "ADR 7.5.2.1"
_RULE_7522 = "ADR 7.5.2.2"


class AssessmentError(ValueError):
    """A line cannot be assessed (unknown UN number, wrong packing group, carriage not allowed...).

    Attributes:
        line: 0-based index of the line.
        attribute: the line's attribute at fault (``un_number``, ``packing_group``, ``name``,
            ``carriage``, ``mass_kg``).
    """

    def __init__(self, message: str, *, line: int, attribute: str) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.attribute = attribute


class LoadLine(msgspec.Struct, kw_only=True, frozen=True):
    """One dangerous-goods line of a load."""

    un_number: str
    quantity: float
    """In ``unit``; for ``articles`` the number of articles."""
    unit: Unit
    packing_group: str | None = None
    name: str | None = None
    """Picks the Table A variant where UN number and packing group leave several."""
    carriage: Carriage = "packages"
    mass_kg: float | None = None
    """Articles: the ADR 1.1.3.6.3 quantity, gross mass in kg (Class 1: net explosive mass)."""


class AssessedLine(msgspec.Struct, kw_only=True, frozen=True):
    """A line with its Table A entry and what it contributes."""

    index: int
    entry: DangerousGood
    name: str | None
    """The name the line gave, if any."""
    carriage: Carriage
    quantity: float
    unit: Unit
    counted_quantity: float
    """The ADR 1.1.3.6.3 quantity: kg or L as given; for articles their mass in kg."""
    multiplier: int | None
    """ADR 1.1.3.6.4 multiplier (20 for the footnote UN numbers); ``None`` for transport category 0."""
    points: float
    mixed_loading_labels: tuple[str, ...]
    """The 7.5.2.1 table labels of the line (e.g. ``("2", "8")``, ``("4.1+1",)``)."""
    forbidden_tunnel_categories: tuple[str, ...]
    """What the line's own tunnel restriction code forbids for its carriage and the load's explosive mass."""


class MixedLoadingFinding(msgspec.Struct, kw_only=True, frozen=True):
    """Two lines whose loading together is prohibited, or permitted only under a condition."""

    lines: tuple[int, int]
    un_numbers: tuple[str, str]
    labels: tuple[str, str]
    """The labels (7.5.2.1) or compatibility groups (7.5.2.2) of the pair that decide."""
    rule: str
    """``ADR 7.5.2.1`` or ``ADR 7.5.2.2``."""
    note: str | None
    """The table's note(s) in the cell (``"d"``, ``"a,b,c"``), ``None`` for a blank cell."""
    reason: str


class OrangePlate(msgspec.Struct, kw_only=True, frozen=True):
    """An orange-coloured plate (ADR 5.3.2)."""

    kind: Literal["plain", "numbered"]
    placement: str
    line: int | None = None
    hazard_identification_number: str | None = None
    """Upper half (Kemler number), for numbered plates."""
    un_number: str | None = None
    """Lower half, for numbered plates."""
    meaning: str | None = None


class Qualification(msgspec.Struct, kw_only=True, frozen=True):
    """Something the vehicle, the driver or the escort must hold."""

    code: str
    description: str
    basis: str
    lines: tuple[int, ...] = ()


class RequiredQualifications(msgspec.Struct, kw_only=True, frozen=True):
    """Vehicle approvals, driver certificates and escort."""

    vehicle: tuple[Qualification, ...]
    driver: tuple[Qualification, ...]
    escort: tuple[Qualification, ...]


class Assessment(msgspec.Struct, kw_only=True, frozen=True):
    """The ADR assessment of a load."""

    lines: tuple[AssessedLine, ...]
    points: float
    """ADR 1.1.3.6.4: the sum of counted quantity × multiplier."""
    exempt: bool
    """ADR 1.1.3.6: packages only, no transport category 0 line, and at most 1000 points."""
    net_explosive_mass_kg: float
    mixed_loading_violations: tuple[MixedLoadingFinding, ...]
    mixed_loading_conditions: tuple[MixedLoadingFinding, ...]
    """Pairs permitted on a condition the platform cannot check (7.5.2.2 notes b and c)."""
    tunnel_restriction_code: str | None
    """The load's code (8.6.3.3); ``None`` when no line has one, or when the load is exempt."""
    forbidden_tunnel_categories: tuple[str, ...]
    orange_plates: tuple[OrangePlate, ...]
    required_qualifications: RequiredQualifications


def assess(lines: Sequence[LoadLine]) -> Assessment:
    """Assess one transport unit's load of dangerous goods.

    Raises:
        AssessmentError: a line's UN number, packing group or variant is unknown or ambiguous, its
            carriage is not allowed for the entry, or articles lack the mass needed to count them.
    """
    entries = [_select(index, line) for index, line in enumerate(lines)]
    counted = [
        _counted_quantity(index, line, entry) for index, (line, entry) in enumerate(zip(lines, entries, strict=True))
    ]
    explosive_mass = sum(q for q, entry in zip(counted, entries, strict=True) if entry.hazard_class == "1")
    categories = transport_categories()
    codes = tunnel_codes()

    assessed: list[AssessedLine] = []
    for index, (line, entry, quantity) in enumerate(zip(lines, entries, counted, strict=True)):
        tc = entry.transport_category
        multiplier = None if tc is None else categories.multiplier(entry.un_number, tc)
        # Table A "-" in column 15 (no transport category: not subject, or see a special provision) counts nothing.
        points = 0.0 if tc is None or multiplier is None else quantity * multiplier
        tunnel_code = codes.codes[entry.tunnel_restriction_code or "-"]
        assessed.append(
            AssessedLine(
                index=index,
                entry=entry,
                name=line.name,
                carriage=line.carriage,
                quantity=line.quantity,
                unit=line.unit,
                counted_quantity=quantity,
                multiplier=multiplier,
                points=points,
                mixed_loading_labels=_table_labels(entry),
                forbidden_tunnel_categories=tunnel_code.forbidden_categories(
                    carriage=line.carriage, net_explosive_mass_kg=explosive_mass
                ),
            )
        )

    points = sum(line.points for line in assessed)
    exempt = (
        all(line.carriage == "packages" for line in assessed)
        and not any(line.entry.transport_category == 0 for line in assessed)
        and points <= categories.POINTS_LIMIT
    )
    violations, conditions = _mixed_loading(assessed)
    code, forbidden = _tunnel(assessed, exempt=exempt)
    return Assessment(
        lines=tuple(assessed),
        points=points,
        exempt=exempt,
        net_explosive_mass_kg=explosive_mass,
        mixed_loading_violations=violations,
        mixed_loading_conditions=conditions,
        tunnel_restriction_code=code,
        forbidden_tunnel_categories=forbidden,
        orange_plates=_orange_plates(assessed, exempt=exempt),
        required_qualifications=_qualifications(assessed, exempt=exempt),
    )


# -- selecting the entry ----------------------------------------------------------------------------


def _particulars(entry: DangerousGood, carriage: Carriage) -> tuple[object, ...]:
    """What the assessment reads of an entry: variants equal on these are interchangeable here."""
    common = (
        entry.hazard_class,
        entry.classification_code,
        entry.labels,
        entry.transport_category,
        entry.tunnel_restriction_code,
        entry.multiplier_1136,
        entry.hazard_identification_number,
        entry.status,
    )
    return common + ((entry.tank_code, entry.tank_vehicle) if carriage != "packages" else ())


def _select(index: int, line: LoadLine) -> DangerousGood:
    un_number = line.un_number
    candidates = entries_for(un_number)
    if not candidates:
        raise AssessmentError(
            f"line {index}: UN {un_number} is not in the ADR 2025 dangerous goods list",
            line=index,
            attribute="un_number",
        )
    try:
        entry = select_entry(un_number, line.packing_group, line.name)
    except EntryNotFoundError as exc:
        matching = [e for e in candidates if line.packing_group is None or e.packing_group == line.packing_group]
        if matching and len({_particulars(e, line.carriage) for e in matching}) == 1:
            # Name variants that differ only in name (or in tank particulars, for packages): any will do.
            entry = matching[0]
        else:
            attribute = "name" if matching and len({e.packing_group for e in matching}) == 1 else "packing_group"
            raise AssessmentError(f"line {index}: {exc}", line=index, attribute=attribute) from None
    if entry.status == "carriage_prohibited":
        raise AssessmentError(
            f"line {index}: carriage of UN {un_number} is prohibited (ADR Table A)", line=index, attribute="un_number"
        )
    if line.carriage == "tank" and entry.tank_code is None:
        raise AssessmentError(
            f"line {index}: UN {un_number} may not be carried in tanks (no tank code in ADR Table A column 12)",
            line=index,
            attribute="carriage",
        )
    if line.carriage == "bulk" and entry.hazard_identification_number is None:
        raise AssessmentError(
            f"line {index}: UN {un_number} may not be carried in bulk (no hazard identification number in "
            "ADR Table A column 20)",
            line=index,
            attribute="carriage",
        )
    return entry


def _counted_quantity(index: int, line: LoadLine, entry: DangerousGood) -> float:
    """The ADR 1.1.3.6.3 quantity: kg or L as given; articles by their mass in kg."""
    if line.unit != "articles":
        return line.quantity
    if line.mass_kg is not None:
        return line.mass_kg
    category = entry.transport_category
    needs_mass = entry.hazard_class == "1" or category in (1, 2, 3)
    if needs_mass:
        raise AssessmentError(
            f"line {index}: articles of UN {entry.un_number} count by their mass under ADR 1.1.3.6.3 "
            "(gross mass; net explosive mass for Class 1): give the mass in kg",
            line=index,
            attribute="mass_kg",
        )
    return 0.0


# -- mixed loading ----------------------------------------------------------------------------------

_LABEL_ALIASES = {"2.1": "2", "2.2": "2", "2.3": "2", "7A": "7", "7B": "7", "7C": "7", "7X": "7", "7E": "7", "9A": "9"}


def _table_labels(entry: DangerousGood) -> tuple[str, ...]:
    """The row/column names of the 7.5.2.1 table for the labels the entry's packages bear."""
    raw = [label for label in entry.labels if label != "none"]
    if entry.hazard_class == "1" and not raw:
        raw = ["1"]  # explosives without a label in Table A (samples, UN 0190): treated as label 1
    # Articles containing dangerous goods (UN 3537–3548) bear the labels of the goods inside
    # (5.2.2.1.12); at the least the label of their class.
    labels = [entry.hazard_class if label.startswith("see ") else _LABEL_ALIASES.get(label, label) for label in raw]
    for combined in ("4.1", "5.2"):
        if combined in labels and "1" in labels:
            labels = [f"{combined}+1"] + [label for label in labels if label not in (combined, "1")]
    known = mixed_loading_rules().labels
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise ValueError(f"UN {entry.un_number}: labels {unknown} are not in the 7.5.2.1 table")
    return tuple(dict.fromkeys(labels))


def _note_d_nitrate(entry: DangerousGood, name: str | None) -> bool:
    un = entry.un_number
    if un in AMMONIUM_NITRATES or un in ALKALI_METAL_NITRATES or un in ALKALINE_EARTH_METAL_NITRATES:
        return True
    return un == RUBIDIUM_NITRATE and name is not None and "rubidium" in name.casefold()


def _note_allows(note: str, first: AssessedLine, second: AssessedLine, labels: tuple[str, str]) -> bool:
    """Whether a 7.5.2.1 note permits this pair of lines."""
    pair = ((first, labels[0]), (second, labels[1]))
    if note == "a":  # only with 1.4S
        return any(label == "1.4" and line.entry.compatibility_group == "S" for line, label in pair)
    un = (first.entry.un_number, second.entry.un_number)
    if note == "b":  # Class 1 with life-saving appliances of Class 9
        return any(
            a.entry.hazard_class == "1" and b.entry.un_number in LIFE_SAVING_APPLIANCES
            for a, b in ((first, second), (second, first))
        )
    if note == "c":
        return set(un) == {PYROTECHNIC_SAFETY_DEVICES, ELECTRIC_SAFETY_DEVICES}
    if note == "d":
        return any(
            a.entry.un_number in BLASTING_EXPLOSIVES - NOTE_D_EXCLUDED and _note_d_nitrate(b.entry, b.name)
            for a, b in ((first, second), (second, first))
        )
    return False


def _class1_pair(first: AssessedLine, second: AssessedLine) -> tuple[MixedLoadingFinding | None, bool]:
    """7.5.2.2 for two Class 1 lines: (finding, whether it is a violation)."""
    rules = mixed_loading_rules()
    first_group, second_group = first.entry.compatibility_group, second.entry.compatibility_group
    un = (first.entry.un_number, second.entry.un_number)
    lines = (first.index, second.index)
    if first_group is None or second_group is None:
        return (
            MixedLoadingFinding(
                lines=lines,
                un_numbers=un,
                labels=(first_group or "?", second_group or "?"),
                rule=_RULE_7522,
                note=None,
                reason="an explosive without a compatibility group may not be loaded with other explosives",
            ),
            True,
        )
    groups = (first_group, second_group)
    cell = rules.class1_cell(first_group, second_group)
    pair = f"compatibility groups {groups[0]} (UN {un[0]}) and {groups[1]} (UN {un[1]})"
    if cell == MIXED_LOADING_PERMITTED:
        return None, False
    if cell == MIXED_LOADING_PROHIBITED:
        reason = f"{pair} may not be loaded together"
        return MixedLoadingFinding(
            lines=lines, un_numbers=un, labels=groups, rule=_RULE_7522, note=None, reason=reason
        ), True
    note_text = rules.class1_notes[cell]
    if cell == "d" and un[0] == un[1]:  # L only with the same substance or article
        return None, False
    if cell in ("b", "c"):  # permitted, with consequences the platform cannot check
        if cell == "b" and un[0] == un[1]:
            return None, False
        finding = MixedLoadingFinding(
            lines=lines, un_numbers=un, labels=groups, rule=_RULE_7522, note=cell, reason=f"{pair}: {note_text}"
        )
        return finding, False
    # a (B with D: only in approved separate compartments or containers, which we cannot see) and d.
    reason = f"{pair} may not be loaded together (note {cell}: {note_text})"
    return MixedLoadingFinding(
        lines=lines, un_numbers=un, labels=groups, rule=_RULE_7522, note=cell, reason=reason
    ), True


def _label_pair(first: AssessedLine, second: AssessedLine) -> MixedLoadingFinding | None:
    """7.5.2.1: the first pair of labels, one of each line, that may not be loaded together."""
    rules = mixed_loading_rules()
    for a in first.mixed_loading_labels:
        for b in second.mixed_loading_labels:
            cell = rules.cell(a, b)
            if cell == MIXED_LOADING_PERMITTED:
                continue
            if cell == MIXED_LOADING_PROHIBITED:
                note, reason = None, "blank cell: mixed loading prohibited"
            elif cell == "see 7.5.2.2":  # only Class 1 rows meet; both lines are not Class 1 here
                note, reason = None, "explosives labels: see 7.5.2.2"
            else:
                notes = cell.split(",")
                if any(_note_allows(n, first, second, (a, b)) for n in notes):
                    continue
                note = cell
                reason = "permitted only " + "; or ".join(
                    rules.notes[n].removeprefix("permitted ").removeprefix("only ") for n in notes
                )
            return MixedLoadingFinding(
                lines=(first.index, second.index),
                un_numbers=(first.entry.un_number, second.entry.un_number),
                labels=(a, b),
                rule=_RULE_7521,
                note=note,
                reason=f"labels {a} (UN {first.entry.un_number}) and {b} (UN {second.entry.un_number}): {reason}",
            )
    return None


def _mixed_loading(
    lines: Sequence[AssessedLine],
) -> tuple[tuple[MixedLoadingFinding, ...], tuple[MixedLoadingFinding, ...]]:
    violations: list[MixedLoadingFinding] = []
    conditions: list[MixedLoadingFinding] = []
    for i, first in enumerate(lines):
        for second in lines[i + 1 :]:
            if first.entry.hazard_class == "1" and second.entry.hazard_class == "1":
                # Explosives among themselves: 7.5.2.2 by compatibility group decides (the 7.5.2.1
                # cells for labels 1–1.6 say "see 7.5.2.2"); their subsidiary labels are not compared.
                finding, violation = _class1_pair(first, second)
                if finding is not None:
                    (violations if violation else conditions).append(finding)
                continue
            label_finding = _label_pair(first, second)
            if label_finding is not None:
                violations.append(label_finding)
    return tuple(violations), tuple(conditions)


# -- tunnels, plates, qualifications ---------------------------------------------------------------


def _tunnel(lines: Sequence[AssessedLine], *, exempt: bool) -> tuple[str | None, tuple[str, ...]]:
    """The load's tunnel restriction code and the categories it may not enter (8.6.3.3, 8.6.4).

    Codes are not totally ordered once carriage and explosive mass are known (C/E in packages
    forbids only E, D forbids D and E), so the load's code is that of the line forbidding the most
    tunnel categories, ties going to the earlier code of the 8.6.4 table. The categories nest
    (E ⊂ D–E ⊂ C–E ⊂ B–E), so that line's categories are also the union over all lines.
    Goods carried under the 1.1.3.6 exemption are not taken into account (8.6.3.3; 1.1.3.6.2).
    """
    codes = tunnel_codes()
    restricted = [line for line in lines if line.entry.tunnel_restriction_code is not None]
    if exempt or not restricted:
        return None, ()
    worst = min(
        restricted,
        key=lambda line: (
            -len(line.forbidden_tunnel_categories),
            codes.rank(line.entry.tunnel_restriction_code or "-"),
        ),
    )
    return worst.entry.tunnel_restriction_code, worst.forbidden_tunnel_categories


def _orange_plates(lines: Sequence[AssessedLine], *, exempt: bool) -> tuple[OrangePlate, ...]:
    """ADR 5.3.2.1: plain plates front and rear; Kemler/UN plates for each tank or bulk line."""
    if exempt or not lines:
        return ()
    kemler = hazard_identification_numbers()
    plates = [OrangePlate(kind="plain", placement="front and rear of the transport unit (ADR 5.3.2.1.1)")]
    for line in lines:
        if line.carriage == "packages":
            continue
        number = line.entry.hazard_identification_number
        placement = (
            "both sides of each tank or tank compartment (ADR 5.3.2.1.2)"
            if line.carriage == "tank"
            else "both sides of each vehicle or container carrying it in bulk (ADR 5.3.2.1.4)"
        )
        plates.append(
            OrangePlate(
                kind="numbered",
                placement=placement,
                line=line.index,
                hazard_identification_number=number,
                un_number=line.entry.un_number,
                meaning=kemler.meaning(number) if number else None,
            )
        )
    return tuple(plates)


def _indexes(lines: Sequence[AssessedLine]) -> tuple[int, ...]:
    return tuple(line.index for line in lines)


def _qualifications(lines: Sequence[AssessedLine], *, exempt: bool) -> RequiredQualifications:
    if not lines:
        return RequiredQualifications(vehicle=(), driver=(), escort=())
    if exempt:
        awareness = Qualification(
            code="AWARENESS",
            description="Load exempt under ADR 1.1.3.6: no ADR driver certificate; awareness training only",
            basis="ADR 1.1.3.6.2, 1.3.2",
        )
        return RequiredQualifications(vehicle=(), driver=(awareness,), escort=())

    vehicle: list[Qualification] = [
        Qualification(
            code="CN_DG_VEHICLE",
            description="Vehicle licensed for road transport of dangerous goods (道路运输证, 危险货物运输 scope)",
            basis="道路危险货物运输管理规定",
        )
    ]
    tanks = [line for line in lines if line.carriage == "tank"]
    for approval in dict.fromkeys(line.entry.tank_vehicle for line in tanks if line.entry.tank_vehicle):
        assert approval is not None
        vehicle.append(
            Qualification(
                code=approval,
                description=f"Certificate of approval for a {approval} tank vehicle",
                basis="ADR Table A column 14; 9.1.3",
                lines=_indexes([line for line in tanks if line.entry.tank_vehicle == approval]),
            )
        )
    explosives = [line for line in lines if line.entry.hazard_class == "1" and line.carriage == "packages"]
    if explosives:
        vehicle.append(
            Qualification(
                code="EX/II or EX/III",
                description="Explosives vehicle EX/II or EX/III, by division and net explosive mass",
                basis="ADR 7.5.5.2.1; 9.2.1",
                lines=_indexes(explosives),
            )
        )

    driver = [
        Qualification(
            code="ADR_BASIC",
            description="ADR driver training certificate (道路危险货物运输驾驶人员从业资格证)",
            basis="ADR 8.2.1.2",
        )
    ]
    if tanks:
        driver.append(
            Qualification(
                code="ADR_TANK", description="Tank specialisation", basis="ADR 8.2.1.3", lines=_indexes(tanks)
            )
        )
    class1 = [line for line in lines if line.entry.hazard_class == "1"]
    if class1:
        driver.append(
            Qualification(
                code="ADR_CLASS_1",
                description="Class 1 (explosives) specialisation",
                basis="ADR 8.2.1.4",
                lines=_indexes(class1),
            )
        )
    class7 = [line for line in lines if line.entry.hazard_class == "7"]
    if class7:
        driver.append(
            Qualification(
                code="ADR_CLASS_7",
                description="Class 7 (radioactive material) specialisation",
                basis="ADR 8.2.1.5",
                lines=_indexes(class7),
            )
        )
    escort = (
        Qualification(
            code="CN_ESCORT",
            description="Escort (押运员) on board, holding the escort qualification (押运人员从业资格证)",
            basis="道路危险货物运输管理规定",
        ),
    )
    return RequiredQualifications(vehicle=tuple(vehicle), driver=tuple(driver), escort=escort)
