"""A generated day stored as a carrier's fleet reads back as the same day, in rows the API accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from dispatch.demo_day import chinese_place_name, demo_day_start, store_day
from dispatch.models import DispatchDriver, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.schemas import DriverCreate, TractorCreate, TrailerCreate
from dispatch.service import build_problem
from dispatch.solver.generator import generate_day
from dispatch.solver.problem import Problem

BEIJING = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 4, 0, tzinfo=BEIJING)


@pytest.fixture
async def stored(db: AsyncSession, make_org: Any) -> tuple[Any, Problem, dict[str, int]]:
    carrier = await make_org("carrier", name="佛山顺通甩挂运输有限公司")
    day = generate_day(tractors=12, moves=40, seed=7, start=START)
    counts = await store_day(db, carrier_id=carrier.principal.organisation_id, problem=day)
    return carrier, day, counts


async def test_the_stored_day_builds_back_into_a_problem_of_the_same_size(
    db: AsyncSession, stored: tuple[Any, Problem, dict[str, int]]
) -> None:
    carrier, day, counts = stored

    problem = await build_problem(db, carrier_id=carrier.principal.organisation_id, start=day.start)

    assert counts == {
        "places": len(day.places),
        "drivers": len(day.drivers),
        "tractors": len(day.tractors),
        "trailers": len(day.trailers),
        "moves": len(day.moves),
    }
    assert [len(problem.places), len(problem.drivers), len(problem.tractors)] == [
        counts["places"],
        counts["drivers"],
        counts["tractors"],
    ]
    assert [len(problem.trailers), len(problem.moves)] == [counts["trailers"], counts["moves"]]
    assert msgspec.convert(msgspec.to_builtins(problem), Problem) == problem


async def test_the_stored_day_keeps_codes_links_and_times(
    db: AsyncSession, stored: tuple[Any, Problem, dict[str, int]]
) -> None:
    carrier, day, _ = stored

    problem = await build_problem(db, carrier_id=carrier.principal.organisation_id, start=day.start)

    rows = await db.execute(
        sa.select(col(DispatchPlace.id), col(DispatchPlace.code)).where(
            col(DispatchPlace.carrier_id) == carrier.principal.organisation_id
        )
    )
    codes = {place_id: code for place_id, code in rows}
    assert sorted(codes.values()) == sorted(place.id for place in day.places)
    built_ids = [move.id for move in problem.moves]
    by_generated = dict(zip([move.id for move in day.moves], built_ids, strict=True))
    for generated, built in zip(day.moves, problem.moves, strict=True):
        assert (built.kind, built.deliver_by, built.cutoff, built.hazmat) == (
            generated.kind,
            generated.deliver_by,
            generated.cutoff,
            generated.hazmat,
        )
        assert codes[int(built.destination_id)] == generated.destination_id
        assert built.after_move == (by_generated[generated.after_move] if generated.after_move else None)
    assert any(move.after_move for move in problem.moves)


async def test_stored_vehicles_and_crews_pass_the_api_schemas(
    db: AsyncSession, stored: tuple[Any, Problem, dict[str, int]]
) -> None:
    carrier, _, _ = stored
    carrier_id = carrier.principal.organisation_id

    def of_carrier(model: Any) -> Any:
        return sa.select(model).where(col(model.carrier_id) == carrier_id)

    for tractor in await db.scalars(of_carrier(DispatchTractor)):
        msgspec.convert({"plate": tractor.plate, "home_place_id": tractor.home_place_id}, TractorCreate)
    trailers = list(await db.scalars(of_carrier(DispatchTrailer)))
    for trailer in trailers:
        msgspec.convert({"plate": trailer.plate, "type": trailer.type, "place_id": trailer.place_id}, TrailerCreate)
    assert len({trailer.plate for trailer in trailers}) == len(trailers)
    for driver in await db.scalars(of_carrier(DispatchDriver)):
        body = {
            "name": driver.name,
            "phone": driver.phone,
            "shift_start": driver.shift_start.isoformat(),
            "shift_end": driver.shift_end.isoformat(),
            "qualifications": driver.qualifications,
        }
        msgspec.convert(body, DriverCreate)


def test_places_get_chinese_names() -> None:
    day = generate_day(tractors=2, moves=5, seed=1, start=START)
    names = {place.id: chinese_place_name(place) for place in day.places}

    assert names["port-shekou"] == "蛇口集装箱码头"
    assert all(not any("a" <= ch <= "z" for ch in name) for name in names.values()), names


@pytest.mark.parametrize(
    ("local_now", "start"),
    [
        (datetime(2026, 11, 23, 8, 42, tzinfo=BEIJING), datetime(2026, 11, 23, 4, 0, tzinfo=BEIJING)),
        (datetime(2026, 11, 23, 11, 42, tzinfo=BEIJING), datetime(2026, 11, 23, 11, 0, tzinfo=BEIJING)),
        (datetime(2026, 11, 23, 19, 5, tzinfo=BEIJING), datetime(2026, 11, 24, 4, 0, tzinfo=BEIJING)),
    ],
)
def test_the_demo_day_starts_at_four_or_the_current_hour_or_tomorrow(local_now: datetime, start: datetime) -> None:
    assert demo_day_start(local_now.astimezone(UTC)) == start
