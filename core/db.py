"""Database engine, sessions and the column types shared by every domain package."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from core.settings import Settings, to_async_url

__all__ = (
    "IntPK",
    "JSONDocument",
    "UTCDateTime",
    "as_utc",
    "create_engine",
    "create_session_factory",
    "utc_builtins",
    "utcnow",
)


# Deterministic constraint names, so that migrations name the same things on PostgreSQL and SQLite.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

IntPK: sa.types.TypeEngine[int] = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""A surrogate key: ``bigint`` on PostgreSQL, SQLite's ``INTEGER PRIMARY KEY`` rowid alias."""


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` moved to UTC (``None`` stays ``None``)."""
    return None if value is None else value.astimezone(UTC)


def utc_builtins(value: Any) -> Any:
    """JSON-ready builtins of a msgspec value, with every timestamp moved to UTC.

    Documents are stored this way, so a stored document reads back exactly as the API shows it.
    """
    return _times_to_utc(msgspec.to_builtins(value, builtin_types=(datetime,)))


def _times_to_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _times_to_utc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_times_to_utc(v) for v in value]
    return value


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is stored as naive UTC
    and the zone is put back on read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the platform stores only timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDocument: sa.types.TypeEngine[Any] = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""A JSON column: ``jsonb`` on PostgreSQL, JSON text on SQLite."""


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the asyncio engine for the configured database."""
    url = to_async_url(settings.database_url)
    json_codec: dict[str, Any] = {"json_serializer": _encode_json, "json_deserializer": msgspec.json.decode}
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **json_codec)
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs three round trips per checkout; a connection found broken is
    # invalidated by SQLAlchemy and the request fails cleanly instead.
    return create_async_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size // 3,
        pool_recycle=1800,
        **json_codec,
    )


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, enforced foreign keys, and a busy timeout for writers."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session and roll back whatever the caller did not commit."""
    async with factory() as session:
        try:
            yield session
        finally:
            await session.rollback()
