"""Tables of organisations and their API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime, utcnow

__all__ = ("ApiKey", "Organisation", "OrganisationPlace", "UserAccount")


class Organisation(SQLModel, table=True):
    """A party using the platform: a shipper, carrier, port, customs office, regulator or the operator."""

    __tablename__ = "organisation"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    uscc: str = Field(sa_column=sa.Column(sa.String(18), nullable=False, unique=True))
    name: str = Field(sa_type=sa.String(200))
    role: str = Field(sa_type=sa.String(16))
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A bearer key of an organisation; only its SHA-256 digest is stored."""

    __tablename__ = "api_key"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    prefix: str = Field(sa_type=sa.String(16))
    secret_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    label: str = Field(default="", sa_type=sa.String(100))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OrganisationPlace(SQLModel, table=True):
    """A place (UN/LOCODE) where a port operator or customs office acts: it is party to legs there."""

    __tablename__ = "organisation_place"

    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", primary_key=True)
    locode: str = Field(sa_type=sa.String(5), primary_key=True, index=True)


class UserAccount(SQLModel, table=True):
    """A person who signs in to the web pages on behalf of an organisation.

    Only an Argon2id hash of the password is stored. The API keeps using organisation keys.
    """

    __tablename__ = "user_account"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    username: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    """Lower-case sign-in name (letters, digits, ``.``, ``_``, ``-``, ``@``)."""
    display_name: str = Field(sa_type=sa.String(100))
    password_hash: str = Field(sa_type=sa.String(200))
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
