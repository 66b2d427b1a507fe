"""The waybill's lifecycle as pure rules: which transitions exist and what each state allows.

``draft → issued → in_transit → delivered → closed``, and ``cancelled`` from draft or issued
while no leg has started.
"""

from __future__ import annotations

from waybill.schemas import LegStatus, WaybillStatus

__all__ = (
    "TRANSITIONS",
    "can_transition",
    "check_amendable",
    "check_cancellable",
    "check_leg_changeable",
)

TRANSITIONS: dict[WaybillStatus, frozenset[WaybillStatus]] = {
    WaybillStatus.DRAFT: frozenset({WaybillStatus.ISSUED, WaybillStatus.CANCELLED}),
    WaybillStatus.ISSUED: frozenset({WaybillStatus.IN_TRANSIT, WaybillStatus.CANCELLED}),
    WaybillStatus.IN_TRANSIT: frozenset({WaybillStatus.DELIVERED}),
    WaybillStatus.DELIVERED: frozenset({WaybillStatus.CLOSED}),
    WaybillStatus.CLOSED: frozenset(),
    WaybillStatus.CANCELLED: frozenset(),
}

_AMENDABLE = frozenset({WaybillStatus.DRAFT, WaybillStatus.ISSUED, WaybillStatus.IN_TRANSIT})


def can_transition(current: WaybillStatus, target: WaybillStatus) -> bool:
    """Whether the lifecycle allows going from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


def check_amendable(status: WaybillStatus) -> str | None:
    """Why a waybill in this state cannot be amended, or ``None`` if it can."""
    if status in _AMENDABLE:
        return None
    return f"a {status.value} waybill cannot be amended"


def check_cancellable(status: WaybillStatus, leg_statuses: list[LegStatus]) -> str | None:
    """Why a waybill cannot be cancelled, or ``None`` if it can: only before its first leg starts."""
    if any(leg is not LegStatus.PLANNED for leg in leg_statuses):
        return "the first leg has started; a waybill under way cannot be cancelled"
    if not can_transition(status, WaybillStatus.CANCELLED):
        return f"a {status.value} waybill cannot be cancelled"
    return None


def check_leg_changeable(status: WaybillStatus, leg_status: LegStatus) -> str | None:
    """Why a leg cannot be changed, or ``None`` if it can: not once completed or the waybill is finished."""
    if status in {WaybillStatus.CANCELLED, WaybillStatus.DELIVERED, WaybillStatus.CLOSED}:
        return f"the legs of a {status.value} waybill cannot be changed"
    if leg_status is LegStatus.COMPLETED:
        return "a completed leg cannot be changed"
    return None
