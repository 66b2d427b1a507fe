"""msgspec schemas of the drop-and-hook fleet API: places, tractors, drivers, trailers and moves.

Every object belongs to one carrier and is addressed by its integer id; references between objects
(a tractor's home place, a move's trailer) are ids of the same carrier's objects. Rules that span
several fields are plain functions (``check_*``) so that a partial update can check the merged
result with the same code as a create.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, UnsetType

from core.identifiers import (
    TRACTOR_PLATE_PATTERN,
    TRAILER_PLATE_PATTERN,
    WAYBILL_NUMBER_PATTERN,
    normalise_waybill_number,
    validate_vehicle_plate,
)
from core.types import (
    NON_BLANK_LINE_PATTERN,
    AwareDatetime,
    InputStruct,
    Latitude,
    Longitude,
    Name,
    OutputStruct,
    UnLocode,
    check_field,
)
from dispatch.solver.problem import MoveKind, PlaceKind, Qualification, TrailerType

__all__ = (
    "TERMINAL_KINDS",
    "DriverCreate",
    "DriverPage",
    "DriverQualification",
    "DriverRead",
    "DriverUpdate",
    "MoveCreate",
    "MovePage",
    "MoveRead",
    "MoveStatus",
    "MoveUpdate",
    "OpeningWindow",
    "PlaceCreate",
    "PlacePage",
    "PlaceRead",
    "PlaceUpdate",
    "TractorCreate",
    "TractorPage",
    "TractorRead",
    "TractorUpdate",
    "TrailerCreate",
    "TrailerPage",
    "TrailerRead",
    "TrailerUpdate",
    "YardInventory",
    "YardInventoryRow",
    "check_driver",
    "check_move",
    "check_opening_hours",
    "check_place",
    "check_tractor",
)

MAX_ID = 2**63 - 1
"""Largest id a ``bigint`` column holds; larger numbers cannot name anything."""

ObjectId = Annotated[int, Meta(ge=1, le=MAX_ID, description="Id of an object of the same carrier")]
LocalTime = Annotated[
    str,
    Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$",
        description="Local time of day in Asia/Shanghai, HH:MM (24:00 only as a closing time)",
        examples=["07:30"],
    ),
]
CutoffTime = Annotated[
    str,
    Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="Daily cut-off, local time of day in Asia/Shanghai, HH:MM",
        examples=["16:00"],
    ),
]
PlaceCode = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
        description="The carrier's own short id of the place, unique among its places",
        examples=["NANSHA-T2"],
    ),
]
TractorPlate = Annotated[
    str,
    Meta(pattern=TRACTOR_PLATE_PATTERN, description="Mainland plate of the tractor", examples=["粤S12345"]),
]
TrailerPlate = Annotated[
    str,
    Meta(pattern=TRAILER_PLATE_PATTERN, description="Mainland semi-trailer plate (ends in 挂)", examples=["粤S1234挂"]),
]
DriverName = Annotated[str, Meta(min_length=1, max_length=50, pattern=NON_BLANK_LINE_PATTERN, examples=["黄志明"])]
Phone = Annotated[str, Meta(pattern=r"^\+?[0-9][0-9 \-]{4,19}$", examples=["+86 138 2299 4410"])]
CertificateNumber = Annotated[
    str,
    Meta(
        pattern=r"^[0-9A-Z][0-9A-Z-]{3,29}$",
        description="Number of the qualification certificate (从业资格证号)",
        examples=["440606198507121234"],
    ),
]
DayMinutes = Annotated[float, Meta(ge=0, le=1440)]
WaybillNumber = Annotated[
    str,
    Meta(
        pattern=WAYBILL_NUMBER_PATTERN,
        description="Number of an e-waybill the carrier may see, check character verified",
        examples=["EW2612-7K3M9Q2X-C"],
    ),
]
LegIndex = Annotated[int, Meta(ge=1, le=20, description="Sequence number of the leg on the waybill (1 = first)")]

TERMINAL_KINDS = frozenset({PlaceKind.PORT_TERMINAL, PlaceKind.RAIL_TERMINAL, PlaceKind.RORO_BERTH})
"""Kinds of place that may have cut-off times."""

_EARLIEST_YEAR, _LATEST_YEAR = 2000, 2099


class MoveStatus(StrEnum):
    """Where a move stands; only open moves are planned."""

    OPEN = "open"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


# --- rules spanning several fields ----------------------------------------------------------------
#
# Each raises ``ValueError("field: message")``: in a struct's ``__post_init__`` the API names the
# field from it; the service turns it into a 422 for a partial update.


def _check_instant(name: str, value: datetime | None) -> None:
    if value is not None and not _EARLIEST_YEAR <= value.year <= _LATEST_YEAR:
        raise ValueError(f"{name}: must be in the years {_EARLIEST_YEAR} to {_LATEST_YEAR}")


def _check_not_before(later: str, later_value: datetime | None, earlier: str, earlier_value: datetime | None) -> None:
    if later_value is not None and earlier_value is not None and later_value < earlier_value:
        raise ValueError(f"{later}: {later} is before {earlier}")


def check_opening_hours(windows: Sequence[OpeningWindow]) -> None:
    """Each window opens and closes at different times and opens before 24:00."""
    for number, window in enumerate(windows, start=1):
        if window.open == "24:00":
            raise ValueError(f"opening_hours: window {number} opens at 24:00; use 00:00")
        if window.open == window.close:
            raise ValueError(
                f"opening_hours: window {number} closes when it opens; use 00:00 to 24:00 for around the clock"
            )


def check_place(*, kind: PlaceKind, opening_hours: Sequence[OpeningWindow], cutoff_times: Sequence[str]) -> None:
    """Opening hours are sensible; only terminals and berths have cut-off times, each given once."""
    check_opening_hours(opening_hours)
    if cutoff_times and kind not in TERMINAL_KINDS:
        raise ValueError("cutoff_times: only terminals and ro-ro berths have cut-off times")
    if len(set(cutoff_times)) != len(cutoff_times):
        raise ValueError("cutoff_times: a cut-off time is repeated")


def check_tractor(
    *,
    available_from: datetime | None,
    available_until: datetime | None,
    driver_id: int | None,
    escort_id: int | None,
) -> None:
    """The availability window is in order, and the escort is not the driver."""
    _check_instant("available_from", available_from)
    _check_instant("available_until", available_until)
    _check_not_before("available_until", available_until, "available_from", available_from)
    if driver_id is not None and driver_id == escort_id:
        raise ValueError("escort_id: the escort must be someone other than the driver")


def check_driver(*, shift_start: datetime, shift_end: datetime, qualifications: Sequence[DriverQualification]) -> None:
    """The shift ends after it starts; each qualification is listed once."""
    _check_instant("shift_start", shift_start)
    _check_instant("shift_end", shift_end)
    if shift_end <= shift_start:
        raise ValueError("shift_end: the shift ends before it starts")
    kinds = [q.qualification for q in qualifications]
    if len(set(kinds)) != len(kinds):
        raise ValueError("qualifications: a qualification is listed twice")


def check_move(
    *,
    kind: MoveKind,
    trailer_id: int | None,
    trailer_type: TrailerType | None,
    origin_id: int | None,
    destination_id: int,
    after_move_id: int | None,
    ready_at: datetime | None,
    deliver_by: datetime | None,
    cutoff: datetime | None,
    waybill_number: str | None,
    leg_index: int | None,
) -> None:
    """What each kind of move needs, times in order, a waybill leg named in full."""
    match kind:
        case MoveKind.HAUL:
            if trailer_id is None:
                raise ValueError("trailer_id: a haul names the trailer it hauls")
            if origin_id is None:
                raise ValueError("origin_id: a haul needs the place where the trailer is hooked")
        case MoveKind.POSITION:
            if trailer_type is None:
                raise ValueError("trailer_type: a position move names the trailer type to bring")
        case MoveKind.COLLECT:
            if after_move_id is None and origin_id is None:
                raise ValueError("origin_id: a collect without after_move needs the place of the trailer")
            if after_move_id is None and trailer_id is None:
                raise ValueError("trailer_id: a collect without after_move names the trailer it collects")
    if origin_id is not None and origin_id == destination_id:
        raise ValueError("destination_id: the destination is the origin")
    for name, value in (("ready_at", ready_at), ("deliver_by", deliver_by), ("cutoff", cutoff)):
        _check_instant(name, value)
    _check_not_before("deliver_by", deliver_by, "ready_at", ready_at)
    _check_not_before("cutoff", cutoff, "ready_at", ready_at)
    if (waybill_number is None) != (leg_index is None):
        missing = "leg_index" if leg_index is None else "waybill_number"
        raise ValueError(f"{missing}: waybill_number and leg_index go together")
    if waybill_number is not None:
        check_field("waybill_number", normalise_waybill_number, waybill_number)


# --- places ---------------------------------------------------------------------------------------


class OpeningWindow(InputStruct, frozen=True):
    """A daily opening window in local time (Asia/Shanghai); ``close`` before ``open`` runs past midnight."""

    open: LocalTime
    close: LocalTime


OpeningHoursList = Annotated[
    list[OpeningWindow],
    Meta(max_length=12, description="Daily opening windows; none means open around the clock"),
]
CutoffTimes = Annotated[
    list[CutoffTime],
    Meta(max_length=24, description="Daily cut-off times of a terminal or berth (latest drop for a departure)"),
]


class PlaceCreate(InputStruct, frozen=True):
    """A new place: a yard, a shipper's site, a port or rail terminal, a ro-ro berth."""

    code: PlaceCode
    name: Name
    kind: PlaceKind
    latitude: Latitude
    longitude: Longitude
    locode: UnLocode | None = None
    opening_hours: OpeningHoursList = msgspec.field(default_factory=list)
    cutoff_times: CutoffTimes = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        check_place(kind=self.kind, opening_hours=self.opening_hours, cutoff_times=self.cutoff_times)


