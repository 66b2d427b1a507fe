"""Request-scoped dependencies: the database session and the authenticated caller."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.schemas import Principal
from accounts.service import authenticate, key_digest

__all__ = ("Caller", "DbSession", "PrincipalCache", "provide_principal", "provide_session")

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


class PrincipalCache:
    """API keys this process has checked recently, by digest, each trusted for ``ttl_s`` seconds.

    Checking a key costs a database round trip per request; keys are revoked rarely. A key revoked
    in this process is forgotten at once, one revoked through another process within ``ttl_s``.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, digest: str) -> Principal | None:
        """The cached caller of a key digest, if still fresh."""
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(digest, None)
            return None
        return entry[1]

    def put(self, digest: str, principal: Principal) -> None:
        """Remember a checked key (nothing, if the cache is disabled)."""
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self.ttl_s, principal)

    def forget_key(self, key_id: uuid.UUID) -> None:
        """Drop a revoked key."""
        for digest in [d for d, (_, p) in self._entries.items() if p.api_key_id == key_id]:
            del self._entries[digest]


async def provide_principal(request: Request[Any, Any, Any], db_session: DbSession) -> Principal:
    """The organisation behind the ``Authorization: Bearer`` key, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise NotAuthorizedException("send an API key as `Authorization: Bearer <key>`")
    cache: PrincipalCache = request.app.state.principal_cache
    digest = key_digest(key)
    principal = cache.get(digest)
    if principal is None:
        principal = await authenticate(db_session, key=key)
        # End the read here, so that the handler's writes start from a clean connection.
        await db_session.rollback()
        if principal is None:
            raise NotAuthorizedException("unknown or revoked API key")
        cache.put(digest, principal)
    request.scope.setdefault("state", {})["organisation"] = principal.uscc
    return principal
