"""Dangerous goods on a waybill: the load its cargo lines make must pass the ADR assessment.

A waybill whose dangerous-goods lines name an unknown UN number or packing group, or load together
goods that ADR 7.5.2.1 / 7.5.2.2 keep apart, is refused with the rule cited and the line named.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from dangerous_goods.assessment import Assessment, AssessmentError, LoadLine, assess
from waybill.schemas import CargoLine

__all__ = ("LoadRefusal", "assess_cargo")


class LoadRefusal(msgspec.Struct, kw_only=True, frozen=True):
    """Why a waybill's dangerous-goods load is refused, and which field to name."""

    message: str
    field: str


def _load_lines(cargo: Sequence[CargoLine]) -> tuple[list[int], list[LoadLine]]:
    indexes: list[int] = []
    lines: list[LoadLine] = []
    for index, line in enumerate(cargo):
        goods = line.dangerous_goods
        if goods is None:
            continue
        indexes.append(index)
        lines.append(
            LoadLine(
                un_number=goods.un_number.removeprefix("UN"),
                quantity=goods.quantity,
                unit=goods.unit,
                packing_group=goods.packing_group,
                name=line.description,
                mass_kg=line.gross_weight_kg if goods.unit == "articles" else None,
            )
        )
    return indexes, lines


def assess_cargo(cargo: Sequence[CargoLine]) -> Assessment | LoadRefusal | None:
    """The ADR assessment of the waybill's dangerous goods, a refusal, or ``None`` if it carries none."""
    indexes, lines = _load_lines(cargo)
    if not lines:
        return None
    try:
        result = assess(lines)
    except AssessmentError as exc:
        at = indexes[exc.line]
        attribute = "quantity" if exc.attribute == "mass_kg" else exc.attribute
        message = exc.message.replace(f"line {exc.line}", f"cargo[{at}]")
        return LoadRefusal(message=message, field=f"cargo[{at}].dangerous_goods.{attribute}")
    if result.mixed_loading_violations:
        finding = result.mixed_loading_violations[0]
        first, second = (indexes[i] for i in finding.lines)
        rule = f"{finding.rule} note {finding.note}" if finding.note else finding.rule
        return LoadRefusal(
            message=f"cargo[{first}] and cargo[{second}] may not be loaded together ({rule}): {finding.reason}",
            field=f"cargo[{second}].dangerous_goods",
        )
    return result