class PlaceUpdate(InputStruct, frozen=True):
    """A change to a place; fields left out keep their value, ``null`` clears an optional one."""

    code: PlaceCode | UnsetType = UNSET
    name: Name | UnsetType = UNSET
    kind: PlaceKind | UnsetType = UNSET
    latitude: Latitude | UnsetType = UNSET
    longitude: Longitude | UnsetType = UNSET
    locode: UnLocode | UnsetType | None = UNSET
    opening_hours: OpeningHoursList | UnsetType = UNSET
    cutoff_times: CutoffTimes | UnsetType = UNSET


class PlaceRead(OutputStruct, frozen=True):
    """A place of the carrier."""

    id: int
    code: str
    name: str
    kind: PlaceKind
    latitude: float
    longitude: float
    locode: str | None
    opening_hours: list[OpeningWindow]
    cutoff_times: list[str]
    created_at: datetime
    updated_at: datetime


class PlacePage(OutputStruct, frozen=True):
    """One page of places, by id; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[PlaceRead]
    next_cursor: str | None


# --- drivers --------------------------------------------------------------------------------------


class DriverQualification(InputStruct, frozen=True):
    """A qualification the planner checks, with the certificate that proves it."""

    qualification: Qualification
    certificate_number: CertificateNumber


Qualifications = Annotated[list[DriverQualification], Meta(max_length=len(Qualification))]


class DriverCreate(InputStruct, frozen=True):
    """A new driver or escort, with the shift they work and the driving already done."""

    name: DriverName
    shift_start: AwareDatetime
    shift_end: AwareDatetime
    phone: Phone | None = None
    qualifications: Qualifications = msgspec.field(default_factory=list)
    driven_minutes_last_24h: DayMinutes = 0
    """Driving in the 24 hours before ``shift_start`` (counts against the daily cap)."""
    continuous_driving_minutes: DayMinutes = 0
    """Driving since the last break, at ``shift_start``."""

    def __post_init__(self) -> None:
        check_driver(shift_start=self.shift_start, shift_end=self.shift_end, qualifications=self.qualifications)


class DriverUpdate(InputStruct, frozen=True):
    """A change to a driver; fields left out keep their value, ``null`` clears an optional one."""

    name: DriverName | UnsetType = UNSET
    shift_start: AwareDatetime | UnsetType = UNSET
    shift_end: AwareDatetime | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    qualifications: Qualifications | UnsetType = UNSET
    driven_minutes_last_24h: DayMinutes | UnsetType = UNSET
    continuous_driving_minutes: DayMinutes | UnsetType = UNSET


class DriverRead(OutputStruct, frozen=True):
    """A driver or escort of the carrier."""

    id: int
    name: str
    phone: str | None
    shift_start: datetime
    shift_end: datetime
    qualifications: list[DriverQualification]
    driven_minutes_last_24h: float
    continuous_driving_minutes: float
    created_at: datetime
    updated_at: datetime


class DriverPage(OutputStruct, frozen=True):
    """One page of drivers, by id; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[DriverRead]
    next_cursor: str | None


