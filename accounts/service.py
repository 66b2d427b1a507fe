"""Organisations and API keys: creating them, authenticating callers, revoking keys."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import ApiKey, Organisation, OrganisationPlace
from accounts.schemas import (
    ApiKeyIssued,
    ApiKeyRead,
    OrganisationCreate,
    OrganisationRead,
    OrganisationRole,
    Principal,
)
from core.db import utcnow
from core.errors import ConflictError, NotFoundError

__all__ = (
    "authenticate",
    "create_organisation",
    "get_organisation",
    "issue_api_key",
    "key_digest",
    "list_api_keys",
    "revoke_api_key",
)

_KEY_PREFIX = "fk"


def key_digest(key: str) -> str:
    """The stored form of an API key."""
    return _digest(key)


def _digest(key: str) -> str:
    # Keys carry 192 random bits, so a plain SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def _read(org: Organisation, places: list[str]) -> OrganisationRead:
    return OrganisationRead(
        id=org.id,
        uscc=org.uscc,
        name=org.name,
        role=OrganisationRole(org.role),
        active=org.active,
        created_at=org.created_at,
        places=places,
    )


async def _places(session: AsyncSession, organisation_id: uuid.UUID) -> list[str]:
    rows = await session.scalars(
        sa.select(col(OrganisationPlace.locode))
        .where(col(OrganisationPlace.organisation_id) == organisation_id)
        .order_by(col(OrganisationPlace.locode))
    )
    return list(rows)


async def create_organisation(session: AsyncSession, *, data: OrganisationCreate) -> OrganisationRead:
    """Create an organisation; its USCC must be new to the platform."""
    existing = await session.scalar(sa.select(col(Organisation.id)).where(col(Organisation.uscc) == data.uscc))
    if existing is not None:
        raise ConflictError(f"an organisation with USCC {data.uscc} exists already", field="uscc")
    org = Organisation(uscc=data.uscc, name=data.name, role=data.role.value)
    session.add(org)
    try:
        await session.flush()
    except IntegrityError:
        raise ConflictError(f"an organisation with USCC {data.uscc} exists already", field="uscc") from None
    places = sorted(set(data.places))
    session.add_all(OrganisationPlace(organisation_id=org.id, locode=locode) for locode in places)
    await session.flush()
    return _read(org, places)


async def organisation_by_uscc(
    session: AsyncSession, uscc: str, *, role: OrganisationRole | None = None
) -> Organisation | None:
    """The organisation with this unified social credit code (and role, when given), if any."""
    query = sa.select(Organisation).where(col(Organisation.uscc) == uscc)
    if role is not None:
        query = query.where(col(Organisation.role) == role.value)
    return await session.scalar(query)


async def get_organisation(session: AsyncSession, *, organisation_id: uuid.UUID) -> OrganisationRead:
    """Read one organisation."""
    org = await session.get(Organisation, organisation_id)
    if org is None:
        raise NotFoundError("no such organisation")
    return _read(org, await _places(session, org.id))


async def issue_api_key(session: AsyncSession, *, organisation_id: uuid.UUID, label: str = "") -> ApiKeyIssued:
    """Create a random API key for an organisation and return it once; only its digest is kept."""
    prefix = secrets.token_hex(4)
    key = f"{_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    record = ApiKey(
        organisation_id=organisation_id, prefix=f"{_KEY_PREFIX}_{prefix}", secret_sha256=_digest(key), label=label
    )
    session.add(record)
    await session.flush()
    return ApiKeyIssued(id=record.id, key=key, prefix=record.prefix, label=label, created_at=record.created_at)


async def list_api_keys(session: AsyncSession, *, organisation_id: uuid.UUID) -> list[ApiKeyRead]:
    """The organisation's keys, newest first, without secrets."""
    rows = await session.scalars(
        sa.select(ApiKey).where(col(ApiKey.organisation_id) == organisation_id).order_by(col(ApiKey.created_at).desc())
    )
    return [
        ApiKeyRead(id=k.id, prefix=k.prefix, label=k.label, created_at=k.created_at, revoked_at=k.revoked_at)
        for k in rows
    ]


async def revoke_api_key(session: AsyncSession, *, organisation_id: uuid.UUID, key_id: uuid.UUID) -> ApiKeyRead:
    """Revoke one of the organisation's keys; revoking twice keeps the first revocation time."""
    key = await session.get(ApiKey, key_id)
    if key is None or key.organisation_id != organisation_id:
        raise NotFoundError("no such API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return ApiKeyRead(
        id=key.id, prefix=key.prefix, label=key.label, created_at=key.created_at, revoked_at=key.revoked_at
    )


_AUTHENTICATE = (
    sa.select(
        col(ApiKey.id), col(Organisation.id), col(Organisation.uscc), col(Organisation.name), col(Organisation.role)
    )
    .join(Organisation, col(Organisation.id) == col(ApiKey.organisation_id))
    .where(
        col(ApiKey.secret_sha256) == sa.bindparam("digest"),
        col(ApiKey.revoked_at).is_(None),
        col(Organisation.active).is_(True),
    )
)


async def authenticate(session: AsyncSession, *, key: str) -> Principal | None:
    """The caller a bearer key belongs to, or ``None`` for an unknown, revoked or inactive key."""
    if not key.startswith(f"{_KEY_PREFIX}_") or len(key) > 100:
        return None
    row = (await session.execute(_AUTHENTICATE, {"digest": _digest(key)})).first()
    if row is None:
        return None
    key_id, org_id, uscc, name, role = row
    return Principal(organisation_id=org_id, uscc=uscc, name=name, role=OrganisationRole(role), api_key_id=key_id)
