"""A generated drop-and-hook day stored as a carrier's fleet: the demo's dispatch data.

``store_day`` writes a ``Problem`` from ``dispatch.solver.generator.generate_day`` as the carrier's
rows: places (codes kept, names in Chinese), drivers with phones and certificate numbers, tractors,
trailers (plates made to pass the schema's plate rules) and open moves, the problem's string ids
mapped to the new database ids. ``demo_day_start`` chooses when the demo's day starts.

Rows are inserted directly (not through ``dispatch.service``) so that a day of hundreds of rows
stores in a fraction of a second; the values satisfy the same schemas, which the tests check.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import as_utc
from core.identifiers import validate_vehicle_plate
from dispatch.models import DispatchDriver, DispatchMove, DispatchPlace, DispatchTractor, DispatchTrailer
from dispatch.solver.problem import Driver, Move, Place, Problem, Tractor, Trailer

__all__ = ("PLACE_LOCODES", "PLACE_NAMES", "chinese_place_name", "demo_day_start", "store_day")

LOCAL_TIME = ZoneInfo("Asia/Shanghai")
RowT = TypeVar("RowT", DispatchPlace, DispatchDriver, DispatchTractor, DispatchTrailer, DispatchMove)

PLACE_NAMES: dict[str, str] = {
    "yard-humen": "东莞虎门甩挂堆场",
    "yard-shunde": "佛山顺德甩挂堆场",
    "yard-huangpu": "广州黄埔甩挂堆场",
    "yard-pingshan": "深圳坪山甩挂堆场",
    "yard-zhongshan": "中山火炬甩挂堆场",
    "port-nansha": "南沙港区集装箱码头",
    "port-shekou": "蛇口集装箱码头",
    "port-yantian": "盐田国际集装箱码头",
    "port-huangpu": "黄埔新沙港区码头",
    "rail-dalang": "广州大朗铁路集装箱中心站",
    "rail-gz-intl": "广州国际港铁路场站",
    "rail-pinghu": "平湖南铁路场站",
    "roro-nansha": "南沙汽车码头滚装泊位",
}
"""Chinese names of the generator's yards and terminals, by code."""

PLACE_LOCODES: dict[str, str] = {
    "port-nansha": "CNNSA",
    "port-shekou": "CNSHK",
    "port-yantian": "CNYTN",
    "rail-dalang": "CNCAN",
}
"""UN/LOCODEs of the terminals the demo's waybills name, so waybill legs find them."""

_CITIES = {
    "Dongguan": "东莞",
    "Foshan": "佛山",
    "Guangzhou": "广州",
    "Huizhou": "惠州",
    "Jiangmen": "江门",
    "Shenzhen": "深圳",
    "Zhongshan": "中山",
    "Zhuhai": "珠海",
}
_PRODUCTS = {
    "electronics": "电子",
    "furniture": "家具",
    "appliances": "家电",
    "textiles": "纺织",
    "plastics": "塑料",
    "hardware": "五金",
    "lighting": "灯饰",
    "toys": "玩具",
    "food": "食品",
    "chemicals": "化工",
}
_SHIPPER_NAME = re.compile(r"^(\w+) .*\((.+)\) (\w+) factory (\d+)$")
_PLATE_BODY = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def demo_day_start(now: datetime) -> datetime:
    """When the demo's generated day starts, given the time the demo is seeded.

    Before 10:00 Beijing time: 04:00 today. From 10:00 to noon: ``now`` rounded down to the hour
    (the moves lie ahead). From noon on: 04:00 tomorrow, because the generator puts most moves and
    shifts between 06:00 and 18:00 local, so a day started in the afternoon would mostly lie in the
    past and plan poorly (start 15:00: 83 of 150 moves planned, 18:00: 35).
    """
    local = now.astimezone(LOCAL_TIME)
    four_am = local.replace(hour=4, minute=0, second=0, microsecond=0)
    if local.hour < 10:
        return four_am
    if local.hour < 12:
        return local.replace(minute=0, second=0, microsecond=0)
    return four_am + timedelta(days=1)


async def store_day(session: AsyncSession, *, carrier_id: uuid.UUID, problem: Problem) -> dict[str, int]:
    """Insert the problem's places, drivers, tractors, trailers and moves as the carrier's rows.

    The carrier must not have places with the problem's codes or vehicles with its plates yet.
    Does not commit. Returns how many rows of each kind were made (``places``, ``drivers``,
    ``tractors``, ``trailers``, ``moves``).
    """
    rng = random.Random(str(carrier_id))
    places = await _insert(session, {p.id: _place_row(carrier_id, p) for p in problem.places})
    drivers = await _insert(session, {d.id: _driver_row(carrier_id, d, rng) for d in problem.drivers})
    tractors = await _insert(session, {t.id: _tractor_row(carrier_id, t, places, drivers) for t in problem.tractors})
    plates = _trailer_plates(problem.trailers)
    trailers = await _insert(
        session, {t.id: _trailer_row(carrier_id, t, plates[t.id], places) for t in problem.trailers}
    )
    moves = await _insert(session, {m.id: _move_row(carrier_id, m, places, trailers) for m in problem.moves})
    for move in problem.moves:
        if move.after_move is not None:
            moves[move.id].after_move_id = moves[move.after_move].id
    await session.flush()
    return {
        "places": len(places),
        "drivers": len(drivers),
        "tractors": len(tractors),
        "trailers": len(trailers),
        "moves": len(moves),
    }