# --- tractors -------------------------------------------------------------------------------------


def _tractor_plate(value: str) -> str:
    return validate_vehicle_plate(value, trailer=False)


def _trailer_plate(value: str) -> str:
    return validate_vehicle_plate(value, trailer=True)


class TractorCreate(InputStruct, frozen=True):
    """A new tractor unit, where it is based and the crew assigned to it."""

    plate: TractorPlate
    home_place_id: ObjectId
    """The yard the tractor starts from and returns to."""
    current_place_id: ObjectId | None = None
    """Where the tractor stands now, if not at home."""
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    hazmat_approved: bool = False
    """Approved for dangerous goods (道路危险货物运输车辆)."""
    out_of_service: bool = False
    driver_id: ObjectId | None = None
    escort_id: ObjectId | None = None

    def __post_init__(self) -> None:
        check_field("plate", _tractor_plate, self.plate)
        check_tractor(
            available_from=self.available_from,
            available_until=self.available_until,
            driver_id=self.driver_id,
            escort_id=self.escort_id,
        )


class TractorUpdate(InputStruct, frozen=True):
    """A change to a tractor; fields left out keep their value, ``null`` clears an optional one."""

    plate: TractorPlate | UnsetType = UNSET
    home_place_id: ObjectId | UnsetType = UNSET
    current_place_id: ObjectId | UnsetType | None = UNSET
    available_from: AwareDatetime | UnsetType | None = UNSET
    available_until: AwareDatetime | UnsetType | None = UNSET
    hazmat_approved: bool | UnsetType = UNSET
    out_of_service: bool | UnsetType = UNSET
    driver_id: ObjectId | UnsetType | None = UNSET
    escort_id: ObjectId | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.plate, str):
            check_field("plate", _tractor_plate, self.plate)


