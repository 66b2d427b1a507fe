"""Realistic drop-and-hook days around the Pearl River Delta, for tests and benchmarks.

A day has the carrier's yards, 30 to 80 shipper sites in the Delta's manufacturing towns, the port
terminals (Nansha, Shekou, Yantian, Huangpu Xinsha), rail terminals (Guangzhou Dalang, Guangzhou
International Port, Pinghu South), a ro-ro berth, and the moves of one carrier's day:

- about 55 % outbound loads: loaded trailers from shippers to a terminal (often with a cut-off),
  another shipper or a yard, including the collect moves after a position move;
- about 25 % position moves: an empty trailer of a type to a shipper by a time; most are followed by a
  collect move of the loaded trailer (``after_move``, 60 to 180 minutes of loading) to a terminal;
- about 20 % inbound loads: loaded trailers from a terminal to a consignee's factory.

Times are aware UTC datetimes; opening hours are local (Asia/Shanghai). Windows are set from the
great-circle travel time with slack, so a day is mostly feasible with the given fleet. The same
arguments and seed always give the same day.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.solver.matrix import great_circle_km
from dispatch.solver.problem import (
    Driver,
    MatrixSpec,
    Move,
    MoveKind,
    OpeningHours,
    Place,
    PlaceKind,
    Policy,
    Problem,
    Qualification,
    Tractor,
    Trailer,
    TrailerType,
)

__all__ = ("DEFAULT_START", "TIMEZONE", "generate_day")

TIMEZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_START = datetime(2025, 6, 10, 4, 0, tzinfo=TIMEZONE)
"""04:00 local on a Tuesday; the day runs 24 hours from its start."""

MINUTE = timedelta(minutes=1)
ALWAYS = ()
DAYTIME = (OpeningHours(open="07:00", close="22:00"),)
OFFICE = (OpeningHours(open="08:00", close="20:00"),)

YARDS = (
    ("yard-humen", "Dongguan Humen yard (虎门)", 22.8260, 113.6700, "粤S"),
    ("yard-shunde", "Foshan Shunde yard (顺德)", 22.8050, 113.2930, "粤X"),
    ("yard-huangpu", "Guangzhou Huangpu yard (黄埔)", 23.1060, 113.4810, "粤A"),
    ("yard-pingshan", "Shenzhen Pingshan yard (坪山)", 22.6900, 114.3460, "粤B"),
    ("yard-zhongshan", "Zhongshan Torch yard (火炬)", 22.5410, 113.4900, "粤T"),
)
TERMINALS = (
    ("port-nansha", "Nansha port terminal (南沙港区)", PlaceKind.PORT_TERMINAL, 22.6650, 113.6780, ALWAYS),
    ("port-shekou", "Shekou container terminal (蛇口)", PlaceKind.PORT_TERMINAL, 22.4720, 113.8880, ALWAYS),
    (
        "port-yantian",
        "Yantian container terminal (盐田)",
        PlaceKind.PORT_TERMINAL,
        22.5800,
        114.2720,
        ALWAYS,
    ),
    ("port-huangpu", "Huangpu Xinsha port terminal (黄埔新沙)", PlaceKind.PORT_TERMINAL, 23.0560, 113.5930, ALWAYS),
    (
        "rail-dalang",
        "Guangzhou Dalang rail terminal (大朗站)",
        PlaceKind.RAIL_TERMINAL,
        23.2830,
        113.2720,
        ALWAYS,
    ),
    (
        "rail-gz-intl",
        "Guangzhou Intl Port rail terminal (广州国际港)",
        PlaceKind.RAIL_TERMINAL,
        23.1600,
        113.7250,
        ALWAYS,
    ),
    ("rail-pinghu", "Pinghu South rail terminal (平湖南)", PlaceKind.RAIL_TERMINAL, 22.6640, 114.1200, ALWAYS),
    (
        "roro-nansha",
        "Nansha car terminal ro-ro berth (南沙汽车码头)",
        PlaceKind.RORO_BERTH,
        22.7330,
        113.6330,
        (OpeningHours(open="06:00", close="23:30"),),
    ),
)
PORTS = ("port-nansha", "port-shekou", "port-yantian", "port-huangpu")
RAILS = ("rail-dalang", "rail-gz-intl", "rail-pinghu")
RORO = "roro-nansha"
TOWNS = (
    ("Dongguan Chang'an (长安)", 22.8100, 113.8050),
    ("Dongguan Songshan Lake (松山湖)", 22.9300, 113.8900),
    ("Dongguan Qingxi (清溪)", 22.8400, 114.1500),
    ("Dongguan Dalang (大朗)", 22.9400, 113.9400),
    ("Dongguan Tangxia (塘厦)", 22.8000, 114.0800),
    ("Foshan Shunde Beijiao (北滘)", 22.9200, 113.2100),
    ("Foshan Nanhai Shishan (狮山)", 23.1200, 113.0000),
    ("Foshan Sanshui (三水)", 23.1600, 112.8900),
    ("Huizhou Zhongkai (仲恺)", 23.0300, 114.3300),
    ("Huizhou Huiyang (惠阳)", 22.7900, 114.4600),
    ("Huizhou Boluo (博罗)", 23.1700, 114.2900),
    ("Jiangmen Pengjiang (蓬江)", 22.6000, 113.0800),
    ("Jiangmen Heshan (鹤山)", 22.7600, 112.9600),
    ("Zhongshan Xiaolan (小榄)", 22.6700, 113.2500),
    ("Zhongshan Torch zone (火炬)", 22.5500, 113.5000),
    ("Shenzhen Bao'an Fuyong (福永)", 22.6700, 113.8300),
    ("Shenzhen Bao'an Shajing (沙井)", 22.7300, 113.8300),
    ("Shenzhen Longhua Guanlan (观澜)", 22.7200, 114.0500),
    ("Guangzhou Panyu Shiqi (石碁)", 22.9500, 113.4300),
    ("Guangzhou Panyu Dongchong (东涌)", 22.8400, 113.4500),
    ("Guangzhou Huadu (花都)", 23.4000, 113.2200),
    ("Guangzhou Zengcheng Xintang (新塘)", 23.1300, 113.6100),
    ("Zhuhai Doumen (斗门)", 22.2100, 113.3000),
)
CHEMICAL_TOWNS = (
    ("Huizhou Daya Bay petrochemical park (大亚湾)", 22.7400, 114.5500),
    ("Guangzhou Nansha Xiaohu chemical park (小虎)", 22.7800, 113.6000),
    ("Foshan Gaoming chemical zone (高明)", 22.8900, 112.8800),
)
PRODUCTS = ("electronics", "furniture", "appliances", "textiles", "plastics", "hardware", "lighting", "toys", "food")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁宋郑谢韩唐冯"
GIVEN = "伟强磊军勇杰涛明超华平刚辉斌鹏飞波峰海林建国志文"
DRY_TYPES = (TrailerType.BOX, TrailerType.CURTAIN, TrailerType.CONTAINER_CHASSIS, TrailerType.FLATBED)

HAZMAT_EMPTY_SHARE = 0.12
"""Share of the other empty trailers (box vans for packaged dangerous goods) approved for hazmat."""
HOOK_MINUTES = 15
DROP_MINUTES = 15
SPEC = MatrixSpec()


@dataclass(frozen=True, slots=True)
class _Load:
    """What a move carries: the trailer type it needs and whether it is dangerous goods."""

    trailer_type: TrailerType
    hazmat: bool


class _DayBuilder:
    """Builds one day step by step from one random generator (so a seed gives one day)."""

    def __init__(self, rng: random.Random, *, tractors: int, moves: int, start: datetime) -> None:
        self.rng = rng
        self.tractor_count = tractors
        self.move_count = moves
        self.start = start
        self.local_start = start.astimezone(TIMEZONE)
        self.places: dict[str, Place] = {}
        self.trailers: list[Trailer] = []
        self.moves: list[Move] = []
        self.plates: set[str] = set()

    # --- places -------------------------------------------------------------------------------

    def add_places(self) -> None:
        for place_id, name, latitude, longitude, _ in YARDS:
            self._add(Place(id=place_id, name=name, kind=PlaceKind.YARD, latitude=latitude, longitude=longitude))
        for place_id, name, kind, latitude, longitude, hours in TERMINALS:
            self._add(
                Place(id=place_id, name=name, kind=kind, latitude=latitude, longitude=longitude, opening_hours=hours)
            )
        sites = min(80, max(30, round(self.move_count / 12)))
        for number in range(1, sites + 1):
            self._add(self._shipper(number))

    def _add(self, place: Place) -> None:
        self.places[place.id] = place

    def _shipper(self, number: int) -> Place:
        chemical = number % 10 == 0
        town, latitude, longitude = self.rng.choice(CHEMICAL_TOWNS if chemical else TOWNS)
        product = "chemicals" if chemical else self.rng.choice(PRODUCTS)
        hours = self.rng.choices((DAYTIME, OFFICE, ALWAYS), weights=(5, 2, 3))[0]
        return Place(
            id=f"site-{number:03d}",
            name=f"{town} {product} factory {number}",
            kind=PlaceKind.SHIPPER,
            latitude=round(latitude + self.rng.uniform(-0.03, 0.03), 5),
            longitude=round(longitude + self.rng.uniform(-0.03, 0.03), 5),
            opening_hours=hours,
        )

    def shippers(self, *, chemical: bool | None = None) -> list[Place]:
        sites = [place for place in self.places.values() if place.kind is PlaceKind.SHIPPER]
        if chemical is None:
            return sites
        return [place for place in sites if ("chemicals" in place.name) == chemical]

    # --- time ---------------------------------------------------------------------------------

    def minutes(self, origin: str, destination: str) -> float:
        """Driving minutes as the default great-circle matrix computes them."""
        km = great_circle_km(self.places[origin], self.places[destination]) * SPEC.road_factor
        return km / SPEC.speed_kmh * 60

    def local(self, hour: float) -> datetime:
        """The instant ``hour`` hours after local midnight of the start day (may pass 24)."""
        midnight = self.local_start.replace(hour=0, minute=0, second=0, microsecond=0)
        return (midnight + timedelta(minutes=round(hour * 60))).astimezone(UTC)

    def open_span(self, place_id: str) -> tuple[float, float]:
        """Local hours ``(open, close)`` within which handling fits, on the start day's clock."""
        hours = self.places[place_id].opening_hours
        if not hours:
            start_hour = self.local_start.hour + self.local_start.minute / 60
            return start_hour + 0.5, start_hour + 23.0
        window = hours[0]
        return _hour(window.open) + 0.25, _hour(window.close) - 0.5

    def window(self, origin: str, destination: str, *, day_hours: tuple[float, float]) -> tuple[datetime, datetime]:
        """``(ready_at, deliver_by)``: a hook time and a drop promise both within opening hours, with slack."""
        needed_h = (self.minutes(origin, destination) + HOOK_MINUTES + DROP_MINUTES) / 60
        open_o, close_o = self.open_span(origin)
        open_d, close_d = self.open_span(destination)
        for attempt in range(30):
            low, high = day_hours if attempt < 10 else (6.0, 16.0)
            slack_h = self.rng.uniform(1.5, 5.0)
            ready = self.rng.uniform(max(open_o, low), min(close_o, high))
            due = ready + needed_h + slack_h
            if due < open_d + needed_h:
                due = open_d + needed_h + self.rng.uniform(0.5, 3.0)
            if due <= close_d and ready <= close_o - 0.5:
                return self.local(ready), self.local(due)
        ready = max(open_o, open_d - needed_h)
        return self.local(ready), self.local(min(close_d, ready + needed_h + 2.0) if close_d > ready else ready + 6)

    # --- trailers -----------------------------------------------------------------------------

    def plate(self, prefix: str, *, trailer: bool) -> str:
        while True:
            letters = self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")
            plate = f"{prefix}·{letters}{self.rng.randint(1000, 9999)}{'挂' if trailer else ''}"
            if plate not in self.plates:
                self.plates.add(plate)
                return plate

    def add_trailer(
        self,
        *,
        trailer_type: TrailerType,
        place_id: str,
        loaded: bool,
        hazmat: bool,
        out_of_service: bool = False,
        available_from: datetime | None = None,
    ) -> Trailer:
        trailer = Trailer(
            id=f"TR{len(self.trailers) + 1:04d}",
            plate=self.plate(self.rng.choice(YARDS)[4], trailer=True),
            type=trailer_type,
            place_id=place_id,
            loaded=loaded,
            hazmat_approved=hazmat,
            out_of_service=out_of_service,
            available_from=available_from,
        )
        self.trailers.append(trailer)
        return trailer

    # --- moves --------------------------------------------------------------------------------

    def load(self, *, reefer_share: float, hazmat_share: float, port: bool) -> _Load:
        draw = self.rng.random()
        if draw < hazmat_share:
            return _Load(trailer_type=TrailerType.TANK, hazmat=True)
        if draw < hazmat_share + reefer_share:
            return _Load(trailer_type=TrailerType.REEFER, hazmat=False)
        if port:
            return _Load(trailer_type=TrailerType.CONTAINER_CHASSIS, hazmat=False)
        return _Load(trailer_type=self.rng.choice(DRY_TYPES[:2] + DRY_TYPES[3:]), hazmat=False)

    def move_id(self) -> str:
        return f"M{len(self.moves) + 1:04d}"

    def origin_site(self, load: _Load) -> Place:
        return self.rng.choice(self.shippers(chemical=True) if load.hazmat else self.shippers())

    def near(self, place_id: str, candidates: list[str] | tuple[str, ...]) -> str:
        """One of the candidates, the nearer the likelier (shippers use the terminals near them)."""
        place = self.places[place_id]
        weights = [1 / (great_circle_km(place, self.places[other]) + 15) ** 2 for other in candidates]
        return self.rng.choices(candidates, weights=weights)[0]

    def outbound_destination(self, origin: str) -> str:
        draw = self.rng.random()
        if draw < 0.50:
            return self.near(origin, PORTS)
        if draw < 0.65:
            return self.near(origin, RAILS)
        if draw < 0.70:
            return RORO
        if draw < 0.90:
            return self.near(origin, [place.id for place in self.shippers() if place.id != origin])
        return self.nearest_yard(origin)

    def nearest_yard(self, place_id: str) -> str:
        place = self.places[place_id]
        return min((yard[0] for yard in YARDS), key=lambda yard: great_circle_km(place, self.places[yard]))

    def cutoff(self, destination: str, deliver_by: datetime) -> datetime | None:
        """Terminals close the gate for a vessel or train: a hard cut-off after the promise, mostly."""
        kind = self.places[destination].kind
        if kind in {PlaceKind.PORT_TERMINAL, PlaceKind.RAIL_TERMINAL} and self.rng.random() < 0.7:
            return deliver_by + MINUTE * self.rng.choice((30, 60, 90, 120))
        return None

    def add_outbound_haul(self, *, reefer_share: float, hazmat_share: float) -> None:
        load = self.load(reefer_share=reefer_share, hazmat_share=hazmat_share, port=self.rng.random() < 0.5)
        origin = self.origin_site(load)
        destination = self.outbound_destination(origin.id)
        trailer = self.add_trailer(trailer_type=load.trailer_type, place_id=origin.id, loaded=True, hazmat=load.hazmat)
        ready, due = self.window(origin.id, destination, day_hours=self.day_hours())
        self.moves.append(
            Move(
                id=self.move_id(),
                kind=MoveKind.HAUL,
                trailer_id=trailer.id,
                trailer_type=load.trailer_type,
                origin_id=origin.id,
                destination_id=destination,
                ready_at=ready,
                deliver_by=due,
                cutoff=self.cutoff(destination, due),
                hazmat=load.hazmat,
            )
        )

    def add_inbound_haul(self, *, reefer_share: float, hazmat_share: float) -> None:
        load = self.load(reefer_share=reefer_share, hazmat_share=hazmat_share, port=True)
        terminal = self.rng.choice(PORTS + PORTS + RAILS + (RORO,))
        sites = self.shippers(chemical=True) if load.hazmat else self.shippers()
        consignee = self.places[self.near(terminal, [site.id for site in sites])]
        trailer = self.add_trailer(trailer_type=load.trailer_type, place_id=terminal, loaded=True, hazmat=load.hazmat)
        ready, due = self.window(terminal, consignee.id, day_hours=self.day_hours())
        self.moves.append(
            Move(
                id=self.move_id(),
                kind=MoveKind.HAUL,
                trailer_id=trailer.id,
                trailer_type=load.trailer_type,
                origin_id=terminal,
                destination_id=consignee.id,
                ready_at=ready,
                deliver_by=due,
                hazmat=load.hazmat,
            )
        )

    def add_position(self, *, reefer_share: float, hazmat_share: float, collect: bool) -> None:
        load = self.load(reefer_share=reefer_share, hazmat_share=hazmat_share, port=self.rng.random() < 0.6)
        site = self.origin_site(load)
        yard = self.nearest_yard(site.id)
        _, due = self.window(yard, site.id, day_hours=(6.0, 12.0))
        position = Move(
            id=self.move_id(),
            kind=MoveKind.POSITION,
            trailer_type=load.trailer_type,
            destination_id=site.id,
            deliver_by=due,
            hazmat=load.hazmat,
        )
        self.moves.append(position)
        if collect:
            self.add_collect(position, positioned_by=due)

    def add_collect(self, position: Move, *, positioned_by: datetime) -> None:
        loading = self.rng.choice((60, 90, 120, 150, 180))
        destination = self.near(position.destination_id, PORTS if self.rng.random() < 0.7 else RAILS)
        drive = self.minutes(position.destination_id, destination) + HOOK_MINUTES + DROP_MINUTES
        due = positioned_by + MINUTE * (loading + drive + self.rng.uniform(60, 240))
        self.moves.append(
            Move(
                id=self.move_id(),
                kind=MoveKind.COLLECT,
                trailer_type=position.trailer_type,
                origin_id=position.destination_id,
                destination_id=destination,
                deliver_by=due,
                cutoff=self.cutoff(destination, due),
                after_move=position.id,
                loading_minutes=loading,
                hazmat=position.hazmat,
            )
        )

    def day_hours(self) -> tuple[float, float]:
        """When ready times fall (local hours): mostly the day, some evening and night work."""
        draw = self.rng.random()
        if draw < 0.8:
            return 6.0, 16.0
        if draw < 0.92:
            return 16.0, 20.0
        return 19.0, 25.0

    def add_empties(self, *, reefer_share: float, hazmat_share: float, fleet: int) -> None:
        """The carrier's empty trailers: enough of every type the position moves ask for, at the yards."""
        wanted: dict[tuple[TrailerType, bool], int] = {}
        for move in self.moves:
            if move.kind is MoveKind.POSITION and move.trailer_type is not None:
                key = (move.trailer_type, move.hazmat)
                wanted[key] = wanted.get(key, 0) + 1
        for (trailer_type, hazmat), count in sorted(wanted.items()):
            for _ in range(math.ceil(count * 1.4) + 1):
                self.add_empty(trailer_type, hazmat=hazmat)
        while len(self.trailers) < fleet:
            load = self.load(reefer_share=reefer_share, hazmat_share=hazmat_share, port=self.rng.random() < 0.5)
            self.add_empty(load.trailer_type, hazmat=load.hazmat)

    def add_empty(self, trailer_type: TrailerType, *, hazmat: bool) -> None:
        draw = self.rng.random()
        place = self.rng.choice(YARDS)[0] if draw < 0.85 else self.rng.choice(PORTS + RAILS)
        self.add_trailer(
            trailer_type=trailer_type,
            place_id=place,
            loaded=False,
            hazmat=hazmat or self.rng.random() < (0.5 if trailer_type is TrailerType.TANK else HAZMAT_EMPTY_SHARE),
            out_of_service=self.rng.random() < 0.03,
            available_from=self.local(self.rng.choice((8, 9, 10))) if self.rng.random() < 0.05 else None,
        )

    # --- fleet --------------------------------------------------------------------------------

    def fleet(self, hazmat_share: float) -> tuple[list[Tractor], list[Driver]]:
        tractors: list[Tractor] = []
        drivers: list[Driver] = []
        hazmat_units = max(1, round(self.tractor_count * 0.15)) if hazmat_share > 0 else 0
        for number in range(1, self.tractor_count + 1):
            hazmat = number <= hazmat_units
            yard = YARDS[(number - 1) % len(YARDS)]
            shift_start, shift_end = self.shift()
            driver = self.person(f"D{number:03d}", shift_start, shift_end, Qualification.HAZMAT_DRIVER, hazmat)
            drivers.append(driver)
            escort_id = None
            if hazmat:
                escort = self.person(f"E{number:03d}", shift_start, shift_end, Qualification.HAZMAT_ESCORT, True)
                drivers.append(escort)
                escort_id = escort.id
            elsewhere = self.rng.random() < 0.1
            tractors.append(
                Tractor(
                    id=f"T{number:03d}",
                    plate=self.plate(yard[4], trailer=False),
                    home_place_id=yard[0],
                    start_place_id=self.rng.choice(PORTS + RAILS) if elsewhere else None,
                    hazmat_approved=hazmat,
                    driver_id=driver.id,
                    escort_id=escort_id,
                )
            )
        return tractors, drivers

    def shift(self) -> tuple[datetime, datetime]:
        """Most drivers work 06:00-18:00 or 08:00-20:00 local; some work the night."""
        start_hour, end_hour = self.rng.choices(((6, 18), (8, 20), (7, 19), (18, 28)), weights=(45, 30, 15, 10))[0]
        return self.local(start_hour), self.local(end_hour)

    def person(
        self, person_id: str, shift_start: datetime, shift_end: datetime, qualification: Qualification, qualified: bool
    ) -> Driver:
        name = self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2))))
        rested = self.rng.random() < 0.8
        return Driver(
            id=person_id,
            name=name,
            shift_start=shift_start,
            shift_end=shift_end,
            qualifications=frozenset({qualification}) if qualified else frozenset(),
            driven_minutes_last_24h=0 if rested else self.rng.choice((30, 60, 90, 120)),
            continuous_driving_minutes=0 if rested else self.rng.choice((0, 30, 60)),
        )


