"""Imports every table module, so that ``SQLModel.metadata`` knows the whole schema."""

from accounts.models import ApiKey, Organisation, OrganisationPlace
from dispatch.models import DispatchDriver, DispatchMove, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.plan_models import DispatchAssignment, DispatchPlan
from waybill.models import (
    AccessLogEntry,
    ChainLink,
    EventSubscription,
    IdempotencyRecord,
    SubscriptionDelivery,
    TransportEvent,
    TransportLeg,
    Waybill,
    WaybillChange,
    WaybillVersion,
)

__all__ = (
    "AccessLogEntry",
    "ApiKey",
    "ChainLink",
    "DispatchAssignment",
    "DispatchDriver",
    "DispatchMove",
    "DispatchPlace",
    "DispatchPlan",
    "DispatchTractor",
    "DispatchTrailer",
    "EventSubscription",
    "IdempotencyRecord",
    "Organisation",
    "OrganisationPlace",
    "SubscriptionDelivery",
    "TransportEvent",
    "TransportLeg",
    "Waybill",
    "WaybillChange",
    "WaybillVersion",
)