async def _insert(session: AsyncSession, rows: dict[str, RowT]) -> dict[str, RowT]:
    """Add the rows and flush, so that each has its id; keyed by the problem's id."""
    session.add_all(rows.values())
    await session.flush()
    return rows


def _id(row: DispatchPlace | DispatchDriver | DispatchTrailer) -> int:
    assert row.id is not None
    return row.id


# --- places ---------------------------------------------------------------------------------------


def chinese_place_name(place: Place) -> str:
    """The place's Chinese name: from ``PLACE_NAMES``, else made from a generated shipper's name."""
    if place.id in PLACE_NAMES:
        return PLACE_NAMES[place.id]
    match = _SHIPPER_NAME.match(place.name)
    if match is None:
        return place.name
    city, town, product, number = match.groups()
    town = town.removesuffix("石化区").removesuffix("化工区")
    return f"{_CITIES.get(city, '')}{town}{_PRODUCTS.get(product, '')}厂 {int(number)} 号"


def _place_row(carrier_id: uuid.UUID, place: Place) -> DispatchPlace:
    return DispatchPlace(
        carrier_id=carrier_id,
        code=place.id,
        name=chinese_place_name(place),
        kind=place.kind.value,
        latitude=place.latitude,
        longitude=place.longitude,
        locode=PLACE_LOCODES.get(place.id),
        opening_hours=[{"open": w.open, "close": w.close} for w in place.opening_hours],
    )


# --- crews and vehicles ---------------------------------------------------------------------------


def _driver_row(carrier_id: uuid.UUID, driver: Driver, rng: random.Random) -> DispatchDriver:
    phone = f"+86 1{rng.choice('3589')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    certificate = (
        f"4406{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 9999):04d}"
    )
    return DispatchDriver(
        carrier_id=carrier_id,
        name=driver.name or "司机",
        phone=phone,
        shift_start=driver.shift_start.astimezone(UTC),
        shift_end=driver.shift_end.astimezone(UTC),
        qualifications=[
            {"qualification": q.value, "certificate_number": certificate} for q in sorted(driver.qualifications)
        ],
        driven_minutes_last_24h=driver.driven_minutes_last_24h,
        continuous_driving_minutes=driver.continuous_driving_minutes,
    )


def _tractor_row(
    carrier_id: uuid.UUID,
    tractor: Tractor,
    places: dict[str, DispatchPlace],
    drivers: dict[str, DispatchDriver],
) -> DispatchTractor:
    return DispatchTractor(
        carrier_id=carrier_id,
        plate=validate_vehicle_plate(tractor.plate, trailer=False),
        home_place_id=_id(places[tractor.home_place_id]),
        current_place_id=_id(places[tractor.start_place_id]) if tractor.start_place_id else None,
        available_from=as_utc(tractor.available_from),
        available_until=as_utc(tractor.available_until),
        hazmat_approved=tractor.hazmat_approved,
        driver_id=_id(drivers[tractor.driver_id]) if tractor.driver_id else None,
        escort_id=_id(drivers[tractor.escort_id]) if tractor.escort_id else None,
    )


def _trailer_plates(trailers: tuple[Trailer, ...]) -> dict[str, str]:
    """A valid trailer plate per trailer (province, office letter, four characters, 挂), all different.

    The generator's trailer plates have five characters after the office letter; the last four are kept
    where they are unique, else the next free one is taken.
    """
    plates: dict[str, str] = {}
    taken: set[str] = set()
    for trailer in trailers:
        compact = trailer.plate.replace("·", "").removesuffix("挂")
        prefix, body = compact[:2], compact[-4:]
        plate = f"{prefix}{body}挂"
        number = int(body[-3:]) if body[-3:].isdigit() else 0
        while plate in taken:
            number = (number + 1) % 1000
            plate = f"{prefix}{body[0]}{number:03d}挂"
        taken.add(plate)
        plates[trailer.id] = validate_vehicle_plate(plate, trailer=True)
    return plates


def _trailer_row(
    carrier_id: uuid.UUID, trailer: Trailer, plate: str, places: dict[str, DispatchPlace]
) -> DispatchTrailer:
    return DispatchTrailer(
        carrier_id=carrier_id,
        plate=plate,
        type=trailer.type.value,
        place_id=_id(places[trailer.place_id]),
        loaded=trailer.loaded,
        hazmat_approved=trailer.hazmat_approved,
        out_of_service=trailer.out_of_service,
        available_from=as_utc(trailer.available_from),
    )


# --- moves ----------------------------------------------------------------------------------------


def _move_row(
    carrier_id: uuid.UUID, move: Move, places: dict[str, DispatchPlace], trailers: dict[str, DispatchTrailer]
) -> DispatchMove:
    return DispatchMove(
        carrier_id=carrier_id,
        kind=move.kind.value,
        trailer_id=_id(trailers[move.trailer_id]) if move.trailer_id else None,
        trailer_type=move.trailer_type.value if move.trailer_type else None,
        origin_id=_id(places[move.origin_id]) if move.origin_id else None,
        destination_id=_id(places[move.destination_id]),
        ready_at=as_utc(move.ready_at),
        deliver_by=as_utc(move.deliver_by),
        cutoff=as_utc(move.cutoff),
        loading_minutes=move.loading_minutes,
        hazmat=move.hazmat,
        waybill_number=move.waybill_number,
        leg_index=move.leg_index,
    )