def _hour(text: str) -> float:
    hours, minutes = (int(part) for part in text.split(":"))
    return hours + minutes / 60


def generate_day(
    *,
    tractors: int,
    moves: int,
    seed: int = 0,
    trailers_per_tractor: float = 2.5,
    reefer_share: float = 0.15,
    hazmat_share: float = 0.08,
    start: datetime | None = None,
) -> Problem:
    """A drop-and-hook day in the Pearl River Delta.

    Args:
        tractors: tractors in the fleet, each with a driver (hazmat units, about 15 %, with an escort).
        moves: trailer moves of the day (position, collect and haul moves together).
        seed: the random seed; the same arguments give the same day.
        trailers_per_tractor: trailers per tractor in the day at least: one loaded trailer per haul
            (the carrier's, shipping lines' chassis, customers'), empties for the position moves (1.4
            per move and type), and more empties up to this count.
        reefer_share: share of moves that need a reefer trailer.
        hazmat_share: share of moves carrying dangerous goods (tank trailers, hazmat crews).
        start: the planning start (aware); 04:00 local on 10 June 2025 by default.

    Returns:
        The problem, with every datetime in UTC.
    """
    if tractors < 1 or moves < 1:
        raise ValueError("a day needs at least one tractor and one move")
    begin = (start or DEFAULT_START).astimezone(TIMEZONE)
    builder = _DayBuilder(random.Random(seed), tractors=tractors, moves=moves, start=begin)
    builder.add_places()
    _add_moves(builder, reefer_share=reefer_share, hazmat_share=hazmat_share)
    builder.add_empties(
        reefer_share=reefer_share, hazmat_share=hazmat_share, fleet=round(tractors * trailers_per_tractor)
    )
    fleet, crews = builder.fleet(hazmat_share)
    return Problem(
        start=begin.astimezone(UTC),
        horizon_hours=24,
        places=tuple(builder.places.values()),
        tractors=tuple(fleet),
        drivers=tuple(crews),
        trailers=tuple(builder.trailers),
        moves=tuple(builder.moves),
        policy=Policy(hook_minutes=HOOK_MINUTES, drop_minutes=DROP_MINUTES, timezone=str(TIMEZONE)),
        matrix=SPEC,
    )


def _add_moves(builder: _DayBuilder, *, reefer_share: float, hazmat_share: float) -> None:
    """About 25 % position moves (80 % of them with a collect), 20 % inbound hauls, the rest outbound hauls."""
    total = builder.move_count
    positions = round(total * 0.25)
    collects = min(round(positions * 0.8), total - positions)
    inbound = min(round(total * 0.20), total - positions - collects)
    outbound = total - positions - collects - inbound
    kinds = ["collect"] * collects + ["position"] * (positions - collects) + ["in"] * inbound + ["out"] * outbound
    builder.rng.shuffle(kinds)
    for kind in kinds:
        if kind in {"collect", "position"}:
            builder.add_position(reefer_share=reefer_share, hazmat_share=hazmat_share, collect=kind == "collect")
        elif kind == "in":
            builder.add_inbound_haul(reefer_share=reefer_share, hazmat_share=hazmat_share)
        else:
            builder.add_outbound_haul(reefer_share=reefer_share, hazmat_share=hazmat_share)
