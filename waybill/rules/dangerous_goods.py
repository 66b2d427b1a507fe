"""Dangerous goods on a waybill: the load its cargo lines make must pass the ADR assessment.

A waybill whose dangerous-goods lines name an unknown UN number or packing group, or load together
goods that ADR 7.5.2.1 / 7.5.2.2 keep apart, is refused with the rule cited and the line named.

Such a waybill must name an emergency contact (``check_emergency_contact``), as the national
dangerous-goods waybill format requires (危险货物道路运输安全管理办法, 交通运输部令2019年第29号, 第二十四条).

A road leg of such a waybill whose carrier is on the platform needs the carrier's road transport
permit (道路运输经营许可证) to cover the load and be valid on the planned departure date (the same
办法, 第二十二条: a carrier carries only within its permitted business scope); a leg naming a vehicle,
driver or escort must name a registered vehicle whose permit covers the load, and registered,
qualified drivers and escorts (押运员). ``check_carrier_permit`` and ``check_leg_registry`` decide on
records the service has looked up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import msgspec

from dangerous_goods.assessment import Assessment, AssessmentError, LoadLine, assess
from dangerous_goods.registry_schemas import ADR_CLASSES
from waybill.schemas import CargoLine, Driver, WaybillDocument

__all__ = (
    "DangerousLoad",
    "LegCrew",
    "LoadRefusal",
    "RegisteredPermit",
    "RegisteredPerson",
    "RegisteredVehicle",
    "assess_cargo",
    "check_carrier_permit",
    "check_emergency_contact",
    "check_leg_registry",
    "dangerous_load",
)


class LoadRefusal(msgspec.Struct, kw_only=True, frozen=True):
    """Why a waybill's dangerous-goods load is refused, and which field to name."""

    message: str
    field: str


def _load_lines(cargo: Sequence[CargoLine]) -> tuple[list[int], list[LoadLine]]:
    indexes: list[int] = []
    lines: list[LoadLine] = []
    for index, line in enumerate(cargo):
        goods = line.dangerous_goods
        if goods is None:
            continue
        indexes.append(index)
        lines.append(
            LoadLine(
                un_number=goods.un_number.removeprefix("UN"),
                quantity=goods.quantity,
                unit=goods.unit,
                packing_group=goods.packing_group,
                name=line.description,
                mass_kg=line.gross_weight_kg if goods.unit == "articles" else None,
            )
        )
    return indexes, lines


def assess_cargo(cargo: Sequence[CargoLine]) -> Assessment | LoadRefusal | None:
    """The ADR assessment of the waybill's dangerous goods, a refusal, or ``None`` if it carries none."""
    indexes, lines = _load_lines(cargo)
    if not lines:
        return None
    try:
        result = assess(lines)
    except AssessmentError as exc:
        at = indexes[exc.line]
        attribute = "quantity" if exc.attribute == "mass_kg" else exc.attribute
        message = exc.message.replace(f"line {exc.line}", f"cargo[{at}]")
        return LoadRefusal(message=message, field=f"cargo[{at}].dangerous_goods.{attribute}")
    if result.mixed_loading_violations:
        finding = result.mixed_loading_violations[0]
        first, second = (indexes[i] for i in finding.lines)
        rule = f"{finding.rule} note {finding.note}" if finding.note else finding.rule
        return LoadRefusal(
            message=f"cargo[{first}] and cargo[{second}] may not be loaded together ({rule}): {finding.reason}",
            field=f"cargo[{second}].dangerous_goods",
        )
    return result


EMERGENCY_CONTACT_RULE = "危险货物道路运输安全管理办法 (交通运输部令2019年第29号) 第二十四条, 危险货物道路运输运单"


def check_emergency_contact(document: WaybillDocument) -> LoadRefusal | None:
    """Refuse a waybill with dangerous goods that names no emergency contact; others pass."""
    if document.emergency_contact is not None:
        return None
    if not any(line.dangerous_goods is not None for line in document.cargo):
        return None
    return LoadRefusal(
        message=(
            "a waybill carrying dangerous goods must name an emergency contact with a phone number "
            f"({EMERGENCY_CONTACT_RULE})"
        ),
        field="emergency_contact",
    )


# --- vehicles, drivers and escorts of a dangerous-goods leg ----------------------------------------


class DangerousLoad(msgspec.Struct, kw_only=True, frozen=True):
    """What a leg's vehicle and crew must be qualified for."""

    classes: tuple[str, ...]
    """ADR classes of the load, in ADR order."""
    needs_tank: bool
    """A line travels in a tank or in bulk."""


class RegisteredVehicle(msgspec.Struct, kw_only=True, frozen=True):
    """A vehicle's registry record, as the check needs it."""

    plate: str
    permitted_classes: tuple[str, ...]
    tank_allowed: bool
    permit_expires_on: date


class RegisteredPerson(msgspec.Struct, kw_only=True, frozen=True):
    """A driver's or escort's registry record, as the check needs it."""

    role: str
    certificate_number: str
    qualified_classes: tuple[str, ...]
    expires_on: date


class RegisteredPermit(msgspec.Struct, kw_only=True, frozen=True):
    """A carrier's road transport permit (道路运输经营许可证), as the check needs it."""

    permit_number: str
    permitted_classes: tuple[str, ...]
    expires_on: date


class LegCrew(msgspec.Struct, kw_only=True, frozen=True):
    """What a road leg names: vehicle, driver, escort."""

    vehicle_plate: str | None = None
    driver: Driver | None = None
    escort: Driver | None = None

    @property
    def names_anything(self) -> bool:
        """The leg names a vehicle, a driver or an escort."""
        return self.vehicle_plate is not None or self.driver is not None or self.escort is not None


