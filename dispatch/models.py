"""Tables of a carrier's drop-and-hook fleet: places, drivers, tractors, trailers and trailer moves.

Every row belongs to one carrier (``carrier_id``); references between rows stay within the carrier,
which the service checks. Times are stored in UTC; opening hours and cut-offs are local times of day
(Asia/Shanghai), kept as JSON.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import IntPK, JSONDocument, UTCDateTime, utcnow

__all__ = ("DispatchDriver", "DispatchMove", "DispatchPlace", "DispatchTractor", "DispatchTrailer")


def _ref(table: str, *, nullable: bool, index: bool = False) -> Any:
    return sa.Column(IntPK, sa.ForeignKey(f"{table}.id"), nullable=nullable, index=index)


class DispatchPlace(SQLModel, table=True):
    """A yard, shipper site, terminal or ro-ro berth the carrier's trailers go to."""

    __tablename__ = "dispatch_place"
    __table_args__ = (sa.UniqueConstraint("carrier_id", "code"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id")
    code: str = Field(sa_type=sa.String(32))
    name: str = Field(sa_type=sa.String(200))
    kind: str = Field(sa_type=sa.String(16))
    latitude: float
    longitude: float
    locode: str | None = Field(default=None, sa_type=sa.String(5))
    opening_hours: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONDocument)
    """``[{"open": "07:00", "close": "19:00"}, ...]`` in local time; empty means always open."""
    cutoff_times: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    """Daily cut-offs of a terminal, ``"HH:MM"`` local time."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DispatchDriver(SQLModel, table=True):
    """A driver or escort with a shift, qualifications and the driving already done."""

    __tablename__ = "dispatch_driver"

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    name: str = Field(sa_type=sa.String(50))
    phone: str | None = Field(default=None, sa_type=sa.String(20))
    shift_start: datetime = Field(sa_type=UTCDateTime)
    shift_end: datetime = Field(sa_type=UTCDateTime)
    qualifications: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONDocument)
    """``[{"qualification": "hazmat_driver", "certificate_number": "..."}]``."""
    driven_minutes_last_24h: float = 0.0
    continuous_driving_minutes: float = 0.0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DispatchTractor(SQLModel, table=True):
    """A tractor unit, its base and the crew assigned to it."""

    __tablename__ = "dispatch_tractor"
    __table_args__ = (sa.UniqueConstraint("carrier_id", "plate"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id")
    plate: str = Field(sa_type=sa.String(16))
    home_place_id: int = Field(sa_column=_ref("dispatch_place", nullable=False))
    current_place_id: int | None = Field(default=None, sa_column=_ref("dispatch_place", nullable=True))
    available_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    available_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hazmat_approved: bool = False
    out_of_service: bool = False
    driver_id: int | None = Field(default=None, sa_column=_ref("dispatch_driver", nullable=True))
    escort_id: int | None = Field(default=None, sa_column=_ref("dispatch_driver", nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DispatchTrailer(SQLModel, table=True):
    """A semi-trailer, where it stands and whether it is loaded."""

    __tablename__ = "dispatch_trailer"
    __table_args__ = (
        sa.UniqueConstraint("carrier_id", "plate"),
        sa.Index("ix_dispatch_trailer_inventory", "carrier_id", "place_id", "type"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id")
    plate: str = Field(sa_type=sa.String(16))
    type: str = Field(sa_type=sa.String(24))
    place_id: int = Field(sa_column=_ref("dispatch_place", nullable=False))
    loaded: bool = False
    hazmat_approved: bool = False
    out_of_service: bool = False
    available_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DispatchMove(SQLModel, table=True):
    """A trailer move to plan and perform: hook at the origin, drive, drop at the destination."""

    __tablename__ = "dispatch_move"
    __table_args__ = (sa.Index("ix_dispatch_move_listing", "carrier_id", "status", "id"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id")
    kind: str = Field(sa_type=sa.String(16))
    status: str = Field(default="open", sa_type=sa.String(16))
    trailer_id: int | None = Field(default=None, sa_column=_ref("dispatch_trailer", nullable=True, index=True))
    trailer_type: str | None = Field(default=None, sa_type=sa.String(24))
    origin_id: int | None = Field(default=None, sa_column=_ref("dispatch_place", nullable=True, index=True))
    destination_id: int = Field(sa_column=_ref("dispatch_place", nullable=False, index=True))
    ready_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deliver_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cutoff: datetime | None = Field(default=None, sa_type=UTCDateTime)
    after_move_id: int | None = Field(default=None, sa_column=_ref("dispatch_move", nullable=True, index=True))
    loading_minutes: float = 0.0
    hazmat: bool = False
    waybill_number: str | None = Field(default=None, sa_type=sa.String(20))
    leg_index: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
