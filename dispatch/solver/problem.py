"""The drop-and-hook planning problem and its plan, as plain msgspec structs (no I/O).

A *problem* is one carrier's day: places, tractors with their crews, trailers, and the trailer
moves to perform. A *plan* gives each used tractor a run (an ordered list of activities: drive,
hook, drop, wait, break) and lists every move that no run performs, with the reason.

Times are timezone-aware datetimes (stored and exchanged in UTC); opening hours and the night are
local times of day in ``Policy.timezone`` (Asia/Shanghai by default). Distances are kilometres.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

__all__ = (
    "Activity",
    "ActivityKind",
    "Driver",
    "MatrixSpec",
    "Move",
    "MoveKind",
    "OpeningHours",
    "Place",
    "PlaceKind",
    "Plan",
    "PlanSummary",
    "Policy",
    "Problem",
    "Qualification",
    "Run",
    "Tractor",
    "Trailer",
    "TrailerType",
    "Unassigned",
    "UnassignedReason",
)

LocalTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$", examples=["07:30"])]
Minutes = Annotated[float, Meta(ge=0)]


class PlaceKind(StrEnum):
    """What kind of site a place is."""

    YARD = "yard"
    SHIPPER = "shipper"
    PORT_TERMINAL = "port_terminal"
    RAIL_TERMINAL = "rail_terminal"
    RORO_BERTH = "roro_berth"


class TrailerType(StrEnum):
    """Semi-trailer body types; reefer and tank loads need their own type."""

    BOX = "box"
    CURTAIN = "curtain"
    REEFER = "reefer"
    TANK = "tank"
    FLATBED = "flatbed"
    CONTAINER_CHASSIS = "container_chassis"


class Qualification(StrEnum):
    """Crew qualifications the planner checks."""

    HAZMAT_DRIVER = "hazmat_driver"
    """Dangerous-goods road transport driver certificate (道路危险货物运输驾驶人员从业资格)."""
    HAZMAT_ESCORT = "hazmat_escort"
    """Dangerous-goods escort certificate (押运人员从业资格)."""


class MoveKind(StrEnum):
    """The three kinds of trailer move."""

    HAUL = "haul"
    """Hook a given trailer at ``origin``, drive it (loaded) to ``destination``, drop it."""
    POSITION = "position"
    """Bring an empty trailer of ``trailer_type`` to ``destination``; the planner chooses the trailer."""
    COLLECT = "collect"
    """Collect a trailer from ``origin`` after loading and haul it to ``destination``.

    With ``after_move`` naming a position move, the trailer is the one that move brought, and it is
    ready ``loading_minutes`` after that move's drop; otherwise ``trailer_id`` and ``ready_at`` say
    which trailer and when."""


class OpeningHours(msgspec.Struct, kw_only=True, frozen=True):
    """A daily opening window in local time; ``close`` before ``open`` runs past midnight."""

    open: LocalTime
    close: LocalTime


class Place(msgspec.Struct, kw_only=True, frozen=True):
    """A yard, shipper site, terminal or berth; no opening hours means open around the clock."""

    id: str
    name: str = ""
    kind: PlaceKind = PlaceKind.SHIPPER
    latitude: Annotated[float, Meta(ge=-90, le=90)]
    longitude: Annotated[float, Meta(ge=-180, le=180)]
    opening_hours: tuple[OpeningHours, ...] = ()


class Driver(msgspec.Struct, kw_only=True, frozen=True):
    """A driver or escort with their shift and the driving already done in the last 24 hours."""

    id: str
    name: str = ""
    shift_start: datetime
    shift_end: datetime
    qualifications: frozenset[Qualification] = frozenset()
    driven_minutes_last_24h: Minutes = 0
    """Driving already done in the 24 hours before ``shift_start`` (counts against the daily cap)."""
    continuous_driving_minutes: Minutes = 0
    """Driving since the last break of at least the break length, at ``shift_start``."""


class Tractor(msgspec.Struct, kw_only=True, frozen=True):
    """A tractor unit and the crew assigned to it for the day."""

    id: str
    plate: str = ""
    home_place_id: str
    start_place_id: str | None = None
    """Where the tractor is at the start (bobtail); its home yard when omitted."""
    available_from: datetime | None = None
    available_until: datetime | None = None
    hazmat_approved: bool = False
    driver_id: str | None = None
    escort_id: str | None = None


class Trailer(msgspec.Struct, kw_only=True, frozen=True):
    """A semi-trailer: where it stands, whether it is loaded, what it may carry."""

    id: str
    plate: str = ""
    type: TrailerType
    place_id: str
    loaded: bool = False
    hazmat_approved: bool = False
    out_of_service: bool = False
    available_from: datetime | None = None


class Move(msgspec.Struct, kw_only=True, frozen=True):
    """One trailer move: hook at the origin, drive, drop at the destination."""

    id: str
    kind: MoveKind = MoveKind.HAUL
    trailer_id: str | None = None
    trailer_type: TrailerType | None = None
    """The trailer type the load needs (reefer, tank...); required for position moves."""
    origin_id: str | None = None
    """Hook place; for a position move the chosen trailer's place, for a collect after a position move
    that move's destination."""
    destination_id: str
    ready_at: datetime | None = None
    """Earliest hook."""
    deliver_by: datetime | None = None
    """Promised drop time; later is allowed but counts as a late move."""
    cutoff: datetime | None = None
    """Hard latest drop (a terminal's cut-off); a move that cannot make it is unassigned."""
    after_move: str | None = None
    """A move that must be dropped first (the position move whose trailer this collects)."""
    loading_minutes: Minutes = 0
    """Time after ``after_move``'s drop before the trailer can be hooked (loading at the shipper)."""
    hazmat: bool = False
    waybill_number: str | None = None
    leg_index: int | None = None