class TractorRead(OutputStruct, frozen=True):
    """A tractor of the carrier."""

    id: int
    plate: str
    home_place_id: int
    current_place_id: int | None
    available_from: datetime | None
    available_until: datetime | None
    hazmat_approved: bool
    out_of_service: bool
    driver_id: int | None
    escort_id: int | None
    created_at: datetime
    updated_at: datetime


class TractorPage(OutputStruct, frozen=True):
    """One page of tractors, by id; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[TractorRead]
    next_cursor: str | None


# --- trailers -------------------------------------------------------------------------------------


class TrailerCreate(InputStruct, frozen=True):
    """A new semi-trailer and where it stands."""

    plate: TrailerPlate
    type: TrailerType
    place_id: ObjectId
    """Where the trailer stands now."""
    loaded: bool = False
    hazmat_approved: bool = False
    out_of_service: bool = False
    available_from: AwareDatetime | None = None
    """The trailer cannot be hooked before this time (still loading, under repair)."""

    def __post_init__(self) -> None:
        check_field("plate", _trailer_plate, self.plate)
        _check_instant("available_from", self.available_from)


class TrailerUpdate(InputStruct, frozen=True):
    """A change to a trailer; fields left out keep their value, ``null`` clears an optional one."""

    plate: TrailerPlate | UnsetType = UNSET
    type: TrailerType | UnsetType = UNSET
    place_id: ObjectId | UnsetType = UNSET
    loaded: bool | UnsetType = UNSET
    hazmat_approved: bool | UnsetType = UNSET
    out_of_service: bool | UnsetType = UNSET
    available_from: AwareDatetime | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.plate, str):
            check_field("plate", _trailer_plate, self.plate)
        if isinstance(self.available_from, datetime):
            _check_instant("available_from", self.available_from)


class TrailerRead(OutputStruct, frozen=True):
    """A semi-trailer of the carrier."""

    id: int
    plate: str
    type: TrailerType
    place_id: int
    loaded: bool
    hazmat_approved: bool
    out_of_service: bool
    available_from: datetime | None
    created_at: datetime
    updated_at: datetime


class TrailerPage(OutputStruct, frozen=True):
    """One page of trailers, by id; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[TrailerRead]
    next_cursor: str | None


