"""msgspec schemas of position reports: the same shape over HTTP and from the national node."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from core.types import InputStruct, OutputStruct

__all__ = ("PositionReceipt", "PositionReport", "PositionReports")


class PositionReport(InputStruct, frozen=True):
    """One GNSS fix of a vehicle."""

    plate: Annotated[str, Meta(min_length=2, max_length=16, examples=["粤E3K721"])]
    time: Annotated[datetime, Meta(tz=True)]
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lon: Annotated[float, Meta(ge=-180, le=180)]
    speed: Annotated[float, Meta(ge=0, le=300)] | None = None
    """km/h"""
    heading: Annotated[float, Meta(ge=0, lt=360)] | None = None
    """Degrees clockwise from north."""


class PositionReports(InputStruct, frozen=True):
    """A batch of positions, of one or several vehicles."""

    positions: Annotated[list[PositionReport], Meta(min_length=1, max_length=5_000)]


class PositionReceipt(OutputStruct, frozen=True):
    """What became of a batch."""

    received: int
    stored: int
    """New fixes; a fix already stored for the same vehicle and time is not stored twice."""
