"""Dangerous-goods vehicle monitoring: a pure alert engine on a vehicle's recent track.

``evaluate(context, fixes, now, thresholds)`` returns the alerts (speeding, no signal, stationary,
off corridor, restricted zone, driving time, no waybill); storing and serving them is the caller's.
"""

from __future__ import annotations

from monitoring.alerts import Alert, AlertKind, Fix, PositionFix, Severity, ShipmentContext
from monitoring.config import AlertThresholds, Expressway, RestrictedZone, load_thresholds, prd_thresholds
from monitoring.rules import evaluate

__all__ = (
    "Alert",
    "AlertKind",
    "AlertThresholds",
    "Expressway",
    "Fix",
    "PositionFix",
    "RestrictedZone",
    "Severity",
    "ShipmentContext",
    "evaluate",
    "load_thresholds",
    "prd_thresholds",
)
