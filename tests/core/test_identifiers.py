"""Identifiers: waybill numbers with a check character, USCCs, container numbers, plates."""

from __future__ import annotations

import pytest

from core.identifiers import (
    generate_waybill_number,
    normalise_waybill_number,
    validate_container_number,
    validate_uscc,
    validate_vehicle_plate,
)


def test_generated_numbers_have_the_documented_form_and_a_valid_check_character() -> None:
    numbers = {generate_waybill_number(2026, 11) for _ in range(500)}
    assert len(numbers) == 500
    for number in numbers:
        assert number.startswith("EW2611-")
        assert normalise_waybill_number(number) == number


def test_a_typed_number_is_normalised() -> None:
    number = generate_waybill_number(2026, 12)
    assert normalise_waybill_number(" " + number.lower().replace("-", "") + " ") == number


def test_any_single_mistyped_character_is_caught() -> None:
    number = generate_waybill_number(2026, 12)
    compact = number.replace("-", "")
    for position in range(6, len(compact)):
        for replacement in "0123456789ABCDEFGHJKMNPQRSTVWXYZ":
            if replacement == compact[position]:
                continue
            typo = compact[:position] + replacement + compact[position + 1 :]
            with pytest.raises(ValueError, match=r"check character|form"):
                normalise_waybill_number(typo)


def test_swapped_neighbours_are_almost_always_caught() -> None:
    # ISO 7064 hybrid MOD 37,36 catches every single substitution but not every swap of neighbours:
    # measured over 155,000 swaps, about 1 in 600 passes. So the rate is asserted, not each swap.
    swaps = missed = 0
    for _ in range(2_000):
        number = generate_waybill_number(2026, 12).replace("-", "")
        for position in range(6, len(number) - 1):
            if number[position] == number[position + 1]:
                continue
            swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
            swaps += 1
            try:
                normalise_waybill_number(swapped)
            except ValueError:
                continue
            missed += 1
    assert swaps > 10_000
    assert missed / swaps < 0.01


@pytest.mark.parametrize("value", ["", "EW2611", "XX2611-7K3M9Q2X-T", "EW2611-7K3M9Q2X-TT", "EW2611-7K3M9QIX-T"])
def test_malformed_numbers_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        normalise_waybill_number(value)


def test_uscc_check_character() -> None:
    assert validate_uscc("91440300708461136t") == "91440300708461136T"
    with pytest.raises(ValueError, match="check character"):
        validate_uscc("91440300708461136A")
    with pytest.raises(ValueError, match="18 characters"):
        validate_uscc("9144030070846113")


def test_container_check_digit() -> None:
    assert validate_container_number("CSQU 305438 3") == "CSQU3054383"
    with pytest.raises(ValueError, match="check digit"):
        validate_container_number("CSQU3054384")


@pytest.mark.parametrize(
    ("plate", "trailer"), [("粤B12345", False), ("粤BD12345", False), ("粤E2386挂", True), ("京A·8K2L1", False)]
)
def test_valid_plates(plate: str, trailer: bool) -> None:
    assert validate_vehicle_plate(plate, trailer=trailer)


@pytest.mark.parametrize(
    ("plate", "trailer"), [("粤B12345", True), ("粤E2386挂", False), ("AB12345", False), ("粤I12345", False)]
)
def test_invalid_plates(plate: str, trailer: bool) -> None:
    with pytest.raises(ValueError):
        validate_vehicle_plate(plate, trailer=trailer)
