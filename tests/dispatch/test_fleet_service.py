"""The carrier's fleet becomes the planner's problem: ids, what goes in, what stays out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.examples import (
    CREATE_DISPATCH_DRIVER_EXAMPLE,
    CREATE_DISPATCH_PLACE_EXAMPLES,
    CREATE_DISPATCH_TRACTOR_EXAMPLE,
)
from dispatch import service
from dispatch.schemas import DriverCreate, MoveCreate, MoveStatus, MoveUpdate, PlaceCreate, TractorCreate, TrailerCreate
from dispatch.solver.matrix import great_circle_matrix
from dispatch.solver.problem import MoveKind, PlaceKind, Policy, Problem, Qualification, TrailerType
from tests.conftest import Org

START = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
YARD, FACTORY, TERMINAL = CREATE_DISPATCH_PLACE_EXAMPLES.values()


def at(hours: float) -> str:
    """An instant ``hours`` after the start of the plan, as the API takes it (Beijing time)."""
    return (START + timedelta(hours=hours)).astimezone(BEIJING).isoformat()


class Fleet:
    """A small fleet made through the service, as the API would."""

    def __init__(self, db: AsyncSession, org: Org) -> None:
        self.db = db
        self.org = org
        self.carrier_id = org.principal.organisation_id

    async def place(self, body: dict[str, Any], **changes: Any) -> int:
        read = await service.create_place(
            self.db, carrier_id=self.carrier_id, data=msgspec.convert({**body, **changes}, PlaceCreate)
        )
        return read.id

    async def trailer(self, plate: str, place_id: int, **changes: Any) -> int:
        body = {"plate": plate, "type": "reefer", "place_id": place_id, **changes}
        read = await service.create_trailer(
            self.db, carrier_id=self.carrier_id, data=msgspec.convert(body, TrailerCreate)
        )
        return read.id

    async def move(self, **body: Any) -> int:
        read = await service.create_move(self.db, principal=self.org.principal, data=msgspec.convert(body, MoveCreate))
        return read.id

    async def build(self) -> Fleet:
        self.yard = await self.place(YARD)
        self.factory = await self.place(FACTORY)
        self.terminal = await self.place(TERMINAL)
        driver = await service.create_driver(
            self.db, carrier_id=self.carrier_id, data=msgspec.convert(CREATE_DISPATCH_DRIVER_EXAMPLE, DriverCreate)
        )
        self.driver = driver.id
        tractor = {**CREATE_DISPATCH_TRACTOR_EXAMPLE, "home_place_id": self.yard, "driver_id": self.driver}
        self.tractor = (
            await service.create_tractor(
                self.db,
                carrier_id=self.carrier_id,
                data=msgspec.convert({**tractor, "current_place_id": self.terminal}, TractorCreate),
            )
        ).id
        self.broken_tractor = (
            await service.create_tractor(
                self.db,
                carrier_id=self.carrier_id,
                data=msgspec.convert({**tractor, "plate": "粤S99999", "out_of_service": True}, TractorCreate),
            )
        ).id
        self.reefer = await self.trailer("粤S1234挂", self.factory, loaded=True)
        self.broken_reefer = await self.trailer("粤S1235挂", self.yard, out_of_service=True)
        return self


@pytest.fixture
async def carriers(make_org: Any) -> tuple[Org, Org]:
    """Two carriers, made before the test's session writes (SQLite has one writer at a time)."""
    return (
        await make_org("carrier", name="佛山顺通甩挂运输有限公司"),
        await make_org("carrier", name="东莞虎门港物流有限公司"),
    )


@pytest.fixture
async def fleet(db: AsyncSession, carriers: tuple[Org, Org]) -> Fleet:
    return await Fleet(db, carriers[0]).build()


async def test_the_fleet_becomes_a_problem_with_database_ids_as_strings(db: AsyncSession, fleet: Fleet) -> None:
    haul = await fleet.move(
        kind="haul",
        trailer_id=fleet.reefer,
        origin_id=fleet.factory,
        destination_id=fleet.terminal,
        ready_at=at(1),
        deliver_by=at(4),
        cutoff=at(5),
        hazmat=True,
    )

    problem = await service.build_problem(db, carrier_id=fleet.carrier_id, start=START, horizon_hours=12)

    assert problem.start == START
    assert problem.horizon_hours == 12
    assert problem.policy == Policy()
    assert [p.id for p in problem.places] == [str(fleet.yard), str(fleet.factory), str(fleet.terminal)]
    terminal = problem.places[2]
    assert (terminal.name, terminal.kind) == (TERMINAL["name"], PlaceKind.PORT_TERMINAL)
    assert (terminal.latitude, terminal.longitude) == (TERMINAL["latitude"], TERMINAL["longitude"])
    factory = problem.places[1]
    assert [(w.open, w.close) for w in factory.opening_hours] == [("07:30", "12:00"), ("13:00", "21:00")]

    (driver,) = problem.drivers
    assert driver.id == str(fleet.driver)
    assert driver.qualifications == frozenset({Qualification.HAZMAT_DRIVER})
    assert driver.shift_start == datetime(2026, 12, 2, 22, 0, tzinfo=UTC)
    assert driver.driven_minutes_last_24h == 95

    (tractor,) = problem.tractors
    assert tractor.id == str(fleet.tractor)
    assert (tractor.home_place_id, tractor.start_place_id) == (str(fleet.yard), str(fleet.terminal))
    assert tractor.driver_id == str(fleet.driver)
    assert tractor.escort_id is None
    assert tractor.plate == "粤S12345"
    assert tractor.hazmat_approved is True

    trailers = {t.id: t for t in problem.trailers}
    assert trailers[str(fleet.reefer)].loaded is True
    assert trailers[str(fleet.reefer)].type is TrailerType.REEFER
    assert trailers[str(fleet.reefer)].place_id == str(fleet.factory)
    assert trailers[str(fleet.broken_reefer)].out_of_service is True

    (move,) = problem.moves
    assert move.id == str(haul)
    assert move.kind is MoveKind.HAUL
    assert (move.trailer_id, move.origin_id, move.destination_id) == (
        str(fleet.reefer),
        str(fleet.factory),
        str(fleet.terminal),
    )
    assert (move.ready_at, move.deliver_by, move.cutoff) == (
        START + timedelta(hours=1),
        START + timedelta(hours=4),
        START + timedelta(hours=5),
    )
    assert move.hazmat is True


