"""Request-scoped dependencies: the database session and the authenticated caller."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.schemas import Principal
from accounts.service import authenticate

__all__ = ("Caller", "DbSession", "provide_principal", "provide_session")

DbSession = NamedDependency[AsyncSession]
"""The request's database session (``db_session``)."""
Caller = NamedDependency[Principal]
"""The authenticated caller (``principal``)."""


async def provide_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """A session for this request; whatever the handler did not commit is rolled back."""
    async with state.session_factory() as session:
        try:
            yield session
        finally:
            await session.rollback()


async def provide_principal(request: Request[Any, Any, Any], db_session: DbSession) -> Principal:
    """The organisation behind the ``Authorization: Bearer`` key, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise NotAuthorizedException("send an API key as `Authorization: Bearer <key>`")
    principal = await authenticate(db_session, key=key.strip())
    if principal is None:
        raise NotAuthorizedException("unknown or revoked API key")
    request.scope.setdefault("state", {})["organisation"] = principal.uscc
    return principal
