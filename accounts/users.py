"""People who sign in to the web pages: creating them and checking their passwords (Argon2id)."""

from __future__ import annotations

import contextlib
import re
import uuid

import msgspec
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organisation, UserAccount
from accounts.schemas import OrganisationRole
from core.db import utcnow
from core.errors import ConflictError, NotFoundError, RuleViolationError

__all__ = ("PageUser", "authenticate_user", "create_user", "get_page_user")

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")
_MIN_PASSWORD = 8
_hasher = PasswordHasher()
# Verifying against this when the user is unknown keeps the answer time the same as for a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


class PageUser(msgspec.Struct, frozen=True, kw_only=True):
    """A signed-in person and the organisation they act for."""

    user_id: uuid.UUID
    username: str
    display_name: str
    organisation_id: uuid.UUID
    organisation_name: str
    uscc: str
    role: OrganisationRole


def normalise_username(username: str) -> str:
    """The stored form of a sign-in name: trimmed and lower-case."""
    return username.strip().lower()


async def create_user(
    session: AsyncSession, *, organisation_id: uuid.UUID, username: str, display_name: str, password: str
) -> PageUser:
    """Add a person who signs in for ``organisation_id``.

    Raises:
        RuleViolationError: the name or password is not acceptable.
        NotFoundError: no such organisation.
        ConflictError: the sign-in name is taken.
    """
    name = normalise_username(username)
    if not _USERNAME.match(name):
        raise RuleViolationError(
            "a username is 3 to 64 letters, digits, '.', '_', '-' or '@', starting with a letter or digit",
            field="username",
        )
    if len(password) < _MIN_PASSWORD:
        raise RuleViolationError(f"a password has at least {_MIN_PASSWORD} characters", field="password")
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(f"organisation {organisation_id} not found")
    taken = await session.scalar(sa.select(col(UserAccount.id)).where(col(UserAccount.username) == name))
    if taken is not None:
        raise ConflictError(f"username {name!r} is taken", field="username")
    user = UserAccount(
        organisation_id=organisation_id,
        username=name,
        display_name=display_name.strip() or name,
        password_hash=_hasher.hash(password),
    )
    session.add(user)
    await session.flush()
    return _page_user(user, organisation)


def _page_user(user: UserAccount, organisation: Organisation) -> PageUser:
    return PageUser(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        uscc=organisation.uscc,
        role=OrganisationRole(organisation.role),
    )


async def _active_user(
    session: AsyncSession, condition: sa.ColumnElement[bool]
) -> tuple[UserAccount, Organisation] | None:
    row = (
        await session.execute(
            sa.select(UserAccount, Organisation)
            .join(Organisation, col(Organisation.id) == col(UserAccount.organisation_id))
            .where(condition, col(UserAccount.active).is_(True), col(Organisation.active).is_(True))
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def authenticate_user(session: AsyncSession, *, username: str, password: str) -> PageUser | None:
    """The person with this name and password, or ``None`` (unknown, wrong password or inactive).

    A successful sign-in is stamped on the account; the caller commits.
    """
    found = await _active_user(session, col(UserAccount.username) == normalise_username(username))
    if found is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    user, organisation = found
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return _page_user(user, organisation)


async def get_page_user(session: AsyncSession, *, user_id: uuid.UUID) -> PageUser | None:
    """The signed-in person behind a session, or ``None`` if the account or organisation is no longer active."""
    found = await _active_user(session, col(UserAccount.id) == user_id)
    return None if found is None else _page_user(*found)