class MatrixSpec(msgspec.Struct, kw_only=True, frozen=True):
    """How travel distances and times are obtained."""

    provider: str = "great_circle"
    """``great_circle`` (default), ``osrm`` or ``valhalla``."""
    road_factor: Annotated[float, Meta(ge=1.0, le=3.0)] = 1.3
    speed_kmh: Annotated[float, Meta(gt=0, le=120)] = 55.0
    url: str | None = None


class Policy(msgspec.Struct, kw_only=True, frozen=True):
    """Operating rules: handling times and the driver-hours law and company policies."""

    hook_minutes: Minutes = 15
    drop_minutes: Minutes = 15
    max_continuous_driving_minutes: Minutes = 240
    break_minutes: Minutes = 20
    max_duty_minutes: Minutes = 600
    max_driving_minutes_per_24h: Minutes | None = 480
    night_start: LocalTime = "22:00"
    night_end: LocalTime = "06:00"
    max_night_driving_minutes: Minutes | None = None
    """At most this much time on duty in the night window per night; None means no cap."""
    return_home: bool = True
    timezone: str = "Asia/Shanghai"


class Problem(msgspec.Struct, kw_only=True, frozen=True):
    """One carrier's planning problem."""

    start: datetime
    """Plan from this instant (nothing happens before it)."""
    horizon_hours: Annotated[float, Meta(gt=0, le=72)] = 24
    places: tuple[Place, ...]
    tractors: tuple[Tractor, ...]
    drivers: tuple[Driver, ...] = ()
    trailers: tuple[Trailer, ...] = ()
    moves: tuple[Move, ...]
    policy: Policy = Policy()
    matrix: MatrixSpec = MatrixSpec()
    fixed_runs: tuple[Run, ...] = ()
    """Runs already started: kept as they are, their tractors and moves are not planned again."""


class ActivityKind(StrEnum):
    """What a tractor does during one activity of its run."""

    DRIVE = "drive"
    HOOK = "hook"
    DROP = "drop"
    WAIT = "wait"
    BREAK = "break"


class Activity(msgspec.Struct, kw_only=True, frozen=True):
    """One activity of a run. Drives go from ``place_id`` to ``to_place_id``."""

    kind: ActivityKind
    start: datetime
    end: datetime
    place_id: str
    to_place_id: str | None = None
    move_id: str | None = None
    trailer_id: str | None = None
    """The trailer hooked, dropped or towed (None when driving bobtail)."""
    km: float = 0.0


class Run(msgspec.Struct, kw_only=True, frozen=True):
    """One tractor's day: its crew, moves in order and the activities that perform them."""

    tractor_id: str
    driver_id: str | None = None
    escort_id: str | None = None
    moves: tuple[str, ...]
    activities: tuple[Activity, ...]
    km: float = 0.0
    deadhead_km: float = 0.0
    """Bobtail kilometres plus kilometres towing an empty trailer."""


class UnassignedReason(StrEnum):
    """Why a move is not in the plan."""

    TRAILER_UNKNOWN = "trailer_unknown"
    TRAILER_OUT_OF_SERVICE = "trailer_out_of_service"
    TRAILER_TYPE_MISMATCH = "trailer_type_mismatch"
    TRAILER_NOT_HAZMAT_APPROVED = "trailer_not_hazmat_approved"
    TRAILER_ELSEWHERE = "trailer_elsewhere"
    NO_EMPTY_TRAILER = "no_empty_trailer"
    NO_HAZMAT_CREW = "no_hazmat_crew"
    NO_TRACTOR = "no_tractor"
    PLACE_UNKNOWN = "place_unknown"
    WINDOW_CLOSED = "window_closed"
    CUTOFF_UNREACHABLE = "cutoff_unreachable"
    DEPENDS_ON_UNASSIGNED = "depends_on_unassigned"
    FLEET_FULL = "fleet_full"
    ALREADY_STARTED = "already_started"


class Unassigned(msgspec.Struct, kw_only=True, frozen=True):
    """A move no run performs, and why."""

    move_id: str
    reason: UnassignedReason
    detail: str


class PlanSummary(msgspec.Struct, kw_only=True, frozen=True):
    """Figures of a plan."""

    tractors_used: int
    moves_planned: int
    moves_unassigned: int
    late_moves: int
    km: float
    deadhead_km: float
    duty_minutes: float
    objective: int = 0


class Plan(msgspec.Struct, kw_only=True, frozen=True):
    """The solver's answer."""

    runs: tuple[Run, ...]
    unassigned: tuple[Unassigned, ...]
    summary: PlanSummary
    solver: str = ""
    """What produced the plan (``or-tools``, ``greedy``...), with its figures."""
