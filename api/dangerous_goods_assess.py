"""``POST /v1/dangerous-goods/assess``: the ADR assessment of a load, for any authenticated organisation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, post
from litestar.di import Provide
from litestar.openapi.spec import Example
from litestar.params import Body, SkipValidation
from litestar.status_codes import HTTP_200_OK
from msgspec import Meta

from api.deps import Caller, provide_principal
from api.inputs import strict_body
from api.problems import problem_responses
from core.errors import RuleViolationError
from core.types import InputStruct, OutputStruct
from dangerous_goods.assessment import (
    Assessment,
    AssessmentError,
    LoadLine,
    MixedLoadingFinding,
    OrangePlate,
    Qualification,
    assess,
)

__all__ = (
    "ASSESS_EXAMPLE",
    "AssessLoad",
    "AssessmentLine",
    "AssessmentRead",
    "DangerousGoodsAssessController",
)


class AssessmentLine(InputStruct, frozen=True, rename="camel"):
    """One line of dangerous goods in the load."""

    un_number: Annotated[
        str, Meta(pattern=r"^(UN)?[0-9]{4}$", description="UN number, e.g. 1203 (or UN1203)", examples=["1203"])
    ]
    quantity: Annotated[
        float,
        Meta(
            gt=0,
            le=1_000_000,
            description="kg (solids, liquefied gases), L (liquids; compressed gases: water capacity) or articles",
        ),
    ]
    unit: Literal["kg", "L", "articles"]
    packing_group: Literal["I", "II", "III"] | None = None
    name: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=200,
                pattern=r"^[^\x00-\x1f\x7f]*$",
                description="Part of the proper shipping name, where UN number and packing group leave several entries",
            ),
        ]
        | None
    ) = None
    carriage: Literal["packages", "bulk", "tank"] = "packages"
    mass_kg: (
        Annotated[
            float,
            Meta(
                gt=0,
                le=1_000_000,
                description="Articles: gross mass in kg (Class 1: net explosive mass), as ADR 1.1.3.6.3 counts them",
            ),
        ]
        | None
    ) = None


class AssessLoad(InputStruct, frozen=True, rename="camel"):
    """The dangerous goods on one transport unit."""

    lines: Annotated[list[AssessmentLine], Meta(min_length=1, max_length=100)]


class AssessedLineRead(OutputStruct, frozen=True, rename="camel"):
    """A line with the ADR 2025 Table A entry it was assessed as."""

    index: int
    un_number: str
    entry_seq: int
    name: str | None
    hazard_class: str
    classification_code: str | None
    compatibility_group: str | None
    packing_group: str | None
    labels: list[str]
    transport_category: int | None
    tunnel_restriction_code: str | None
    hazard_identification_number: str | None
    tank_code: str | None
    tank_vehicle: str | None
    carriage: str
    quantity: float
    unit: str
    counted_quantity: float
    multiplier: int | None
    points: float
    forbidden_tunnel_categories: list[str]


class MixedLoadingRead(OutputStruct, frozen=True, rename="camel"):
    """Two lines that may not be loaded together (or only on a condition)."""

    lines: list[int]
    un_numbers: list[str]
    labels: list[str]
    rule: str
    note: str | None
    reason: str


class OrangePlateRead(OutputStruct, frozen=True, rename="camel"):
    """An orange plate: plain, or with the Kemler number over the UN number."""

    kind: str
    placement: str
    line: int | None
    hazard_identification_number: str | None
    un_number: str | None
    meaning: str | None


class QualificationRead(OutputStruct, frozen=True, rename="camel"):
    """An approval or certificate that is required."""

    code: str
    description: str
    basis: str
    lines: list[int]


class RequiredQualificationsRead(OutputStruct, frozen=True, rename="camel"):
    """What the vehicle, the driver and the escort (押运员) need."""

    vehicle: list[QualificationRead]
    driver: list[QualificationRead]
    escort: list[QualificationRead]


class AssessmentRead(OutputStruct, frozen=True, rename="camel"):
    """The ADR assessment of a load."""

    lines: list[AssessedLineRead]
    points: float
    exempt: bool
    net_explosive_mass_kg: float
    mixed_loading_violations: list[MixedLoadingRead]
    mixed_loading_conditions: list[MixedLoadingRead]
    tunnel_restriction_code: str | None
    forbidden_tunnel_categories: list[str]
    orange_plates: list[OrangePlateRead]
    required_qualifications: RequiredQualificationsRead


ASSESS_EXAMPLE: dict[str, Any] = {
    "lines": [
        {"unNumber": "1203", "packingGroup": "II", "quantity": 300, "unit": "L"},
        {"unNumber": "1830", "packingGroup": "II", "quantity": 200, "unit": "L"},
    ]
}
TANKER_EXAMPLE: dict[str, Any] = {
    "lines": [{"unNumber": "1203", "packingGroup": "II", "quantity": 20000, "unit": "L", "carriage": "tank"}]
}

AssessBody = SkipValidation[
    Annotated[
        AssessLoad,
        Body(
            examples=[
                Example(summary="Drums of petrol and sulphuric acid", value=ASSESS_EXAMPLE),
                Example(summary="A petrol tanker", value=TANKER_EXAMPLE),
            ]
        ),
    ]
]

_CAMEL = {"un_number": "unNumber", "packing_group": "packingGroup", "mass_kg": "massKg"}


def _finding(finding: MixedLoadingFinding) -> MixedLoadingRead:
    return MixedLoadingRead(
        lines=list(finding.lines),
        un_numbers=list(finding.un_numbers),
        labels=list(finding.labels),
        rule=finding.rule,
        note=finding.note,
        reason=finding.reason,
    )


def _plate(plate: OrangePlate) -> OrangePlateRead:
    return OrangePlateRead(
        kind=plate.kind,
        placement=plate.placement,
        line=plate.line,
        hazard_identification_number=plate.hazard_identification_number,
        un_number=plate.un_number,
        meaning=plate.meaning,
    )


def _qualification(item: Qualification) -> QualificationRead:
    return QualificationRead(code=item.code, description=item.description, basis=item.basis, lines=list(item.lines))


def _read(result: Assessment) -> AssessmentRead:
    qualifications = result.required_qualifications
    return AssessmentRead(
        lines=[
            AssessedLineRead(
                index=line.index,
                un_number=line.entry.un_number,
                entry_seq=line.entry.entry_seq,
                name=line.entry.name_en or line.entry.name_de,
                hazard_class=line.entry.hazard_class,
                classification_code=line.entry.classification_code,
                compatibility_group=line.entry.compatibility_group,
                packing_group=line.entry.packing_group,
                labels=list(line.entry.labels),
                transport_category=line.entry.transport_category,
                tunnel_restriction_code=line.entry.tunnel_restriction_code,
                hazard_identification_number=line.entry.hazard_identification_number,
                tank_code=line.entry.tank_code,
                tank_vehicle=line.entry.tank_vehicle,
                carriage=line.carriage,
                quantity=line.quantity,
                unit=line.unit,
                counted_quantity=line.counted_quantity,
                multiplier=line.multiplier,
                points=line.points,
                forbidden_tunnel_categories=list(line.forbidden_tunnel_categories),
            )
            for line in result.lines
        ],
        points=result.points,
        exempt=result.exempt,
        net_explosive_mass_kg=result.net_explosive_mass_kg,
        mixed_loading_violations=[_finding(f) for f in result.mixed_loading_violations],
        mixed_loading_conditions=[_finding(f) for f in result.mixed_loading_conditions],
        tunnel_restriction_code=result.tunnel_restriction_code,
        forbidden_tunnel_categories=list(result.forbidden_tunnel_categories),
        orange_plates=[_plate(p) for p in result.orange_plates],
        required_qualifications=RequiredQualificationsRead(
            vehicle=[_qualification(q) for q in qualifications.vehicle],
            driver=[_qualification(q) for q in qualifications.driver],
            escort=[_qualification(q) for q in qualifications.escort],
        ),
    )


class DangerousGoodsAssessController(Controller):
    """ADR assessment of a load: exemption points, mixed loading, tunnels, plates, qualifications."""

    path = "/v1/dangerous-goods/assess"
    tags = ["Dangerous goods"]
    dependencies = {"principal": Provide(provide_principal)}
    security = [{"BearerAuth": []}]

    @post(
        "/",
        operation_id="assessDangerousGoods",
        summary="Assess a load of dangerous goods",
        description=(
            "Selects each line's ADR 2025 Table A entry and returns the ADR 1.1.3.6 points and exemption, "
            "the pairs of lines that may not be loaded together (ADR 7.5.2.1, 7.5.2.2), the load's tunnel "
            "restriction code and the tunnel categories it may not enter (8.6.4), the orange plates and "
            "the qualifications of vehicle, driver and escort (押运员). An unknown UN number or packing "
            "group is refused (422) naming the line."
        ),
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 413, 422),
    )
    async def assess_dangerous_goods(self, principal: Caller, data: AssessBody) -> AssessmentRead:
        load = strict_body(data, AssessLoad)
        lines = [
            LoadLine(
                un_number=line.un_number.removeprefix("UN"),
                quantity=line.quantity,
                unit=line.unit,
                packing_group=line.packing_group,
                name=line.name,
                carriage=line.carriage,
                mass_kg=line.mass_kg,
            )
            for line in load.lines
        ]
        try:
            result = assess(lines)
        except AssessmentError as exc:
            field = f"lines[{exc.line}].{_CAMEL.get(exc.attribute, exc.attribute)}"
            detail = exc.message.replace(f"line {exc.line}:", f"lines[{exc.line}]:")
            raise RuleViolationError(detail, field=field) from None
        return _read(result)
