"""msgspec schemas of organisations, keys and the authenticated caller."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

from core.identifiers import validate_uscc
from core.types import LINE_PATTERN, InputStruct, Name, OutputStruct, UnLocode, UsccCode, check_field

__all__ = (
    "ApiKeyCreate",
    "ApiKeyIssued",
    "ApiKeyRead",
    "OrganisationCreate",
    "OrganisationRead",
    "OrganisationRole",
    "Principal",
)


class OrganisationRole(StrEnum):
    """What an organisation does on the platform; decides what it may see and do."""

    SHIPPER = "shipper"
    CARRIER = "carrier"
    PORT = "port"
    CUSTOMS = "customs"
    REGULATOR = "regulator"
    ADMIN = "admin"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller: an organisation acting through one of its API keys."""

    organisation_id: uuid.UUID
    uscc: str
    name: str
    role: OrganisationRole
    api_key_id: uuid.UUID | None = None


class OrganisationCreate(InputStruct, frozen=True):
    """A new organisation (platform operators only)."""

    name: Name
    role: OrganisationRole
    uscc: UsccCode
    places: Annotated[list[UnLocode], Meta(max_length=50)] = msgspec.field(default_factory=list)
    """UN/LOCODEs where a port operator or customs office acts; it is party to the legs there."""

    def __post_init__(self) -> None:
        check_field("uscc", validate_uscc, self.uscc)


class OrganisationRead(OutputStruct, frozen=True):
    """An organisation."""

    id: uuid.UUID
    uscc: str
    name: str
    role: OrganisationRole
    active: bool
    created_at: datetime
    places: list[str] = msgspec.field(default_factory=list)


class ApiKeyCreate(InputStruct, frozen=True):
    """A request for a new API key."""

    label: Annotated[str, Meta(max_length=100, pattern=LINE_PATTERN)] = ""


class ApiKeyRead(OutputStruct, frozen=True):
    """An API key, without its secret."""

    id: uuid.UUID
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(OutputStruct, frozen=True):
    """A new API key; ``key`` is shown this once and cannot be recovered."""

    id: uuid.UUID
    key: str
    prefix: str
    label: str
    created_at: datetime
