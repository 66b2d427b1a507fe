"""Identifiers with check digits and formats used across the platform.

Check digits are computed by python-stdnum; this module only states which standard applies where
and turns its exceptions into one plain ``ValueError`` with a message a caller can act on.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache

from stdnum import iso6346
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.iso7064 import mod_37_36

__all__ = (
    "TRACTOR_PLATE_PATTERN",
    "TRAILER_PLATE_PATTERN",
    "WAYBILL_NUMBER_PATTERN",
    "generate_waybill_number",
    "normalise_waybill_number",
    "validate_container_number",
    "validate_uscc",
    "validate_vehicle_plate",
)

# Crockford's base-32 alphabet: no I, L, O or U, so numbers survive being read aloud or handwritten.
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
WAYBILL_NUMBER_PATTERN = r"^EW[0-9]{4}-[0-9A-HJKMNP-TV-Z]{8}-[0-9A-Z]$"
_WAYBILL_NUMBER = re.compile(WAYBILL_NUMBER_PATTERN)

# Mainland plates: a province character, an issuing-office letter, then five characters (six for
# new-energy vehicles); trailer plates have four and end in 挂.
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"^[{_PROVINCES}][A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{{4}}挂|[A-HJ-NP-Z0-9]{{5,6}})$")
TRACTOR_PLATE_PATTERN = rf"^[{_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5,6}}$"
"""A mainland plate of a tractor or lorry, as stored (no spaces or dots)."""
TRAILER_PLATE_PATTERN = rf"^[{_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{4}}挂$"
"""A mainland semi-trailer plate, as stored."""


# Validation results are cached: the same carriers, shippers and containers recur all day, and
# python-stdnum's pure-Python checks cost more than the rest of parsing a waybill.
@lru_cache(maxsize=8192)
def validate_uscc(value: str) -> str:
    """Return the compact unified social credit code (GB 32100-2015) or raise ``ValueError``."""
    try:
        return str(uscc.validate(value))
    except InvalidChecksum:
        raise ValueError("unified social credit code has a wrong check character") from None
    except ValidationError:
        raise ValueError("not a unified social credit code (18 characters, GB 32100-2015)") from None


@lru_cache(maxsize=8192)
def validate_container_number(value: str) -> str:
    """Return the compact ISO 6346 container number or raise ``ValueError``."""
    try:
        return str(iso6346.validate(value))
    except InvalidChecksum:
        raise ValueError("container number has a wrong check digit (ISO 6346)") from None
    except ValidationError:
        raise ValueError("not an ISO 6346 container number (e.g. CSQU3054383)") from None


@lru_cache(maxsize=8192)
def validate_vehicle_plate(value: str, *, trailer: bool) -> str:
    """Return a mainland licence plate, checking that trailer plates end in 挂 and others do not."""
    plate = value.replace(" ", "").replace("·", "").upper()
    if _PLATE.match(plate) is None:
        raise ValueError("not a mainland licence plate (e.g. 粤B12345, trailer 粤B1234挂)")
    if trailer and not plate.endswith("挂"):
        raise ValueError("a trailer plate ends in 挂 (e.g. 粤E5678挂)")
    if not trailer and plate.endswith("挂"):
        raise ValueError("a tractor or lorry plate does not end in 挂")
    return plate


def generate_waybill_number(year: int, month: int) -> str:
    """A new waybill number: ``EW`` + YYMM, eight random base-32 characters, a check character.

    Example: ``EW2611-7K3M9Q2X-T``. The check character is ISO 7064 MOD 37-36 over the other
    characters, so a single mistyped character is always caught, and a swap of neighbours all but
    about one time in 600.
    """
    random_part = "".join(secrets.choice(_CROCKFORD) for _ in range(8))
    body = f"EW{year % 100:02d}{month:02d}{random_part}"
    return f"{body[:6]}-{body[6:]}-{mod_37_36.calc_check_digit(body)}"


def normalise_waybill_number(value: str) -> str:
    """Return the canonical form of a waybill number typed by a person, or raise ``ValueError``."""
    compact = value.strip().upper().replace("-", "").replace(" ", "")
    if len(compact) != 15:
        raise ValueError("a waybill number has the form EW2611-7K3M9Q2X-T")
    canonical = f"{compact[:6]}-{compact[6:14]}-{compact[14]}"
    if _WAYBILL_NUMBER.match(canonical) is None:
        raise ValueError("a waybill number has the form EW2611-7K3M9Q2X-T")
    if not mod_37_36.is_valid(compact):
        raise ValueError("waybill number has a wrong check character")
    return canonical
