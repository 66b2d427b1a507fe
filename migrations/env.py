"""Alembic environment: runs migrations through the platform's own async engine."""

from __future__ import annotations

import asyncio
import concurrent.futures

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers every table on SQLModel.metadata)
from core.db import create_engine
from core.migrate import include_in_comparison
from core.settings import load_settings

target_metadata = SQLModel.metadata


def _database_url() -> str:
    configured = context.config.attributes.get("database_url")
    return configured or load_settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_in_comparison,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_engine(load_settings({"FREIGHT_DATABASE_URL": url}))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Run against a live connection; a connection passed in by the caller is used as it is."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = _database_url()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_async(url))
        return
    # Called from async code (a test, a server start-up hook): migrate on a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _run_async(url)).result()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `freight db upgrade`")
run_migrations_online()
