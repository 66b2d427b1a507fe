"""The ``freight`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.factories import new_uscc

ROOT = Path(__file__).resolve().parents[1]


def freight(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FREIGHT_DATABASE_URL": database_url, "FREIGHT_LOG_JSON": "false"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_orgs_create_prints_a_working_key_as_the_last_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = freight(
        "orgs",
        "create",
        "--name",
        "佛山顺通甩挂运输有限公司",
        "--role",
        "carrier",
        "--uscc",
        new_uscc(),
        database_url=url,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("fk_")

    import asyncio

    from accounts.service import authenticate
    from core.db import create_engine, create_session_factory
    from tests.conftest import settings_for

    async def who() -> str | None:
        engine = create_engine(settings_for(url))
        async with create_session_factory(engine)() as session:
            principal = await authenticate(session, key=key)
        await engine.dispose()
        return None if principal is None else principal.role.value

    assert asyncio.run(who()) == "carrier"


def test_orgs_create_refuses_an_invalid_uscc(tmp_path: Path) -> None:
    result = freight(
        "orgs",
        "create",
        "--name",
        "X",
        "--role",
        "shipper",
        "--uscc",
        "91440606MA4W8K2L70",
        database_url=f"sqlite:///{tmp_path / 'cli.db'}",
    )
    assert result.returncode != 0
    assert "check character" in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = freight("db", "upgrade", database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    assert result.returncode == 0, result.stderr
    assert "head" in result.stdout


def test_demo_seeds_a_dozen_waybills_and_prints_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = freight("demo", "--no-serve", database_url=url)
    assert result.returncode == 0, result.stderr
    roles = [line.split()[0] for line in result.stdout.splitlines() if " fk_" in line and "curl" not in line]
    assert sorted(roles) == sorted(["shipper", "carrier", "carrier", "port", "customs", "regulator", "admin"])

    import sqlite3

    with sqlite3.connect(tmp_path / "demo.db") as connection:
        statuses = dict(connection.execute("select status, count(*) from waybill group by status").fetchall())
    assert sum(statuses.values()) == 12 + 6  # and the six dangerous-goods shipments under way
    assert {"draft", "issued", "in_transit", "delivered", "cancelled"} <= statuses.keys()

    again = freight("demo", "--no-serve", database_url=url)
    assert again.returncode == 0
    with sqlite3.connect(tmp_path / "demo.db") as connection:
        assert connection.execute("select count(*) from waybill").fetchone()[0] == 12 + 6


def test_monitor_run_once_reports_what_it_evaluated(tmp_path: Path) -> None:
    result = freight("monitor", "run", "--once", database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "evaluated 0 vehicles: 0 alerts, 0 new, 0 updated"
