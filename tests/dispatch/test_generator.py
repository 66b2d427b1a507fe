"""Generated Pearl River Delta days: deterministic, of the asked size and shares, and self-consistent."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

import msgspec
import pytest

from dispatch.solver.generator import generate_day
from dispatch.solver.problem import MoveKind, PlaceKind, Problem, Qualification, TrailerType


@pytest.fixture(scope="module")
def day() -> Problem:
    return generate_day(tractors=60, moves=400, seed=7)


def test_the_same_seed_gives_the_same_day() -> None:
    first = msgspec.json.encode(generate_day(tractors=10, moves=40, seed=3))
    assert msgspec.json.encode(generate_day(tractors=10, moves=40, seed=3)) == first
    assert msgspec.json.encode(generate_day(tractors=10, moves=40, seed=4)) != first


def test_the_day_has_the_asked_fleet_and_moves(day: Problem) -> None:
    assert len(day.tractors) == 60
    assert len(day.moves) == 400
    assert len({move.id for move in day.moves}) == 400
    assert len(day.trailers) >= 60 * 2.5


def test_moves_are_a_quarter_positions_mostly_collected_and_a_fifth_inbound(day: Problem) -> None:
    kinds = Counter(move.kind for move in day.moves)
    terminals = {place.id for place in day.places if place.kind is not PlaceKind.SHIPPER}
    inbound = sum(move.kind is MoveKind.HAUL and move.origin_id in terminals for move in day.moves)
    assert kinds[MoveKind.POSITION] == 100
    assert kinds[MoveKind.COLLECT] == 80
    assert inbound == 80
    assert kinds[MoveKind.HAUL] + kinds[MoveKind.COLLECT] - inbound == pytest.approx(0.55 * 400, abs=1)


def test_reefer_and_hazmat_shares_are_near_the_asked_ones(day: Problem) -> None:
    reefer = sum(move.trailer_type is TrailerType.REEFER for move in day.moves) / len(day.moves)
    hazmat = sum(move.hazmat for move in day.moves) / len(day.moves)
    assert reefer == pytest.approx(0.15, abs=0.05)
    assert hazmat == pytest.approx(0.08, abs=0.04)


def test_places_are_real_delta_sites_with_terminals_and_30_to_80_shippers(day: Problem) -> None:
    kinds = Counter(place.kind for place in day.places)
    assert 30 <= kinds[PlaceKind.SHIPPER] <= 80
    assert kinds[PlaceKind.YARD] == 5
    assert kinds[PlaceKind.PORT_TERMINAL] == 4
    assert kinds[PlaceKind.RAIL_TERMINAL] >= 2
    assert kinds[PlaceKind.RORO_BERTH] == 1
    assert all(21.9 < place.latitude < 23.6 and 112.6 < place.longitude < 114.8 for place in day.places)


def test_every_reference_points_at_something_in_the_day(day: Problem) -> None:
    places = {place.id for place in day.places}
    trailers = {trailer.id: trailer for trailer in day.trailers}
    drivers = {driver.id for driver in day.drivers}
    moves = {move.id: move for move in day.moves}
    for tractor in day.tractors:
        assert tractor.home_place_id in places
        assert tractor.start_place_id in places | {None}
        assert tractor.driver_id in drivers
        assert tractor.escort_id in drivers | {None}
    for trailer in day.trailers:
        assert trailer.place_id in places
    for move in day.moves:
        assert move.destination_id in places
        assert move.origin_id in places | {None}
        if move.kind is MoveKind.HAUL:
            assert move.trailer_id is not None
            assert trailers[move.trailer_id].place_id == move.origin_id
            assert trailers[move.trailer_id].loaded
        if move.kind is MoveKind.POSITION:
            assert move.trailer_type is not None
        if move.kind is MoveKind.COLLECT:
            assert move.after_move is not None
            assert moves[move.after_move].kind is MoveKind.POSITION
            assert moves[move.after_move].destination_id == move.origin_id
            assert 60 <= move.loading_minutes <= 180


def test_hazmat_units_have_a_certified_driver_and_escort(day: Problem) -> None:
    people = {driver.id: driver for driver in day.drivers}
    hazmat_units = [tractor for tractor in day.tractors if tractor.hazmat_approved]
    assert len(hazmat_units) == pytest.approx(0.15 * 60, abs=1)
    for tractor in hazmat_units:
        assert Qualification.HAZMAT_DRIVER in people[str(tractor.driver_id)].qualifications
        assert Qualification.HAZMAT_ESCORT in people[str(tractor.escort_id)].qualifications
    hazmat_loads = [trailer for trailer in day.trailers if trailer.loaded and trailer.type is TrailerType.TANK]
    assert all(trailer.hazmat_approved for trailer in hazmat_loads)


def test_position_moves_find_enough_empty_trailers_of_their_type(day: Problem) -> None:
    wanted = Counter((move.trailer_type, move.hazmat) for move in day.moves if move.kind is MoveKind.POSITION)
    for (trailer_type, hazmat), count in wanted.items():
        empties = [
            trailer
            for trailer in day.trailers
            if trailer.type is trailer_type and not trailer.loaded and (trailer.hazmat_approved or not hazmat)
        ]
        assert len(empties) >= count


def test_times_are_utc_and_windows_are_in_order(day: Problem) -> None:
    assert day.start.utcoffset() == timedelta(0)
    end = day.start + timedelta(hours=day.horizon_hours)
    for move in day.moves:
        for moment in (move.ready_at, move.deliver_by, move.cutoff):
            assert moment is None or moment.tzinfo is UTC
        if move.ready_at is not None and move.deliver_by is not None:
            assert move.ready_at < move.deliver_by <= end
        if move.cutoff is not None and move.deliver_by is not None:
            assert move.deliver_by < move.cutoff
    for driver in day.drivers:
        assert driver.shift_start < driver.shift_end
        assert driver.driven_minutes_last_24h <= 120


def test_a_day_needs_at_least_one_tractor_and_one_move() -> None:
    with pytest.raises(ValueError, match="at least one tractor"):
        generate_day(tractors=0, moves=10)
