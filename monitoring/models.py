"""The stored alerts of dangerous-goods monitoring and their lifecycle (open, acknowledged, closed).

One row per episode (``dedupe_key``, as ``monitoring.alerts.Alert`` gives it): evaluating the same
track again updates the row instead of adding one. Who acknowledged or closed an alert, when and
with what note stays on the row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import IntPK, JSONDocument, UTCDateTime, utcnow

__all__ = ("AlertStatus", "DgAlert")


class AlertStatus(StrEnum):
    """Where an alert is in its lifecycle: ``open → acknowledged → closed`` (or ``open → closed``)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class DgAlert(SQLModel, table=True):
    """An alert raised by the monitoring rules on a vehicle carrying dangerous goods."""

    __tablename__ = "dg_alert"

    id: int | None = Field(default=None, sa_column=sa.Column(IntPK, primary_key=True, autoincrement=True))
    dedupe_key: str = Field(sa_column=sa.Column(sa.String(300), nullable=False, unique=True))
    """Stable for one episode: ``kind|plate|waybill|start`` (``|zone`` for restricted zones)."""
    kind: str = Field(sa_type=sa.String(32))
    severity: str = Field(sa_type=sa.String(16))
    plate: str = Field(sa_type=sa.String(16), index=True)
    waybill_number: str | None = Field(default=None, sa_type=sa.String(32), index=True)
    carrier_id: uuid.UUID | None = Field(default=None, foreign_key="organisation.id", index=True)
    """The carrier of the vehicle; it sees the alert. ``None`` when the platform does not know it."""
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    """When an evaluation last reported the episode."""
    observed: Any = Field(default=None, sa_type=JSONDocument, nullable=True)
    """A number or a category (``float | str | None``), as the rule reported it."""
    threshold: Any = Field(default=None, sa_type=JSONDocument, nullable=True)
    unit: str | None = Field(default=None, sa_type=sa.String(16))
    latitude: float
    longitude: float
    zone: str | None = Field(default=None, sa_type=sa.String(100))
    message: str = Field(sa_type=sa.Text)
    message_key: str = Field(sa_type=sa.String(64))
    message_params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    status: str = Field(default=AlertStatus.OPEN.value, sa_type=sa.String(16))
    acknowledged_by: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_note: str | None = Field(default=None, sa_type=sa.String(500))
    closed_by: uuid.UUID | None = Field(default=None, foreign_key="organisation.id")
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_note: str | None = Field(default=None, sa_type=sa.String(500))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
