"""Options shared by the ``freight`` command's subcommands, wherever they are defined."""

from __future__ import annotations

import os

import click

from core.settings import get_settings

__all__ = ("database_option", "set_database")


def set_database(database_url: str | None) -> None:
    """Point this process's settings at ``database_url`` (when given)."""
    if database_url:
        os.environ["FREIGHT_DATABASE_URL"] = database_url
        get_settings.cache_clear()


database_option = click.option(
    "--database-url",
    envvar="FREIGHT_DATABASE_URL",
    default=None,
    help="Database URL (default: FREIGHT_DATABASE_URL, else ./freight.db).",
)
