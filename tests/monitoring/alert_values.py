"""Alerts as the rules return them, for storage and API tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from monitoring.alerts import Alert, AlertKind, Severity, dedupe_key

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def speeding(*, plate: str | None = None, observed: float = 92.0, ended: bool = False) -> Alert:
    """A speeding episode of a fresh plate (or ``plate``), unique per call unless ``plate`` repeats."""
    plate = plate or f"粤E{uuid.uuid4().int % 100000:05d}"
    return Alert(
        kind=AlertKind.SPEEDING,
        severity=Severity.WARNING,
        plate=plate,
        waybill_number="EW2611-00000042-7",
        started_at=START,
        ended_at=START + timedelta(minutes=4) if ended else None,
        observed=observed,
        threshold=80.0,
        unit="km/h",
        position=(23.10, 113.50),
        message=f"{plate} at {observed:.0f} km/h on an expressway, limit 80 km/h",
        message_key="alert.speeding",
        message_params={"plate": plate, "observed": observed, "threshold": 80.0},
        dedupe_key=dedupe_key(AlertKind.SPEEDING, plate, "EW2611-00000042-7", START, None),
    )
