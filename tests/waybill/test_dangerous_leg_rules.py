"""The pure check of a dangerous-goods road leg against the carrier's registry records."""

from __future__ import annotations

from datetime import date

from waybill.rules.dangerous_goods import (
    DangerousLoad,
    LegCrew,
    RegisteredPermit,
    RegisteredPerson,
    RegisteredVehicle,
    assess_cargo,
    check_carrier_permit,
    check_leg_registry,
    dangerous_load,
)
from waybill.schemas import CargoLine, DangerousGoodsLine, Driver

TODAY = date(2026, 11, 21)
DEPARTURE = date(2026, 12, 3)
LOAD = DangerousLoad(classes=("3", "8"), needs_tank=False)
VEHICLE = RegisteredVehicle(
    plate="粤E7K724", permitted_classes=("3", "8"), tank_allowed=False, permit_expires_on=date(2030, 6, 30)
)
DRIVER = Driver(name="黄志明", certificate_number="D-1")
ESCORT = Driver(name="陈丽华", certificate_number="E-1")
PEOPLE = {
    ("driver", "D-1"): RegisteredPerson(
        role="driver", certificate_number="D-1", qualified_classes=("3", "8"), expires_on=date(2030, 1, 1)
    ),
    ("escort", "E-1"): RegisteredPerson(
        role="escort", certificate_number="E-1", qualified_classes=("3", "8"), expires_on=date(2030, 1, 1)
    ),
}
CREW = LegCrew(vehicle_plate="粤E7K724", driver=DRIVER, escort=ESCORT)


def check(
    load: DangerousLoad = LOAD,
    crew: LegCrew = CREW,
    vehicle: RegisteredVehicle | None = VEHICLE,
    prefix: str = "legs[0]",
) -> tuple[str, str] | None:
    refusal = check_leg_registry(
        load=load, crew=crew, prefix=prefix, vehicle=vehicle, people=PEOPLE, on=DEPARTURE, today=TODAY
    )
    return None if refusal is None else (refusal.field, refusal.message)


def test_a_registered_qualified_crew_passes() -> None:
    assert check() is None


def test_the_load_lists_its_classes_in_adr_order() -> None:
    def line(un: str, unit: str) -> CargoLine:
        return CargoLine(
            description="x",
            package_count=1,
            package_type="DR",
            gross_weight_kg=100,
            dangerous_goods=DangerousGoodsLine(un_number=un, quantity=50, unit=unit, packing_group="II"),
        )  # type: ignore[arg-type]

    assessment = assess_cargo([line("UN1830", "kg"), line("UN1203", "L")])

    assert dangerous_load(assessment) == DangerousLoad(classes=("3", "8"), needs_tank=False)  # type: ignore[arg-type]


def test_a_tank_load_needs_a_tank_permit() -> None:
    refused = check(load=DangerousLoad(classes=("3",), needs_tank=True))

    assert refused is not None
    assert refused[0] == "legs[0].equipment.vehicle_plate"
    assert "tanks or in bulk" in refused[1]


def test_a_permit_valid_today_but_not_on_departure_day_is_refused() -> None:
    refused = check(
        vehicle=RegisteredVehicle(
            plate="粤E7K724", permitted_classes=("3", "8"), tank_allowed=False, permit_expires_on=date(2026, 12, 2)
        )
    )

    assert refused == (
        "legs[0].equipment.vehicle_plate",
        "vehicle 粤E7K724: permit expires on 2026-12-02, before the leg departs on 2026-12-03",
    )


def test_a_permit_ending_on_the_departure_day_is_still_valid() -> None:
    assert (
        check(
            vehicle=RegisteredVehicle(
                plate="粤E7K724", permitted_classes=("3", "8"), tank_allowed=False, permit_expires_on=DEPARTURE
            )
        )
        is None
    )


def test_a_leg_update_names_fields_without_a_leg_prefix() -> None:
    refused = check(crew=LegCrew(vehicle_plate="粤E7K724", driver=DRIVER), prefix="")

    assert refused is not None
    assert refused[0] == "escort"


def test_a_driver_alone_is_checked_without_needing_an_escort() -> None:
    assert check(crew=LegCrew(driver=DRIVER), vehicle=None) is None
    refused = check(crew=LegCrew(driver=Driver(name="王五", certificate_number="X-9")), vehicle=None)
    assert refused is not None
    assert refused[0] == "legs[0].driver.certificate_number"
    assert "not registered" in refused[1]


PERMIT = RegisteredPermit(
    permit_number="粤交运管许可佛字440604000123号", permitted_classes=("3", "8"), expires_on=DEPARTURE
)


def check_permit(permit: RegisteredPermit | None = PERMIT, prefix: str = "legs[0]") -> tuple[str, str] | None:
    refusal = check_carrier_permit(
        load=LOAD, carrier_name="佛山顺通危险品运输有限公司", permit=permit, prefix=prefix, on=DEPARTURE, today=TODAY
    )
    return None if refusal is None else (refusal.field, refusal.message)


def test_a_carrier_permit_valid_through_the_departure_day_passes() -> None:
    assert check_permit() is None


def test_a_carrier_without_a_permit_is_refused_on_the_legs_carrier() -> None:
    refused = check_permit(None, prefix="")

    assert refused is not None
    assert refused[0] == "carrier"
    assert "佛山顺通危险品运输有限公司 has no road transport permit" in refused[1]


def test_a_carrier_permit_must_cover_every_class_and_the_departure_day() -> None:
    narrow = check_permit(RegisteredPermit(permit_number="P-1", permitted_classes=("3",), expires_on=DEPARTURE))
    ending = check_permit(
        RegisteredPermit(permit_number="P-1", permitted_classes=("3", "8"), expires_on=date(2026, 12, 2))
    )

    assert narrow == (
        "legs[0].carrier",
        "carrier 佛山顺通危险品运输有限公司: road transport permit P-1: business scope does not cover class 8",
    )
    assert ending is not None
    assert "expires on 2026-12-02, before the leg departs on 2026-12-03" in ending[1]