def dangerous_load(assessment: Assessment) -> DangerousLoad:
    """The classes of an assessed load and whether it needs a tank or bulk permit."""
    present = {line.entry.hazard_class for line in assessment.lines}
    order = {name: index for index, name in enumerate(ADR_CLASSES)}
    return DangerousLoad(
        classes=tuple(sorted(present, key=lambda name: order.get(name, len(order)))),
        needs_tank=any(line.carriage != "packages" for line in assessment.lines),
    )


def _at(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if prefix else field


def _missing(load: DangerousLoad, covered: Sequence[str]) -> str | None:
    missing = [name for name in load.classes if name not in covered]
    if not missing:
        return None
    return "not qualified for class " + ", ".join(missing)


def _expiry(what: str, expires_on: date, *, on: date, today: date) -> str | None:
    if expires_on >= on:
        return None
    if expires_on < today:
        return f"{what} expired on {expires_on.isoformat()}"
    return f"{what} expires on {expires_on.isoformat()}, before the leg departs on {on.isoformat()}"


def _check_person(
    role: str,
    person: Driver,
    *,
    field: str,
    load: DangerousLoad,
    people: Mapping[tuple[str, str], RegisteredPerson],
    on: date,
    today: date,
) -> LoadRefusal | None:
    title = "driver" if role == "driver" else "escort (押运员)"
    if person.certificate_number is None:
        return LoadRefusal(
            message=f"the {title} {person.name} of a dangerous-goods leg needs a qualification certificate number",
            field=f"{field}.certificate_number",
        )
    record = people.get((role, person.certificate_number))
    subject = f"{title} {person.name} (certificate {person.certificate_number})"
    if record is None:
        return LoadRefusal(
            message=f"{subject} is not registered with the carrier as a dangerous-goods {role}",
            field=f"{field}.certificate_number",
        )
    reason = _missing(load, record.qualified_classes) or _expiry("qualification", record.expires_on, on=on, today=today)
    if reason is not None:
        return LoadRefusal(message=f"{subject}: {reason}", field=f"{field}.certificate_number")
    return None


def check_carrier_permit(
    *, load: DangerousLoad, carrier_name: str, permit: RegisteredPermit | None, prefix: str, on: date, today: date
) -> LoadRefusal | None:
    """Whether the carrier of a road leg may carry the load, by its road transport permit.

    The permit must be registered, its dangerous-goods business scope must cover every class of the
    load, and it must be valid on ``on`` (the local date of the planned departure, else today).

    Args:
        prefix: path of the leg in the request (``legs[0]``), or ``""`` for a leg's own update.
        permit: the carrier's registered permit, ``None`` if it has none.

    Returns:
        A refusal naming the leg's carrier, or ``None``.
    """
    field = _at(prefix, "carrier")
    if permit is None:
        return LoadRefusal(
            message=(
                f"carrier {carrier_name} has no road transport permit (道路运输经营许可证) for dangerous goods "
                "registered on the platform"
            ),
            field=field,
        )
    subject = f"carrier {carrier_name}: road transport permit {permit.permit_number}"
    missing = [name for name in load.classes if name not in permit.permitted_classes]
    reason = (
        "business scope does not cover class " + ", ".join(missing)
        if missing
        else _expiry("permit", permit.expires_on, on=on, today=today)
    )
    if reason is not None:
        return LoadRefusal(message=f"{subject}: {reason}", field=field)
    return None


def check_leg_registry(
    *,
    load: DangerousLoad,
    crew: LegCrew,
    prefix: str,
    vehicle: RegisteredVehicle | None,
    people: Mapping[tuple[str, str], RegisteredPerson],
    on: date,
    today: date,
) -> LoadRefusal | None:
    """Whether a road leg of a dangerous-goods waybill may carry the load, by the carrier's registry.

    Called only for legs whose carrier is on the platform. The vehicle (if named) must be registered,
    its permit must cover every class of the load (and tanks or bulk if the load needs them) and be
    valid on ``on`` (the local date of the planned departure, else today); a leg naming a vehicle
    must name an escort; the driver and escort (if named) must be registered in that role by their
    certificate number, qualified for every class and valid on ``on``.

    Args:
        prefix: path of the leg in the request (``legs[0]``), or ``""`` for a leg's own update.
        vehicle: the registry record of ``crew.vehicle_plate``, ``None`` if it has none.
        people: the carrier's records of the named certificates, by (role, certificate number).

    Returns:
        The first refusal naming its field, or ``None``.
    """
    if crew.vehicle_plate is not None:
        field = _at(prefix, "equipment.vehicle_plate")
        subject = f"vehicle {crew.vehicle_plate}"
        if vehicle is None:
            return LoadRefusal(message=f"{subject} is not registered with the carrier for dangerous goods", field=field)
        reason = _missing(load, vehicle.permitted_classes)
        if reason is None and load.needs_tank and not vehicle.tank_allowed:
            reason = "permit does not cover carriage in tanks or in bulk"
        reason = reason or _expiry("permit", vehicle.permit_expires_on, on=on, today=today)
        if reason is not None:
            return LoadRefusal(message=f"{subject}: {reason}", field=field)
        if crew.escort is None:
            return LoadRefusal(
                message="a road leg carrying dangerous goods needs an escort (押运员) with the vehicle",
                field=_at(prefix, "escort"),
            )
    for role, person in (("driver", crew.driver), ("escort", crew.escort)):
        if person is None:
            continue
        refusal = _check_person(role, person, field=_at(prefix, role), load=load, people=people, on=on, today=today)
        if refusal is not None:
            return refusal
    return None
