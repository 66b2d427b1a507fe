"""Test fixtures: a real PostgreSQL database and a SQLite file, migrated by Alembic, and an API client.

API tests run once per backend (``backend`` is ``postgresql`` or ``sqlite``). PostgreSQL comes from
``FREIGHT_TEST_POSTGRES_URL`` (default: the local server); each test session gets its own database.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.schemas import OrganisationCreate, OrganisationRole, Principal
from api.app import create_app
from core.db import create_engine, create_session_factory
from core.migrate import upgrade_database
from core.settings import Settings, load_settings
from tests.factories import new_uscc

POSTGRES_ADMIN_URL = os.environ.get("FREIGHT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

BACKENDS = ["postgresql", "sqlite"]
TEST_SIGNING_KEY = base64.b64encode(b"freight-test-signing-key-32-byte").decode()
"""The platform's Ed25519 seed in tests (base64), so that signatures are reproducible."""


def _replace_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"freight_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _replace_database(POSTGRES_ADMIN_URL, name)
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file for this test session (the embedded default)."""
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'freight.db'}"


@pytest.fixture(scope="session")
def migrated(postgres_url: str, sqlite_url: str) -> dict[str, str]:
    """Both databases, migrated to head by Alembic (the only way the schema is made)."""
    urls = {"postgresql": postgres_url, "sqlite": sqlite_url}
    for url in urls.values():
        upgrade_database(url)
    return urls


def settings_for(url: str, **overrides: str) -> Settings:
    """Test settings: the given database, quiet access log, a fixed signing key."""
    env = {
        "FREIGHT_DATABASE_URL": url,
        "FREIGHT_ACCESS_LOG": "false",
        "FREIGHT_SIGNING_KEY": TEST_SIGNING_KEY,
        **overrides,
    }
    return load_settings(env)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database engine under test."""
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, migrated: dict[str, str]) -> str:
    """URL of the migrated database of the backend under test."""
    return migrated[backend]


@pytest.fixture(scope="session")
def app(database_url: str) -> Litestar:
    """The application on the backend under test."""
    return create_app(settings_for(database_url))


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client talking to the application in-process (lifespan included)."""
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="session")
async def session_factory(database_url: str) -> AsyncIterator[Any]:
    """Sessions of the tests' own (the app runs its own engine on its own event loop)."""
    engine = create_engine(settings_for(database_url))
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def db(session_factory: Any) -> AsyncIterator[AsyncSession]:
    """A session on the backend under test (rolled back at the end)."""
    async with session_factory() as session:
        yield session
        await session.rollback()


@dataclass(frozen=True)
class Org:
    """A test organisation and the headers that authenticate as it."""

    principal: Principal
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def uscc(self) -> str:
        return self.principal.uscc


@pytest.fixture
def make_org(session_factory: Any) -> Any:
    """Create an organisation with a role (and a fresh USCC unless given) and an API key."""

    async def make(
        role: str, *, name: str | None = None, uscc: str | None = None, places: list[str] | None = None
    ) -> Org:
        async with session_factory() as session:
            data = OrganisationCreate(
                name=name or f"测试{role}有限公司",
                role=OrganisationRole(role),
                uscc=uscc or new_uscc(),
                places=places or [],
            )
            organisation = await accounts.create_organisation(session, data=data)
            key = await accounts.issue_api_key(session, organisation_id=organisation.id, label="test")
            await session.commit()
        principal = Principal(
            organisation_id=organisation.id,
            uscc=organisation.uscc,
            name=organisation.name,
            role=organisation.role,
            api_key_id=key.id,
        )
        return Org(principal=principal, key=key.key)

    return make


@pytest.fixture
async def shipper(make_org: Any) -> Org:
    """A shipper organisation."""
    return await make_org("shipper", name="佛山顺德测试电器有限公司")
