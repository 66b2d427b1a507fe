"""Run the Alembic migrations from code (``freight db upgrade``, server start, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

__all__ = ("alembic_config", "include_in_comparison", "upgrade_database")

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(database_url: str) -> Config:
    """The Alembic configuration of this repository, pointed at ``database_url``."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(database_url), revision)


def include_in_comparison(name: str | None, type_: str, parent_names: Any) -> bool:
    """Whether autogenerate compares this object: not the day partitions made at run time."""
    from tracking.models import PARTITIONED_TABLES

    if type_ == "table" and name:
        return not any(name.startswith(f"{table}_") for table in PARTITIONED_TABLES)
    return True
