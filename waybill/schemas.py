"""msgspec schemas of the e-waybill API: what comes in, what goes out.

The goods part (``WaybillDocument``) is fixed at issue and changed only by amendment; the legs
(``LegPlan``) carry the carrier and equipment, which change often.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

import msgspec
from babel.numbers import list_currencies
from msgspec import UNSET, Meta, UnsetType

from core.identifiers import (
    TRACTOR_PLATE_PATTERN,
    TRAILER_PLATE_PATTERN,
    validate_container_number,
    validate_uscc,
    validate_vehicle_plate,
)
from core.types import (
    LINE_PATTERN,
    NON_BLANK_LINE_PATTERN,
    TEXT_PATTERN,
    AwareDatetime,
    DivisionCode,
    InputStruct,
    Latitude,
    Longitude,
    Name,
    Note,
    OutputStruct,
    ShortText,
    UnLocode,
    UsccCode,
    check_field,
)

__all__ = (
    "CancellationReason",
    "CargoLine",
    "CarrierRef",
    "DangerousGoodsLine",
    "Driver",
    "EmergencyContact",
    "Equipment",
    "LegPlan",
    "LegRead",
    "LegStatus",
    "LegUpdate",
    "Party",
    "Place",
    "References",
    "TimeWindow",
    "TransportMode",
    "WaybillAmendment",
    "WaybillCancellation",
    "WaybillCreate",
    "WaybillDocument",
    "WaybillPage",
    "WaybillRead",
    "WaybillStatus",
    "WaybillSummary",
    "WaybillVersionRead",
)

_CURRENCIES = frozenset(list_currencies())


class TransportMode(StrEnum):
    """Mode of a transport leg."""

    ROAD = "road"
    RAIL = "rail"
    INLAND_WATER = "inland_water"
    SEA = "sea"
    AIR = "air"


class WaybillStatus(StrEnum):
    """Lifecycle state of a waybill."""

    DRAFT = "draft"
    ISSUED = "issued"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class LegStatus(StrEnum):
    """State of one transport leg."""

    PLANNED = "planned"
    UNDER_WAY = "under_way"
    COMPLETED = "completed"


class CancellationReason(StrEnum):
    """Why a waybill was cancelled."""

    SHIPPER_REQUEST = "shipper_request"
    DUPLICATE = "duplicate"
    GOODS_NOT_READY = "goods_not_ready"
    NO_CARRIER = "no_carrier"
    REGULATORY = "regulatory"
    OTHER = "other"


Phone = Annotated[str, Meta(pattern=r"^\+?[0-9][0-9 \-]{4,19}$", examples=["+86 757 2283 0000"])]
HsCode = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{6}([0-9]{2}([0-9]{2})?)?$", description="HS code, 6, 8 or 10 digits", examples=["8418102000"]
    ),
]
PackageType = Annotated[
    str, Meta(pattern=r"^[A-Z0-9]{2}$", description="UN/ECE Recommendation 21 package code, e.g. CT carton, PX pallet")
]
UnNumber = Annotated[str, Meta(pattern=r"^UN[0-9]{4}$", description="UN number, e.g. UN1203", examples=["UN1203"])]
CustomsDeclarationNumber = Annotated[
    str, Meta(pattern=r"^[0-9]{18}$", description="18-digit China customs declaration number (报关单号)")
]
ContactName = Annotated[str, Meta(max_length=100, pattern=LINE_PATTERN)]
AddressLine = Annotated[str, Meta(max_length=300, pattern=LINE_PATTERN)]
Address = Annotated[str, Meta(min_length=1, max_length=300, pattern=NON_BLANK_LINE_PATTERN)]
Instructions = Annotated[str, Meta(max_length=2000, pattern=TEXT_PATTERN)]
Reference = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$")]


class Party(InputStruct, frozen=True):
    """A consignor, consignee or notify party."""

    name: Name
    uscc: UsccCode | None = None
    contact_name: ContactName | None = None
    phone: Phone | None = None
    address: AddressLine | None = None

    def __post_init__(self) -> None:
        if self.uscc is not None:
            check_field("uscc", validate_uscc, self.uscc)


def _tractor_plate(value: str) -> str:
    return validate_vehicle_plate(value, trailer=False)


def _trailer_plate(value: str) -> str:
    return validate_vehicle_plate(value, trailer=True)


class Place(InputStruct, frozen=True):
    """A named place with its address, administrative division and position."""

    name: Name
    address: Address
    division_code: DivisionCode
    latitude: Latitude
    longitude: Longitude
    locode: UnLocode | None = None


class TimeWindow(InputStruct, frozen=True):
    """A time window; ``end`` must not be before ``start``."""

    start: AwareDatetime
    end: AwareDatetime

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("end: time window ends before it starts")


class DangerousGoodsLine(InputStruct, frozen=True):
    """Dangerous-goods particulars of a cargo line, assessed against ADR when the waybill is issued or amended."""

    un_number: UnNumber
    quantity: Annotated[float, Meta(gt=0, le=1_000_000)]
    unit: Literal["kg", "L", "articles"]
    """kg for solids and liquefied gases, L for liquids, or a number of articles (the line's gross
    weight then counts as their mass)."""
    packing_group: Literal["I", "II", "III"] | None = None


class CargoLine(InputStruct, frozen=True):
    """One line of goods."""

    description: ShortText
    package_count: Annotated[int, Meta(ge=1, le=1_000_000)]
    package_type: PackageType
    gross_weight_kg: Annotated[float, Meta(gt=0, le=1_000_000)]
    volume_m3: Annotated[float, Meta(ge=0, le=10_000)] | None = None
    hs_code: HsCode | None = None
    declared_value: Annotated[float, Meta(ge=0, le=1e12)] | None = None
    currency: Annotated[str, Meta(pattern=r"^[A-Z]{3}$", examples=["CNY"])] | None = None
    dangerous_goods: DangerousGoodsLine | None = None

    def __post_init__(self) -> None:
        if self.currency is not None and self.currency not in _CURRENCIES:
            raise ValueError(f"currency: unknown ISO 4217 currency {self.currency!r}")
        if self.declared_value is not None and self.currency is None:
            raise ValueError("currency: declared_value needs a currency")


class References(InputStruct, frozen=True):
    """Business references attached to the waybill."""

    order_number: Reference | None = None
    customs_declarations: Annotated[list[CustomsDeclarationNumber], Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )


def _check_unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} repeated")


class EmergencyContact(InputStruct, frozen=True):
    """Who answers, day and night, for a dangerous-goods consignment in an emergency (应急联系人)."""

    name: Annotated[str, Meta(min_length=1, max_length=50, pattern=NON_BLANK_LINE_PATTERN, examples=["林国强"])]
    phone: Phone


class WaybillDocument(InputStruct, frozen=True):
    """The goods part of a waybill, versioned as a whole."""

    consignor: Party
    consignee: Party
    pickup: Place
    delivery: Place
    pickup_window: TimeWindow
    delivery_window: TimeWindow
    cargo: Annotated[list[CargoLine], Meta(min_length=1, max_length=200)]
    notify_party: Party | None = None
    references: References = msgspec.field(default_factory=References)
    instructions: Instructions | None = None
    emergency_contact: EmergencyContact | None = None
    """Needed when any cargo line carries dangerous goods (危险货物道路运输运单: 应急联系人及电话)."""

    def __post_init__(self) -> None:
        if self.delivery_window.end < self.pickup_window.start:
            raise ValueError("delivery_window: delivery window ends before the pickup window starts")
        _check_unique(
            self.references.customs_declarations, "references.customs_declarations: customs declaration number"
        )


class CarrierRef(InputStruct, frozen=True):
    """The carrier of a leg, named by its unified social credit code."""

    uscc: UsccCode
    name: Name

    def __post_init__(self) -> None:
        check_field("uscc", validate_uscc, self.uscc)


class Equipment(InputStruct, frozen=True):
    """Transport equipment on a leg: a tractor or lorry, a semi-trailer, a container."""

    vehicle_plate: Annotated[str, Meta(pattern=TRACTOR_PLATE_PATTERN, examples=["粤E3K721"])] | None = None
    trailer_plate: Annotated[str, Meta(pattern=TRAILER_PLATE_PATTERN, examples=["粤E2386挂"])] | None = None
    container_number: (
        Annotated[
            str,
            Meta(
                pattern=r"^[A-Z]{3}[UJZ][0-9]{7}$",
                description="ISO 6346 container number, check digit verified",
                examples=["CSQU3054383"],
            ),
        ]
        | None
    ) = None
    rail_wagon: Annotated[str, Meta(pattern=r"^[0-9A-Z]{4,12}$", description="Rail wagon number")] | None = None
    vessel_name: (
        Annotated[str, Meta(max_length=100, pattern=NON_BLANK_LINE_PATTERN, examples=["珠江驳1038"])] | None
    ) = None
    voyage: Annotated[str, Meta(pattern=r"^[0-9A-Z-]{1,20}$", examples=["2611E"])] | None = None
    unaccompanied: bool = False
    """The trailer or container travels without its tractor (ro-ro vessel, rail wagon)."""

    def __post_init__(self) -> None:
        if self.vehicle_plate is not None:
            check_field("vehicle_plate", _tractor_plate, self.vehicle_plate)
        if self.trailer_plate is not None:
            check_field("trailer_plate", _trailer_plate, self.trailer_plate)
        if self.container_number is not None:
            check_field("container_number", validate_container_number, self.container_number)


class Driver(InputStruct, frozen=True):
    """The driver or the escort (押运员) on a road leg."""

    name: Annotated[str, Meta(min_length=1, max_length=50, pattern=NON_BLANK_LINE_PATTERN)]
    phone: Phone | None = None
    certificate_number: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=40,
                pattern=NON_BLANK_LINE_PATTERN,
                description="Qualification certificate number (从业资格证号); needed on dangerous-goods legs",
                examples=["441900198507121234"],
            ),
        ]
        | None
    ) = None


RoutePolyline = Annotated[
    list[tuple[Latitude, Longitude]],
    Meta(
        min_length=2,
        max_length=5_000,
        description=(
            "The road the leg should take, as [latitude, longitude] points (WGS 84) from the loading to the "
            "unloading place; dangerous-goods monitoring measures the off-route distance against it"
        ),
        examples=[[[22.7890, 113.2690], [22.8005, 113.3021], [22.8134, 113.3312]]],
    ),
]


class LegPlan(InputStruct, frozen=True):
    """A planned transport leg."""

    sequence: Annotated[int, Meta(ge=1, le=20)]
    mode: TransportMode
    from_place: Place
    to_place: Place
    carrier: CarrierRef | None = None
    planned_departure: AwareDatetime | None = None
    planned_arrival: AwareDatetime | None = None
    equipment: Equipment = msgspec.field(default_factory=Equipment)
    driver: Driver | None = None
    escort: Driver | None = None
    """The escort (押运员) riding with dangerous goods on a road leg."""
    planned_route: RoutePolyline | None = None

    def __post_init__(self) -> None:
        _check_planned_times(self.planned_departure, self.planned_arrival)


def _check_planned_times(departure: datetime | None, arrival: datetime | None) -> None:
    if departure is not None and arrival is not None and arrival < departure:
        raise ValueError("planned_arrival: planned arrival is before planned departure")


class WaybillCreate(WaybillDocument, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A new waybill; the caller is its shipper of record."""

    shipper_reference: Reference
    legs: Annotated[list[LegPlan], Meta(max_length=20)] = msgspec.field(default_factory=list)
    draft: bool = False
    """Keep the waybill as a draft instead of issuing it at once."""

    def __post_init__(self) -> None:
        super().__post_init__()
        sequences = [leg.sequence for leg in self.legs]
        if sequences != list(range(1, len(sequences) + 1)):
            raise ValueError("legs: legs must be numbered 1, 2, 3, ... in order")

    def document(self) -> WaybillDocument:
        """The goods part of this request."""
        return msgspec.convert(
            {f: getattr(self, f) for f in WaybillDocument.__struct_fields__}, WaybillDocument, from_attributes=True
        )


