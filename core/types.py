"""Constrained value types shared by the API schemas of every domain package."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta

__all__ = (
    "LINE_PATTERN",
    "NON_BLANK_LINE_PATTERN",
    "TEXT_PATTERN",
    "AwareDatetime",
    "DivisionCode",
    "InputStruct",
    "Latitude",
    "Longitude",
    "Name",
    "Note",
    "OutputStruct",
    "ShortText",
    "UnLocode",
    "UsccCode",
    "check_field",
)


class InputStruct(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Base of every request body: immutable, keyword-only, unknown fields refused."""


class OutputStruct(msgspec.Struct, kw_only=True, frozen=True):
    """Base of every response body."""


AwareDatetime = Annotated[
    datetime,
    Meta(tz=True, description="RFC 3339 date-time with a UTC offset, e.g. 2026-11-23T08:00:00+08:00"),
]
# Text fields refuse control characters (PostgreSQL cannot even store NUL); one-line fields also
# refuse line breaks, and required ones need a visible character.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
NON_BLANK_LINE_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NON_BLANK_LINE_PATTERN)]
ShortText = Annotated[str, Meta(min_length=1, max_length=500, pattern=NON_BLANK_LINE_PATTERN)]
Note = Annotated[str, Meta(max_length=500, pattern=TEXT_PATTERN)]
UsccCode = Annotated[
    str,
    Meta(
        min_length=18,
        max_length=18,
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
        description="Unified social credit code (统一社会信用代码, GB 32100-2015), check character verified",
        examples=["91440300708461136T"],
    ),
]
DivisionCode = Annotated[
    str,
    Meta(
        pattern=r"^[1-8][0-9]{5}$",
        description="Administrative division code (GB/T 2260), e.g. 440606 for Shunde, Foshan",
        examples=["440606"],
    ),
]
UnLocode = Annotated[
    str,
    Meta(pattern=r"^[A-Z]{2}[A-Z2-9]{3}$", description="UN/LOCODE, e.g. CNSHK for Shekou", examples=["CNSHK"]),
]
Latitude = Annotated[float, Meta(ge=-90, le=90, description="WGS 84 latitude in degrees")]
Longitude = Annotated[float, Meta(ge=-180, le=180, description="WGS 84 longitude in degrees")]


def check_field(name: str, check: Callable[[Any], object], value: Any) -> None:
    """Run ``check(value)`` and name the field in the ``ValueError`` it raises.

    msgspec reports errors from ``__post_init__`` at the struct's path; the ``name: `` prefix lets the
    API's problem handler point at the field itself (``legs[0].carrier.uscc``).
    """
    try:
        check(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
