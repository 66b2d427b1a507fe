"""The latest known position of vehicles, read from the position table by its (plate, time) key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import LateralFromClause
from sqlmodel import col

from core.db import UTCDateTime
from tracking.models import VehiclePosition

__all__ = ("LatestPosition", "latest_positions", "newest_fix_after", "track_of")

_SQLITE_CHUNK = 500


_COLUMNS = (
    sa.column("plate", sa.String()),
    sa.column("recorded_at", UTCDateTime()),
    sa.column("latitude", sa.Float()),
    sa.column("longitude", sa.Float()),
    sa.column("speed_kmh", sa.Float()),
    sa.column("heading", sa.Float()),
)
"""The columns of the SQLite query's rows."""


class LatestPosition(msgspec.Struct, frozen=True, kw_only=True):
    """A vehicle's newest fix."""

    plate: str
    recorded_at: datetime
    latitude: float
    longitude: float
    speed_kmh: float | None
    heading: float | None


def newest_fix_after(plate: sa.ColumnExpressionArgument[Any], since: datetime) -> LateralFromClause:
    """The newest fix of the vehicle ``plate`` names after ``since``, as a ``LATERAL`` subquery (PostgreSQL only).

    Join it to a query of many vehicles so that their fixes come in the same round trip, one index probe
    each: ``query.join(fix, sa.true())`` keeps the vehicles that have a fix, ``outerjoin`` all of them.
    Its columns are those of :class:`LatestPosition` but the plate.
    """
    return (
        sa.select(
            col(VehiclePosition.recorded_at),
            col(VehiclePosition.latitude),
            col(VehiclePosition.longitude),
            col(VehiclePosition.speed_kmh),
            col(VehiclePosition.heading),
        )
        .where(col(VehiclePosition.plate) == plate, col(VehiclePosition.recorded_at) > since)
        .order_by(col(VehiclePosition.recorded_at).desc())
        .limit(1)
        .lateral("newest_fix")
    )


def _sqlite_query(count: int) -> sa.TextClause:
    # Only bind-parameter names are formatted into the text.
    names = ", ".join(f":p{i}" for i in range(count))
    return sa.text(
        f"""
        SELECT v.plate, v.recorded_at, v.latitude, v.longitude, v.speed_kmh, v.heading
        FROM vehicle_position AS v
        WHERE v.plate IN ({names})
          AND v.recorded_at = (
            SELECT max(w.recorded_at) FROM vehicle_position AS w WHERE w.plate = v.plate AND w.recorded_at > :since
          )
        """
    )


async def latest_positions(
    session: AsyncSession, *, plates: Sequence[str], since: datetime
) -> dict[str, LatestPosition]:
    """The newest fix after ``since`` of each plate that has one."""
    wanted = sorted(set(plates))
    if not wanted:
        return {}
    rows: list[sa.Row[Any]] = []
    if session.get_bind().dialect.name == "postgresql":
        # One index probe per plate into the newest fix (partitions before ``since`` are pruned).
        wanted_array = sa.cast(sa.literal(wanted), postgresql.ARRAY(sa.String()))
        wanted_plates = sa.func.unnest(wanted_array).table_valued("plate").render_derived(name="wanted")
        fix = newest_fix_after(wanted_plates.c.plate, since)
        probes = sa.select(wanted_plates.c.plate, *fix.c).select_from(wanted_plates).join(fix, sa.true())
        rows.extend((await session.execute(probes)).all())
    else:
        since_param = sa.bindparam("since", since, type_=UTCDateTime())
        for start in range(0, len(wanted), _SQLITE_CHUNK):
            chunk = wanted[start : start + _SQLITE_CHUNK]
            plates_params: list[sa.BindParameter[str]] = [sa.bindparam(f"p{i}", plate) for i, plate in enumerate(chunk)]
            statement = _sqlite_query(len(chunk)).bindparams(since_param, *plates_params).columns(*_COLUMNS)
            rows.extend((await session.execute(statement)).all())
    return {
        row.plate: LatestPosition(
            plate=row.plate,
            recorded_at=row.recorded_at,
            latitude=row.latitude,
            longitude=row.longitude,
            speed_kmh=row.speed_kmh,
            heading=row.heading,
        )
        for row in rows
    }


async def track_of(
    session: AsyncSession, *, plate: str, since: datetime, until: datetime, max_points: int = 1500
) -> list[tuple[float, float]]:
    """The vehicle's fixes between ``since`` and ``until`` as (latitude, longitude), thinned to ``max_points``."""
    rows = (
        await session.execute(
            sa.select(col(VehiclePosition.latitude), col(VehiclePosition.longitude))
            .where(
                col(VehiclePosition.plate) == plate,
                col(VehiclePosition.recorded_at) >= since,
                col(VehiclePosition.recorded_at) <= until,
            )
            .order_by(col(VehiclePosition.recorded_at))
        )
    ).all()
    points = [(float(lat), float(lon)) for lat, lon in rows]
    if len(points) <= max_points:
        return points
    step = len(points) / max_points
    thinned = [points[int(i * step)] for i in range(max_points - 1)]
    return [*thinned, points[-1]]
