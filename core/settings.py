"""Platform settings, read once from ``FREIGHT_*`` environment variables.

Every setting is documented in ``.env.example`` at the repository root.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import msgspec

__all__ = ("Settings", "get_settings", "load_settings", "to_async_url")

DEFAULT_SQLITE_URL = f"sqlite:///{Path.cwd() / 'freight.db'}"


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Runtime configuration of the platform."""

    database_url: str = DEFAULT_SQLITE_URL
    """SQLAlchemy URL: ``postgresql://user@host/db`` in production, a SQLite file by default."""
    database_pool_size: int = 30
    """Connections kept open per server process (PostgreSQL only); up to a third as many again under bursts."""
    public_base_url: str = "http://127.0.0.1:8000"
    """Base URL printed in links and documents (verification URLs, demo output)."""
    log_level: str = "INFO"
    """Root log level: DEBUG, INFO, WARNING or ERROR."""
    log_json: bool = True
    """One JSON object a line on stdout; set false for human-readable lines in development."""
    access_log: bool = True
    """Log one line per HTTP request."""
    max_body_bytes: int = 1_048_576
    """Largest request body accepted; larger bodies answer 413."""
    auth_cache_seconds: float = 5.0
    """How long a server process trusts an API key it has checked; a key revoked through another
    process stops working within this time (at once in the process that revoked it). 0 disables."""
    signing_key: str = ""
    """The platform's Ed25519 private key as base64 of its 32-byte seed; signs every waybill's record."""
    signing_key_file: str = ""
    """A file holding the signing key (base64 seed or PKCS #8 PEM), used when ``signing_key`` is empty.
    With neither set, ``freight-signing.key`` in the working directory is used, made on first use."""
    session_secret: str = ""
    """Secret that encrypts the web pages' session cookies (any string; 32 characters or more). Empty:
    derived from the signing key, so every process of one deployment agrees on it."""
    session_cookie_secure: bool = False
    """Send the session cookie over HTTPS only (set it behind TLS)."""
    session_hours: float = 10.0
    """How long a sign-in to the web pages lasts."""
    amqp_url: str | None = None
    """RabbitMQ URL of the background-job broker, e.g. ``amqp://user:password@host:5672/%2F``: the web
    app only enqueues and ``freight worker`` runs the jobs. Unset (the embedded default): each web
    server process runs the jobs itself, in memory, and jobs still queued at shutdown are lost."""
    partner_amqp_url: str | None = None
    """RabbitMQ URL of the partner exchange (terminals, customs, the national node); defaults to
    ``amqp_url``. Used by ``freight relay``, ``freight consume`` and the simulators."""
    platform_code: str = "CN44FREIGHT"
    """Our sender code in messages to the national node and in EDIFACT interchanges."""
    partner_batch_size: int = 200
    """Messages a consumer applies in one database transaction (and its prefetch is twice this)."""
    partner_retry_ms: int = 5_000
    """How long a parked partner message waits before it is tried again (the TTL of its retry queue)."""
    partner_retention_days: int = 30
    """Days the relay keeps sent outbox rows and consumers' inbox entries before pruning them (a copy a
    partner sends again after that would be applied again)."""
    partner_max_parks: int = 12
    """Times a message whose waybill is not known yet is parked and retried before it is dead-lettered."""


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``FREIGHT_*`` variables of ``environ`` (default: the process environment)."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        raw = environ.get(f"FREIGHT_{field.name.upper()}")
        if raw is None or raw == "":
            continue
        if field.type is bool:
            values[field.name] = _env_bool(raw)
        elif field.type is int:
            values[field.name] = int(raw)
        elif field.type is float:
            values[field.name] = float(raw)
        else:
            values[field.name] = raw
    return msgspec.convert(values, Settings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own with ``load_settings``)."""
    return load_settings()


def to_async_url(url: str) -> str:
    """Map a plain database URL to its asyncio driver (asyncpg, aiosqlite)."""
    scheme, _, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    if base in {"postgresql", "postgres"}:
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError(f"unsupported database URL scheme: {scheme!r}")
