"""Tables of a carrier's dangerous-goods registry: its road transport permit, vehicles, drivers and escorts.

Every row belongs to one carrier (``carrier_id``, the organisation's id). A carrier has at most one
road transport permit; a vehicle's plate is unique per carrier, and so is a person's qualification
certificate number within a role. The waybill service looks legs' carriers, vehicles, drivers and
escorts up here before a dangerous-goods leg is accepted.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import IntPK, JSONDocument, UTCDateTime, utcnow

__all__ = ("DgCarrierPermit", "DgPerson", "DgVehicle")


class DgVehicle(SQLModel, table=True):
    """A vehicle approved for dangerous goods (道路危险货物运输车辆) and the scope of its permit."""

    __tablename__ = "dg_vehicle"
    __table_args__ = (sa.UniqueConstraint("carrier_id", "plate"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id")
    plate: str = Field(sa_type=sa.String(16))
    transport_certificate_number: str = Field(sa_type=sa.String(40))
    """道路运输证号."""
    permitted_classes: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    """ADR classes the permit covers, e.g. ``["3", "8"]``."""
    tank_allowed: bool = False
    """The permit covers carriage in tanks or in bulk."""
    permit_expires_on: date
    """Last day (Asia/Shanghai) on which the permit is valid."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DgPerson(SQLModel, table=True):
    """A driver or escort (押运员) with a dangerous-goods qualification certificate (从业资格证)."""

    __tablename__ = "dg_person"
    __table_args__ = (sa.UniqueConstraint("carrier_id", "role", "certificate_number"),)

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id")
    role: str = Field(sa_type=sa.String(16))
    """``driver`` or ``escort``."""
    name: str = Field(sa_type=sa.String(50))
    certificate_number: str = Field(sa_type=sa.String(40))
    """从业资格证号."""
    qualification_type: str = Field(sa_type=sa.String(100))
    qualified_classes: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    """ADR classes the qualification covers."""
    expires_on: date
    """Last day (Asia/Shanghai) on which the qualification is valid."""
    phone: str | None = Field(default=None, sa_type=sa.String(20))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DgCarrierPermit(SQLModel, table=True):
    """A carrier's road transport permit (道路运输经营许可证) with its dangerous-goods business scope."""

    __tablename__ = "dg_carrier_permit"

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    carrier_id: uuid.UUID = Field(foreign_key="organisation.id", unique=True)
    permit_number: str = Field(sa_type=sa.String(40))
    """道路运输经营许可证号."""
    business_scope: str = Field(sa_type=sa.String(200))
    """The business scope as printed, e.g. 道路危险货物运输 (2类1项, 3类, 8类)."""
    permitted_classes: list[str] = Field(default_factory=list, sa_type=JSONDocument)
    """ADR classes the dangerous-goods business scope covers."""
    expires_on: date
    """Last day (Asia/Shanghai) on which the permit is valid."""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
