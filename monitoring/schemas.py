"""msgspec schemas of the alerts API: an alert with who acknowledged and closed it, and when."""

from __future__ import annotations

from datetime import datetime

from core.types import InputStruct, Note, OutputStruct
from monitoring.alerts import AlertKind, Severity
from monitoring.models import AlertStatus

__all__ = ("AlertNote", "AlertPage", "AlertRead", "AlertStep", "OrganisationRef", "Position")


class AlertNote(InputStruct, frozen=True):
    """What the caller says when acknowledging or closing an alert."""

    note: Note | None = None


class OrganisationRef(OutputStruct, frozen=True):
    """An organisation, by its unified social credit code and name."""

    uscc: str
    name: str


class AlertStep(OutputStruct, frozen=True):
    """A step of an alert's lifecycle: who took it, when, with what note."""

    by: OrganisationRef
    at: datetime
    note: str | None = None


class Position(OutputStruct, frozen=True):
    """WGS 84 position of the vehicle when the episode began."""

    latitude: float
    longitude: float


class AlertRead(OutputStruct, frozen=True):
    """A stored alert."""

    id: int
    kind: AlertKind
    severity: Severity
    status: AlertStatus
    plate: str
    waybill_number: str | None
    carrier: OrganisationRef | None
    started_at: datetime
    ended_at: datetime | None
    """When the episode was last seen over; ``None`` while it lasts."""
    last_seen_at: datetime
    observed: float | str | None
    threshold: float | str | None
    unit: str | None
    position: Position
    zone: str | None
    message: str
    message_key: str
    message_params: dict[str, str | float]
    created_at: datetime
    acknowledged: AlertStep | None = None
    """Who acknowledged the alert, when and with what note."""
    closed: AlertStep | None = None
    """Who closed the alert, when and with what note."""


class AlertPage(OutputStruct, frozen=True):
    """A page of alerts, oldest first."""

    items: list[AlertRead]
    next_cursor: str | None