class WaybillAmendment(InputStruct, frozen=True):
    """A change to the goods part. Fields left out keep their value; ``notify_party: null`` removes it."""

    reason: ShortText
    expected_version: Annotated[int, Meta(ge=1)] | None = None
    """If given, the amendment is refused with 409 unless this is the current version."""
    consignor: Party | UnsetType = UNSET
    consignee: Party | UnsetType = UNSET
    notify_party: Party | UnsetType | None = UNSET
    pickup: Place | UnsetType = UNSET
    delivery: Place | UnsetType = UNSET
    pickup_window: TimeWindow | UnsetType = UNSET
    delivery_window: TimeWindow | UnsetType = UNSET
    cargo: Annotated[list[CargoLine], Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    references: References | UnsetType = UNSET
    instructions: Instructions | UnsetType | None = UNSET
    emergency_contact: EmergencyContact | UnsetType | None = UNSET

    def changes(self) -> dict[str, object]:
        """The fields this amendment sets."""
        return {f: getattr(self, f) for f in WaybillDocument.__struct_fields__ if getattr(self, f) is not UNSET}


class WaybillCancellation(InputStruct, frozen=True):
    """A request to cancel a waybill."""

    reason_code: CancellationReason
    note: Note | None = None


class LegUpdate(InputStruct, frozen=True):
    """A change to a leg that has not completed: carrier (shipper only), times, equipment."""

    carrier: CarrierRef | UnsetType = UNSET
    planned_departure: AwareDatetime | UnsetType | None = UNSET
    planned_arrival: AwareDatetime | UnsetType | None = UNSET
    equipment: Equipment | UnsetType = UNSET
    driver: Driver | UnsetType | None = UNSET
    escort: Driver | UnsetType | None = UNSET
    planned_route: RoutePolyline | UnsetType | None = UNSET
    note: Note | None = None


class OrganisationRef(OutputStruct, frozen=True):
    """An organisation as shown on a waybill."""

    uscc: str
    name: str


class LegRead(OutputStruct, frozen=True):
    """A transport leg as stored."""

    sequence: int
    mode: TransportMode
    status: LegStatus
    from_place: Place
    to_place: Place
    carrier: CarrierRef | None
    planned_departure: datetime | None
    planned_arrival: datetime | None
    equipment: Equipment
    driver: Driver | None
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime
    escort: Driver | None = None
    """The escort (押运员) on a road leg carrying dangerous goods."""
    planned_route: list[tuple[float, float]] | None = None
    """The road the leg should take, as [latitude, longitude] points, when the shipper or carrier gave it."""


class Cancellation(OutputStruct, frozen=True):
    """Why and when a waybill was cancelled."""

    reason_code: CancellationReason
    note: str | None
    cancelled_at: datetime


class WaybillRead(OutputStruct, frozen=True):
    """A waybill at its current version."""

    number: str
    version: int
    status: WaybillStatus
    shipper: OrganisationRef
    shipper_reference: str
    document: WaybillDocument
    legs: list[LegRead]
    created_at: datetime
    updated_at: datetime
    issued_at: datetime | None
    cancellation: Cancellation | None = None


class WaybillSummary(OutputStruct, frozen=True):
    """A waybill in a list."""

    number: str
    version: int
    status: WaybillStatus
    shipper_reference: str
    pickup_division_code: str
    delivery_division_code: str
    created_at: datetime
    updated_at: datetime


class WaybillPage(OutputStruct, frozen=True):
    """One page of a waybill list; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[WaybillSummary]
    next_cursor: str | None


class WaybillVersionRead(OutputStruct, frozen=True):
    """One version of a waybill's goods part."""

    version: int
    document: WaybillDocument
    reason: str | None
    created_at: datetime
    created_by: OrganisationRef


class WaybillVersionList(OutputStruct, frozen=True):
    """Every version of a waybill, oldest first."""

    number: str
    current_version: int
    versions: list[WaybillVersionRead]


class ChangeRead(OutputStruct, frozen=True):
    """One entry of a waybill's audit trail."""

    action: str
    at: datetime
    by: OrganisationRef
    version: int | None
    detail: dict[str, object]


class ChangeList(OutputStruct, frozen=True):
    """The audit trail of a waybill, oldest first."""

    number: str
    changes: list[ChangeRead]
