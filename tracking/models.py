"""The position table: one row per vehicle fix, partitioned by day on PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow

__all__ = ("PARTITIONED_TABLES", "VehiclePosition")

PARTITIONED_TABLES = frozenset({"vehicle_position"})
"""Tables partitioned by day on PostgreSQL; their partitions (``<table>_YYYYMMDD``, ``<table>_default``)
are made at run time and are not part of the models."""


class VehiclePosition(SQLModel, table=True):
    """A GNSS fix of a vehicle. The key is the vehicle and the time: a fix reported twice is stored once.

    On PostgreSQL the table is partitioned by range of ``recorded_at``, one partition a day
    (``tracking.service.ensure_partitions``), so that old days are detached or dropped whole.
    """

    __tablename__ = "vehicle_position"

    plate: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    recorded_at: datetime = Field(sa_column=sa.Column(UTCDateTime, primary_key=True))
    latitude: float
    longitude: float
    speed_kmh: float | None = None
    heading: float | None = None
    source: str = Field(sa_type=sa.String(32))
    """Who reported it: a partner code, or ``api:<organisation USCC>``."""
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