async def test_the_problem_passes_the_planners_own_validation(db: AsyncSession, fleet: Fleet) -> None:
    await fleet.move(kind="position", trailer_type="reefer", destination_id=fleet.factory, ready_at=at(0))

    problem = await service.build_problem(db, carrier_id=fleet.carrier_id, start=START)

    again = msgspec.convert(msgspec.to_builtins(problem), Problem)
    assert again == problem
    matrix = great_circle_matrix(problem.places)
    assert matrix.place_ids == tuple(p.id for p in problem.places)


async def test_only_open_moves_hookable_within_the_horizon_are_planned(db: AsyncSession, fleet: Fleet) -> None:
    common = {"kind": "haul", "trailer_id": fleet.reefer, "origin_id": fleet.factory, "destination_id": fleet.terminal}
    open_now = await fleet.move(**common, ready_at=at(2))
    open_unscheduled = await fleet.move(**common)
    await fleet.move(**common, ready_at=at(30))
    for status in ("planned", "in_progress", "done", "cancelled"):
        await fleet.move(**common, ready_at=at(2), status=status)

    problem = await service.build_problem(db, carrier_id=fleet.carrier_id, start=START, horizon_hours=24)

    assert [m.id for m in problem.moves] == [str(open_now), str(open_unscheduled)]


async def test_a_move_brings_the_open_move_it_follows_even_beyond_the_horizon(db: AsyncSession, fleet: Fleet) -> None:
    position = await fleet.move(kind="position", trailer_type="reefer", destination_id=fleet.factory, ready_at=at(30))
    collect = await fleet.move(
        kind="collect", after_move_id=position, loading_minutes=90, destination_id=fleet.terminal, ready_at=at(1)
    )

    problem = await service.build_problem(db, carrier_id=fleet.carrier_id, start=START)

    moves = {m.id: m for m in problem.moves}
    assert set(moves) == {str(position), str(collect)}
    assert moves[str(collect)].after_move == str(position)
    assert moves[str(collect)].loading_minutes == 90
    assert moves[str(collect)].origin_id is None
    assert moves[str(position)].trailer_type is TrailerType.REEFER


async def test_a_move_after_one_already_under_way_starts_where_that_one_ends(db: AsyncSession, fleet: Fleet) -> None:
    haul = await fleet.move(
        kind="haul", trailer_id=fleet.reefer, origin_id=fleet.factory, destination_id=fleet.terminal, ready_at=at(0)
    )
    onward = await fleet.move(kind="collect", after_move_id=haul, destination_id=fleet.yard, ready_at=at(3))
    await service.update_move(
        db, principal=fleet.org.principal, move_id=haul, update=MoveUpdate(status=MoveStatus.IN_PROGRESS)
    )

    problem = await service.build_problem(db, carrier_id=fleet.carrier_id, start=START)

    (move,) = problem.moves
    assert move.id == str(onward)
    assert move.after_move is None
    assert (move.origin_id, move.trailer_id) == (str(fleet.terminal), str(fleet.reefer))


async def test_another_carriers_fleet_stays_out(db: AsyncSession, fleet: Fleet, carriers: tuple[Org, Org]) -> None:
    other = await Fleet(db, carriers[1]).build()
    await other.move(kind="position", trailer_type="reefer", destination_id=other.factory)

    problem = await service.build_problem(db, carrier_id=fleet.carrier_id, start=START)

    assert {p.id for p in problem.places} == {str(fleet.yard), str(fleet.factory), str(fleet.terminal)}
    assert [t.id for t in problem.tractors] == [str(fleet.tractor)]
    assert {t.id for t in problem.trailers} == {str(fleet.reefer), str(fleet.broken_reefer)}
    assert problem.moves == ()


async def test_a_policy_is_passed_through(db: AsyncSession, fleet: Fleet) -> None:
    policy = Policy(hook_minutes=10, return_home=False)
    problem = await service.build_problem(db, carrier_id=fleet.carrier_id, start=START, policy=policy)
    assert problem.policy is policy


@pytest.mark.parametrize(
    ("start", "horizon_hours"),
    [(datetime(2026, 12, 3, 6, 0), 24), (START, 0), (START, 73)],
)
async def test_a_naive_start_or_impossible_horizon_is_refused(
    db: AsyncSession, fleet: Fleet, start: datetime, horizon_hours: float
) -> None:
    with pytest.raises(ValueError):
        await service.build_problem(db, carrier_id=fleet.carrier_id, start=start, horizon_hours=horizon_hours)
