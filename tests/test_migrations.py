"""The Alembic migrations and the SQLModel tables describe the same schema."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import core.models  # noqa: F401  (registers every table)
from core.db import create_engine
from core.migrate import alembic_config, include_in_comparison, upgrade_database
from tests.conftest import POSTGRES_ADMIN_URL, settings_for


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_in_comparison})
    return list(compare_metadata(context, SQLModel.metadata))


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_autogenerate_finds_no_difference(migrated: dict[str, str], backend: str) -> None:
    engine = create_engine(settings_for(migrated[backend]))
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []


async def test_migrations_go_down_to_nothing_and_up_again_on_postgresql() -> None:
    name = f"freight_migrate_{uuid.uuid4().hex[:8]}"
    admin_dsn = POSTGRES_ADMIN_URL
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = admin_dsn.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade_database(url)
        command.downgrade(alembic_config(url), "base")
        upgrade_database(url)
        engine = create_engine(settings_for(url))
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
        await engine.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
