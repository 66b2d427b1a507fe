"""msgspec schemas of the dangerous-goods registry API: a carrier's permit, vehicles, drivers and escorts.

Each object belongs to one carrier and is addressed by its integer id. Classes are ADR classes
(``"3"``, ``"6.1"``, ...), as in Table A column 3a and China's JT/T 617.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from core.identifiers import TRACTOR_PLATE_PATTERN, TRAILER_PLATE_PATTERN, validate_vehicle_plate
from core.types import NON_BLANK_LINE_PATTERN, InputStruct, OutputStruct, check_field

__all__ = (
    "ADR_CLASSES",
    "MAX_ID",
    "CertificateNumber",
    "DgCarrierPermitRead",
    "DgCarrierPermitWrite",
    "DgPersonCreate",
    "DgPersonPage",
    "DgPersonRead",
    "DgPersonUpdate",
    "DgVehicleCreate",
    "DgVehiclePage",
    "DgVehicleRead",
    "DgVehicleUpdate",
    "PersonRole",
    "validate_registry_plate",
)

ADR_CLASSES = ("1", "2", "3", "4.1", "4.2", "4.3", "5.1", "5.2", "6.1", "6.2", "7", "8", "9")
"""The dangerous-goods classes of ADR (and GB 6944 / JT/T 617), in order."""

MAX_ID = 2**63 - 1


class PersonRole(StrEnum):
    """What a registered person does on a dangerous-goods leg."""

    DRIVER = "driver"
    ESCORT = "escort"
    """押运员: rides with the load and watches it."""


HazardClass = Annotated[str, Meta(pattern=r"^(1|2|3|4\.[123]|5\.[12]|6\.[12]|7|8|9)$", examples=["3"])]
Classes = Annotated[
    list[HazardClass],
    Meta(min_length=1, max_length=len(ADR_CLASSES), description='ADR classes covered, e.g. ["3", "8"]'),
]
CertificateNumber = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=40,
        pattern=NON_BLANK_LINE_PATTERN,
        description="Certificate number as printed on it",
        examples=["441900198507121234"],
    ),
]
RegistryPlate = Annotated[
    str,
    Meta(
        pattern=f"({TRACTOR_PLATE_PATTERN})|({TRAILER_PLATE_PATTERN})",
        description="Plate of a lorry, tractor or semi-trailer (挂)",
        examples=["粤E7K724"],
    ),
]
PersonName = Annotated[str, Meta(min_length=1, max_length=50, pattern=NON_BLANK_LINE_PATTERN, examples=["黄志明"])]
QualificationType = Annotated[
    str, Meta(min_length=1, max_length=100, pattern=NON_BLANK_LINE_PATTERN, examples=["道路危险货物运输驾驶员"])
]
Phone = Annotated[str, Meta(pattern=r"^\+?[0-9][0-9 \-]{4,19}$", examples=["+86 138 2299 4410"])]
ExpiryDate = Annotated[date, Meta(description="Last day of validity (Asia/Shanghai), e.g. 2027-06-30")]


def validate_registry_plate(value: str) -> str:
    """A tractor or trailer plate, checked as on a waybill."""
    return validate_vehicle_plate(value, trailer=value.endswith("挂"))


def _check_classes(field: str, classes: list[str]) -> None:
    if len(set(classes)) != len(classes):
        raise ValueError(f"{field}: a class is repeated")


class DgVehicleCreate(InputStruct, frozen=True):
    """A vehicle with its road transport certificate and dangerous-goods permit."""

    plate: RegistryPlate
    transport_certificate_number: CertificateNumber
    """道路运输证号."""
    permitted_classes: Classes
    permit_expires_on: ExpiryDate
    tank_allowed: bool = False
    """The permit covers carriage in tanks or in bulk."""

    def __post_init__(self) -> None:
        check_field("plate", validate_registry_plate, self.plate)
        _check_classes("permitted_classes", self.permitted_classes)


class DgVehicleUpdate(InputStruct, frozen=True):
    """A change to a vehicle; fields left out keep their value."""

    plate: RegistryPlate | UnsetType = UNSET
    transport_certificate_number: CertificateNumber | UnsetType = UNSET
    permitted_classes: Classes | UnsetType = UNSET
    permit_expires_on: ExpiryDate | UnsetType = UNSET
    tank_allowed: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.plate, str):
            check_field("plate", validate_registry_plate, self.plate)
        if isinstance(self.permitted_classes, list):
            _check_classes("permitted_classes", self.permitted_classes)


class DgVehicleRead(OutputStruct, frozen=True):
    """A registered vehicle of the carrier."""

    id: int
    plate: str
    transport_certificate_number: str
    permitted_classes: list[str]
    tank_allowed: bool
    permit_expires_on: date
    created_at: datetime
    updated_at: datetime


class DgVehiclePage(OutputStruct, frozen=True):
    """One page of vehicles, by id; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[DgVehicleRead]
    next_cursor: str | None


class DgPersonCreate(InputStruct, frozen=True):
    """A driver or escort with a qualification certificate (从业资格证); no identity card number is kept."""

    role: PersonRole
    name: PersonName
    certificate_number: CertificateNumber
    """从业资格证号."""
    qualification_type: QualificationType
    """The certificate's category as printed, e.g. 道路危险货物运输驾驶员, 道路危险货物运输押运人员."""
    qualified_classes: Classes
    expires_on: ExpiryDate
    phone: Phone | None = None

    def __post_init__(self) -> None:
        _check_classes("qualified_classes", self.qualified_classes)


class DgPersonUpdate(InputStruct, frozen=True):
    """A change to a person; fields left out keep their value, ``phone: null`` clears it."""

    role: PersonRole | UnsetType = UNSET
    name: PersonName | UnsetType = UNSET
    certificate_number: CertificateNumber | UnsetType = UNSET
    qualification_type: QualificationType | UnsetType = UNSET
    qualified_classes: Classes | UnsetType = UNSET
    expires_on: ExpiryDate | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.qualified_classes, list):
            _check_classes("qualified_classes", self.qualified_classes)


class DgPersonRead(OutputStruct, frozen=True):
    """A registered driver or escort of the carrier."""

    id: int
    role: PersonRole
    name: str
    certificate_number: str
    qualification_type: str
    qualified_classes: list[str]
    expires_on: date
    phone: str | None
    created_at: datetime
    updated_at: datetime


class DgPersonPage(OutputStruct, frozen=True):
    """One page of people, by id; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[DgPersonRead]
    next_cursor: str | None


class DgCarrierPermitWrite(InputStruct, frozen=True):
    """The carrier's road transport permit (道路运输经营许可证); it replaces the one registered before."""

    permit_number: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=40,
            pattern=NON_BLANK_LINE_PATTERN,
            description="道路运输经营许可证号 as printed on the permit",
            examples=["粤交运管许可佛字440604000123号"],
        ),
    ]
    business_scope: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=200,
            pattern=NON_BLANK_LINE_PATTERN,
            description="经营范围 as printed on the permit",
            examples=["道路危险货物运输 (2类1项, 3类, 8类)"],
        ),
    ]
    permitted_classes: Classes
    """ADR classes the dangerous-goods business scope covers."""
    expires_on: ExpiryDate

    def __post_init__(self) -> None:
        _check_classes("permitted_classes", self.permitted_classes)


class DgCarrierPermitRead(OutputStruct, frozen=True):
    """The carrier's registered road transport permit."""

    permit_number: str
    business_scope: str
    permitted_classes: list[str]
    expires_on: date
    created_at: datetime
    updated_at: datetime