# --- moves ----------------------------------------------------------------------------------------


class MoveCreate(InputStruct, frozen=True):
    """A trailer move to plan: hook at the origin, drive, drop at the destination.

    A ``haul`` names its trailer and origin; a ``position`` brings an empty trailer of
    ``trailer_type`` (the planner chooses which); a ``collect`` either names its trailer and origin
    or follows a position move (``after_move_id``) whose trailer it collects ``loading_minutes``
    after the drop.
    """

    kind: MoveKind
    destination_id: ObjectId
    origin_id: ObjectId | None = None
    trailer_id: ObjectId | None = None
    trailer_type: TrailerType | None = None
    ready_at: AwareDatetime | None = None
    """Earliest hook."""
    deliver_by: AwareDatetime | None = None
    """Promised drop; later is possible but counts as late."""
    cutoff: AwareDatetime | None = None
    """Hard latest drop (a terminal's cut-off)."""
    after_move_id: ObjectId | None = None
    loading_minutes: DayMinutes = 0
    hazmat: bool = False
    """Dangerous goods: needs an approved tractor and trailer and a qualified crew."""
    waybill_number: WaybillNumber | None = None
    leg_index: LegIndex | None = None
    status: MoveStatus = MoveStatus.OPEN

    def __post_init__(self) -> None:
        check_move(
            kind=self.kind,
            trailer_id=self.trailer_id,
            trailer_type=self.trailer_type,
            origin_id=self.origin_id,
            destination_id=self.destination_id,
            after_move_id=self.after_move_id,
            ready_at=self.ready_at,
            deliver_by=self.deliver_by,
            cutoff=self.cutoff,
            waybill_number=self.waybill_number,
            leg_index=self.leg_index,
        )


class MoveUpdate(InputStruct, frozen=True):
    """A change to a move; fields left out keep their value, ``null`` clears an optional one."""

    kind: MoveKind | UnsetType = UNSET
    destination_id: ObjectId | UnsetType = UNSET
    origin_id: ObjectId | UnsetType | None = UNSET
    trailer_id: ObjectId | UnsetType | None = UNSET
    trailer_type: TrailerType | UnsetType | None = UNSET
    ready_at: AwareDatetime | UnsetType | None = UNSET
    deliver_by: AwareDatetime | UnsetType | None = UNSET
    cutoff: AwareDatetime | UnsetType | None = UNSET
    after_move_id: ObjectId | UnsetType | None = UNSET
    loading_minutes: DayMinutes | UnsetType = UNSET
    hazmat: bool | UnsetType = UNSET
    waybill_number: WaybillNumber | UnsetType | None = UNSET
    leg_index: LegIndex | UnsetType | None = UNSET
    status: MoveStatus | UnsetType = UNSET


class MoveRead(OutputStruct, frozen=True):
    """A trailer move of the carrier."""

    id: int
    kind: MoveKind
    status: MoveStatus
    origin_id: int | None
    destination_id: int
    trailer_id: int | None
    trailer_type: TrailerType | None
    ready_at: datetime | None
    deliver_by: datetime | None
    cutoff: datetime | None
    after_move_id: int | None
    loading_minutes: float
    hazmat: bool
    waybill_number: str | None
    leg_index: int | None
    created_at: datetime
    updated_at: datetime


class MovePage(OutputStruct, frozen=True):
    """One page of moves, by id; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[MoveRead]
    next_cursor: str | None


# --- yard inventory -------------------------------------------------------------------------------


class YardInventoryRow(OutputStruct, frozen=True):
    """Trailers of one type at one place."""

    place_id: int
    place_code: str
    place_name: str
    trailer_type: TrailerType
    empty: int
    """Empty and in service."""
    loaded: int
    """Loaded and in service."""
    out_of_service: int
    """Out of service, loaded or empty."""
    total: int


class YardInventory(OutputStruct, frozen=True):
    """How many trailers stand where, by type, empty or loaded; places and types without any are left out."""

    rows: list[YardInventoryRow]
