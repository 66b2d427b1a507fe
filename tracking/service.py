"""Storing positions: one statement a batch, into the day's partition (made on first use)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from core.db import utcnow
from core.errors import RuleViolationError
from tracking.models import VehiclePosition
from tracking.schemas import PositionReceipt, PositionReport

__all__ = ("FUTURE_TOLERANCE", "MAX_AGE", "ensure_partitions", "partition_name", "record_positions", "store_positions")

_log = structlog.get_logger("tracking.service")

FUTURE_TOLERANCE = timedelta(minutes=5)
"""Clock skew allowed for a fix's time."""
MAX_AGE = timedelta(days=7)
"""Fixes older than this are refused over HTTP (a device's backlog is uploaded within days)."""

_ensured: set[date] = set()
_ensured_lock = threading.Lock()


def partition_name(day: date) -> str:
    """The name of a day's partition of ``vehicle_position``."""
    return f"vehicle_position_{day:%Y%m%d}"


async def ensure_partitions(session: AsyncSession, days: Iterable[date]) -> None:
    """Make sure each day has its partition (PostgreSQL; nothing to do on SQLite).

    Partitions are made in a transaction of their own, so the ingest transaction holds no lock on the
    parent table. A day that cannot get its partition (its rows already sit in the default partition)
    is logged and left there.
    """
    bind = session.bind
    if bind is None or bind.dialect.name != "postgresql":
        return
    with _ensured_lock:
        missing = sorted(set(days) - _ensured)
    for day in missing:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        statement = sa.text(
            f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF vehicle_position "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{(start + timedelta(days=1)).isoformat()}')"
        )
        try:
            if isinstance(bind, AsyncEngine):
                async with bind.begin() as connection:
                    await connection.execute(statement)
            else:
                async with session.begin_nested():
                    await session.execute(statement)
        except DBAPIError as exc:
            _log.warning("position_partition_not_made", day=day.isoformat(), error=str(exc.orig)[:300])
        with _ensured_lock:
            _ensured.add(day)


async def store_positions(session: AsyncSession, reports: Sequence[PositionReport], *, source: str) -> int:
    """Insert fixes in one statement, skipping one already stored for the same vehicle and time.

    Returns how many were new.
    """
    if not reports:
        return 0
    await ensure_partitions(session, {r.time.astimezone(UTC).date() for r in reports})
    now = utcnow()
    rows = [
        {
            "plate": r.plate,
            "recorded_at": r.time,
            "latitude": r.lat,
            "longitude": r.lon,
            "speed_kmh": r.speed,
            "heading": r.heading,
            "source": source,
            "received_at": now,
        }
        for r in reports
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # executemany: SQLAlchemy batches the rows into multi-row INSERTs without compiling one per batch size
    statement = insert(VehiclePosition).on_conflict_do_nothing().returning(col(VehiclePosition.plate))
    return len(list(await session.scalars(statement, rows)))


def _check_times(reports: Sequence[PositionReport], now: datetime) -> None:
    for index, report in enumerate(reports):
        if report.time > now + FUTURE_TOLERANCE:
            raise RuleViolationError("a position cannot be in the future", field=f"positions[{index}].time")
        if report.time < now - MAX_AGE:
            raise RuleViolationError("a position older than 7 days is not taken", field=f"positions[{index}].time")


async def record_positions(
    session: AsyncSession, reports: Sequence[PositionReport], *, reporter_uscc: str, now: datetime | None = None
) -> PositionReceipt:
    """Check and store a batch reported over HTTP by an organisation's GNSS platform."""
    _check_times(reports, now or utcnow())
    stored = await store_positions(session, reports, source=f"api:{reporter_uscc}")
    return PositionReceipt(received=len(reports), stored=stored)
