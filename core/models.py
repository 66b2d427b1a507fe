"""Imports every table module, so that ``SQLModel.metadata`` knows the whole schema."""

from accounts.models import ApiKey, Organisation
from waybill.models import (
    AccessLogEntry,
    IdempotencyRecord,
    TransportLeg,
    Waybill,
    WaybillChange,
    WaybillVersion,
)

__all__ = (
    "AccessLogEntry",
    "ApiKey",
    "IdempotencyRecord",
    "Organisation",
    "TransportLeg",
    "Waybill",
    "WaybillChange",
    "WaybillVersion",
)
