"""Imports every table module, so that ``SQLModel.metadata`` knows the whole schema."""

from accounts.models import ApiKey, Organisation, OrganisationPlace
from dangerous_goods.models import DangerousGoodEntry
from dangerous_goods.registry_models import DgPerson, DgVehicle
from dispatch.models import DispatchDriver, DispatchMove, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.plan_models import DispatchAssignment, DispatchPlan
from integrations.models import InboxMessage, OutboxMessage, Partner
from monitoring.models import DgAlert
from tracking.models import VehiclePosition
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
    "DangerousGoodEntry",
    "DgAlert",
    "DgPerson",
    "DgVehicle",
    "DispatchAssignment",
    "DispatchDriver",
    "DispatchMove",
    "DispatchPlace",
    "DispatchPlan",
    "DispatchTractor",
    "DispatchTrailer",
    "EventSubscription",
    "IdempotencyRecord",
    "InboxMessage",
    "Organisation",
    "OrganisationPlace",
    "OutboxMessage",
    "Partner",
    "SubscriptionDelivery",
    "TransportEvent",
    "TransportLeg",
    "VehiclePosition",
    "Waybill",
    "WaybillChange",
    "WaybillVersion",
)
