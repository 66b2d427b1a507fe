"""The demo's dangerous-goods traffic: tankers moving along Pearl River Delta roads, and the monitor watching them.

``seed_dangerous_goods_shipments`` issues six dangerous-goods waybills (petrol, ammonia, sulphuric
acid, LPG, wet batteries, ethanol) from a Huizhou petrochemical trader on the road carrier's
registered dangerous-goods fleet, their road legs under way. ``DangerousGoodsTraffic`` then plays
each vehicle's scripted trip along a route of ``monitoring/data/demo_routes.json``: it backfills the
last 75 minutes of positions, runs the monitor once (so the regulator sees alerts on first start),
and, while the demo serves, posts a position of every vehicle every few seconds and runs the monitor
every 15 seconds on a thread of its own. The scripts raise one alert of each kind: a petrol tanker
speeding on the G15, a sulphuric-acid tanker stationary on the G4 hard shoulder for 40 minutes, an
LPG tanker taking the G4 when its planned route is the S3 (off corridor), an ammonia tanker in the
Wutong Mountain tunnel (category D, which its code C/D forbids), a battery lorry out of signal, and
a registered tanker moving without a waybill; the ethanol tanker drives normally.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import msgspec
import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import service as accounts
from accounts.schemas import OrganisationCreate, OrganisationRole, Principal
from core.db import create_engine, create_session_factory, utcnow
from core.settings import Settings
from dangerous_goods import registry
from dangerous_goods.registry_schemas import DgCarrierPermitWrite, DgPersonCreate, DgVehicleCreate
from monitoring.config import DATA_DIR, AlertThresholds, Expressway, prd_thresholds
from monitoring.flows import MonitorRun, monitor_positions
from monitoring.geo import LatLon, haversine_km
from tracking.models import VehiclePosition
from tracking.schemas import PositionReport
from tracking.service import ensure_partitions, store_positions
from waybill import events
from waybill import service as waybills
from waybill.event_schemas import TransportEventCreate
from waybill.models import Waybill
from waybill.schemas import WaybillCreate

__all__ = (
    "BACKFILL",
    "DG_SHIPPER",
    "ROAD_CARRIER_USCC",
    "DangerousGoodsTraffic",
    "demo_thresholds",
    "seed_dangerous_goods_shipments",
    "start_dangerous_goods_traffic",
)

_log = structlog.get_logger("api.demo_dangerous_goods")

BACKFILL = timedelta(minutes=75)
"""Positions written before the demo starts, so that every vehicle has a track at once."""
POST_EVERY_S = 5.0
MONITOR_EVERY_S = 15.0
_BACKFILL_STEP_S = 30
_HORIZON_S = 4 * 3600
"""Scripts end here (every vehicle is parked by then); later positions repeat the last state."""
_SOURCE = "demo:gnss"

DG_SHIPPER: dict[str, Any] = {"name": "惠州大亚湾华润石化贸易有限公司", "role": "shipper", "uscc": "91441300MA4UJ7Q2DW"}
ROAD_CARRIER_USCC = "91440604MA51L2K4U9"
"""The demo's road carrier (佛山顺通甩挂运输有限公司), whose registered fleet carries the loads."""
_EMERGENCY_CONTACT = {"name": "林国强", "phone": "+86 752 5562 1190"}
_CARRIER_PERMIT = {
    "permit_number": "粤交运管许可佛字440604000123号",
    "business_scope": "道路危险货物运输 (2类, 3类, 8类)",
    "permitted_classes": ["2", "3", "8"],
    "expires_on": "2030-12-31",
}
_CLASSES = ["2", "3", "8"]


class _Script(msgspec.Struct, kw_only=True, frozen=True):
    """One vehicle's trip, in minutes from the demo's start (negative: before it)."""

    plate: str
    route: str
    """The route it drives (a key of ``demo_routes.json``)."""
    depart_min: float
    cruise_kmh: float = 74.0
    """On expressways; 45 km/h elsewhere."""
    speeding: tuple[float, float, float] | None = None
    """From, to (minutes) and speed."""
    stop_at_km: float | None = None
    """Stops for good this far along the route."""
    silent_from_min: float | None = None
    """No position from then on."""


class _Shipment(msgspec.Struct, kw_only=True, frozen=True):
    reference: str
    script: _Script
    planned_route: str
    """The route the waybill plans (the corridor); the script's own route unless it strays."""
    goods: dict[str, Any]
    driver: dict[str, str]
    escort: dict[str, str]


def _person(name: str, phone: str, certificate: str) -> dict[str, str]:
    return {"name": name, "phone": phone, "certificate_number": certificate}


_SHIPMENTS = (
    _Shipment(
        reference="DG-DEMO-2001",
        script=_Script(plate="粤E6D301", route="daya_bay_buji", depart_min=-40, speeding=(-5, 2, 98.0)),
        planned_route="daya_bay_buji",
        goods={
            "description": "车用汽油 92号 (罐车)",
            "package_count": 1,
            "package_type": "TK",
            "gross_weight_kg": 21000.0,
            "dangerous_goods": {"un_number": "UN1203", "quantity": 28000, "unit": "L", "packing_group": "II"},
        },
        driver=_person("李国栋", "+86 138 2299 5101", "441302198204113317"),
        escort=_person("林晓燕", "+86 139 2266 5102", "441303199006287726"),
    ),
    _Shipment(
        reference="DG-DEMO-2002",
        script=_Script(plate="粤E6D302", route="pinghu_yantian", depart_min=-30, cruise_kmh=45.0),
        planned_route="pinghu_yantian",
        goods={
            "description": "液氨 (无水氨, 罐车)",
            "package_count": 1,
            "package_type": "TK",
            "gross_weight_kg": 15000.0,
            "dangerous_goods": {"un_number": "UN1005", "quantity": 15000, "unit": "kg"},
        },
        driver=_person("张伟明", "+86 138 2299 5201", "440307198511024531"),
        escort=_person("何美玲", "+86 139 2266 5202", "440308199203157124"),
    ),
    _Shipment(
        reference="DG-DEMO-2003",
        script=_Script(plate="粤E6D303", route="huangpu_changan_g4", depart_min=-75, stop_at_km=30.0),
        planned_route="huangpu_changan_g4",
        goods={
            "description": "硫酸 98% (罐车)",
            "package_count": 1,
            "package_type": "TK",
            "gross_weight_kg": 25000.0,
            "dangerous_goods": {"un_number": "UN1830", "quantity": 25000, "unit": "kg", "packing_group": "II"},
        },
        driver=_person("陈建华", "+86 138 2299 5301", "440112197809236612"),
        escort=_person("郑秀英", "+86 139 2266 5302", "440113198712308843"),
    ),
    _Shipment(
        reference="DG-DEMO-2004",
        script=_Script(plate="粤E6D304", route="huangpu_changan_g4", depart_min=-35, cruise_kmh=72.0),
        planned_route="huangpu_nanshan_s3",
        goods={
            "description": "液化石油气 (罐车)",
            "package_count": 1,
            "package_type": "TK",
            "gross_weight_kg": 14000.0,
            "dangerous_goods": {"un_number": "UN1075", "quantity": 14000, "unit": "kg"},
        },
        driver=_person("刘德胜", "+86 138 2299 5401", "441900198001154453"),
        escort=_person("梁小红", "+86 139 2266 5402", "441900199409099981"),
    ),
    _Shipment(
        reference="DG-DEMO-2005",
        script=_Script(plate="粤E6D305", route="shunde_nansha", depart_min=-60, cruise_kmh=70.0, silent_from_min=-12),
        planned_route="shunde_nansha",
        goods={
            "description": "蓄电池 (湿的, 装有酸液)",
            "package_count": 24,
            "package_type": "PX",
            "gross_weight_kg": 9600.0,
            "dangerous_goods": {"un_number": "UN2794", "quantity": 480, "unit": "articles"},
        },
        driver=_person("吴海涛", "+86 138 2299 5501", "440606198306218835"),
        escort=_person("罗春梅", "+86 139 2266 5502", "440606199511123367"),
    ),
    _Shipment(
        reference="DG-DEMO-2006",
        script=_Script(plate="粤E6D306", route="huangpu_nanshan_s3", depart_min=-45, cruise_kmh=76.0),
        planned_route="huangpu_nanshan_s3",
        goods={
            "description": "乙醇 (无水, 罐车)",
            "package_count": 1,
            "package_type": "TK",
            "gross_weight_kg": 22400.0,
            "dangerous_goods": {"un_number": "UN1170", "quantity": 28000, "unit": "L", "packing_group": "II"},
        },
        driver=_person("黄志强", "+86 138 2299 5601", "440112198107305519"),
        escort=_person("陈丽芳", "+86 139 2266 5602", "440112199302184426"),
    ),
)
_UNLADEN = _Script(plate="粤E6D307", route="shunde_nansha", depart_min=-20, cruise_kmh=72.0)
"""A registered tanker that leaves the yard with no dangerous-goods waybill."""
_SCRIPTS = (*(shipment.script for shipment in _SHIPMENTS), _UNLADEN)


# --- routes ----------------------------------------------------------------------------------------


class _Route(msgspec.Struct, kw_only=True, frozen=True):
    name: str
    points: tuple[LatLon, ...]
    start_name: str
    end_name: str
    cumulative_km: tuple[float, ...]
    expressway_segments: frozenset[int]
    """Indexes ``i`` of the segments ``points[i] → points[i + 1]`` on an expressway."""
    expressways: tuple[Expressway, ...]

    @property
    def length_km(self) -> float:
        return self.cumulative_km[-1]

    def segment_at(self, km: float) -> int:
        return max(0, min(len(self.points) - 2, bisect.bisect_right(self.cumulative_km, km) - 1))

    def at(self, km: float) -> tuple[LatLon, float]:
        """The point ``km`` along the route and the heading there (degrees clockwise from north)."""
        index = self.segment_at(km)
        (lat1, lon1), (lat2, lon2) = self.points[index], self.points[index + 1]
        length = self.cumulative_km[index + 1] - self.cumulative_km[index]
        t = 0.0 if length == 0 else max(0.0, min(1.0, (km - self.cumulative_km[index]) / length))
        heading = math.degrees(math.atan2((lon2 - lon1) * math.cos(math.radians(lat1)), lat2 - lat1)) % 360
        return (lat1 + t * (lat2 - lat1), lon1 + t * (lon2 - lon1)), heading


@lru_cache(maxsize=1)
def _routes() -> dict[str, _Route]:
    document = msgspec.json.decode((DATA_DIR / "demo_routes.json").read_bytes())
    routes: dict[str, _Route] = {}
    for key, raw in document["routes"].items():
        points = tuple((float(lat), float(lon)) for lat, lon in raw["points"])
        cumulative = [0.0]
        for a, b in itertools.pairwise(points):
            cumulative.append(cumulative[-1] + haversine_km(a, b))
        segments = frozenset(i for run in raw["expressways"] for i in range(run["from"], run["to"]))
        expressways = tuple(
            Expressway(name=run["name"], polyline=points[run["from"] : run["to"] + 1]) for run in raw["expressways"]
        )
        routes[key] = _Route(
            name=raw["name"],
            points=points,
            start_name=raw["waypoints"][0]["name"],
            end_name=raw["waypoints"][-1]["name"],
            cumulative_km=tuple(cumulative),
            expressway_segments=segments,
            expressways=expressways,
        )
    return routes


@lru_cache(maxsize=1)
def demo_thresholds() -> AlertThresholds:
    """The Pearl River Delta sample, with the expressway stretches of the demo's routes added."""
    sample = prd_thresholds()
    extra = tuple(expressway for route in _routes().values() for expressway in route.expressways)
    return msgspec.structs.replace(sample, expressways=(*sample.expressways, *extra))


def _place(route: _Route, *, end: bool) -> dict[str, Any]:
    name = route.end_name if end else route.start_name
    lat, lon = route.points[-1] if end else route.points[0]
    division = _DIVISIONS.get(name, "440000")
    return {"name": name, "address": f"广东省 {name}", "division_code": division, "latitude": lat, "longitude": lon}


_DIVISIONS = {
    "惠州大亚湾石化区 (石化大道)": "441303",
    "深圳布吉油库": "440307",
    "深圳平湖物流园": "440307",
    "盐田港 北门": "440308",
    "广州黄埔化工仓储区": "440112",
    "东莞长安电子产业园": "441900",
    "深圳南山燃气储配站": "440305",
    "顺德北滘家电制造基地": "440606",
    "南沙港三期码头": "440115",
}


# --- seeding ---------------------------------------------------------------------------------------


def _waybill_request(
    shipment: _Shipment, carrier: Principal, shipper: Principal, departed_at: datetime
) -> dict[str, Any]:
    route = _routes()[shipment.planned_route]
    pickup, delivery = _place(route, end=False), _place(route, end=True)
    return {
        "shipper_reference": shipment.reference,
        "consignor": {"name": shipper.name, "uscc": shipper.uscc, "phone": "+86 752 5562 1100"},
        "consignee": {"name": f"{delivery['name']} 收货部", "contact_name": "王建军", "phone": "+86 755 2558 3300"},
        "pickup": pickup,
        "delivery": delivery,
        "pickup_window": {
            "start": (departed_at - timedelta(hours=1)).isoformat(),
            "end": (departed_at + timedelta(hours=1)).isoformat(),
        },
        "delivery_window": {"start": departed_at.isoformat(), "end": (departed_at + timedelta(hours=6)).isoformat()},
        "cargo": [shipment.goods],
        "emergency_contact": _EMERGENCY_CONTACT,
        "references": {"order_number": f"SO-{shipment.reference}"},
        "legs": [
            {
                "sequence": 1,
                "mode": "road",
                "carrier": {"uscc": carrier.uscc, "name": carrier.name},
                "from_place": pickup,
                "to_place": delivery,
                "planned_departure": departed_at.isoformat(),
                "planned_arrival": (departed_at + timedelta(hours=2)).isoformat(),
                "equipment": {"vehicle_plate": shipment.script.plate},
                "driver": shipment.driver,
                "escort": shipment.escort,
                "planned_route": [[lat, lon] for lat, lon in route.points],
            }
        ],
    }


async def _register_fleet(session: AsyncSession, carrier: Principal) -> None:
    """The carrier's permit (if it has none), the demo tankers and their crews (those not registered yet)."""
    carrier_id = carrier.organisation_id
    if await registry.carrier_permit(session, carrier_id=carrier_id) is None:
        permit = msgspec.convert(_CARRIER_PERMIT, DgCarrierPermitWrite)
        await registry.put_carrier_permit(session, carrier_id=carrier_id, data=permit)
    expires_on = (utcnow() + timedelta(days=3 * 365)).date().isoformat()
    plates = [script.plate for script in _SCRIPTS]
    known = await registry.vehicles_by_plate(session, carrier_id=carrier_id, plates=plates)
    for number, plate in enumerate(plates, start=1):
        if plate in known:
            continue
        vehicle = {
            "plate": plate,
            "transport_certificate_number": f"粤交运管佛字44060402{number:04d}号",
            "permitted_classes": _CLASSES,
            "tank_allowed": True,
            "permit_expires_on": expires_on,
        }
        await registry.create_vehicle(session, carrier_id=carrier_id, data=msgspec.convert(vehicle, DgVehicleCreate))
    crew = [("driver", s.driver) for s in _SHIPMENTS] + [("escort", s.escort) for s in _SHIPMENTS]
    found = await registry.people_by_certificate(
        session, carrier_id=carrier_id, numbers=[person["certificate_number"] for _, person in crew]
    )
    for role, person in crew:
        if (role, person["certificate_number"]) in found:
            continue
        qualification = {
            **person,
            "role": role,
            "qualification_type": "道路危险货物运输驾驶员" if role == "driver" else "道路危险货物运输押运人员",
            "qualified_classes": _CLASSES,
            "expires_on": expires_on,
        }
        await registry.create_person(
            session, carrier_id=carrier_id, data=msgspec.convert(qualification, DgPersonCreate)
        )


def _principal_of(org: Any) -> Principal:
    return Principal(organisation_id=org.id, uscc=org.uscc, name=org.name, role=OrganisationRole(org.role))


async def seed_dangerous_goods_shipments(
    session: AsyncSession,
    *,
    carrier_uscc: str = ROAD_CARRIER_USCC,
    shipper_uscc: str = DG_SHIPPER["uscc"],
    now: datetime | None = None,
) -> int:
    """Issue the demo's dangerous-goods waybills, legs under way, unless issued already; how many were issued.

    The carrier must exist; its permit, tankers and crews are registered when missing. The shipper
    (``DG_SHIPPER``'s name and role) is created when missing.
    """
    at = (now or utcnow()).replace(microsecond=0)
    carrier_org = await accounts.organisation_by_uscc(session, carrier_uscc)
    assert carrier_org is not None, "seed the demo organisations first"
    shipper_org = await accounts.organisation_by_uscc(session, shipper_uscc)
    if shipper_org is None:
        spec = {**DG_SHIPPER, "uscc": shipper_uscc}
        await accounts.create_organisation(session, data=msgspec.convert(spec, OrganisationCreate))
        shipper_org = await accounts.organisation_by_uscc(session, shipper_uscc)
    assert shipper_org is not None
    carrier, shipper = _principal_of(carrier_org), _principal_of(shipper_org)
    issued = await session.scalar(
        sa.select(sa.func.count()).select_from(Waybill).where(col(Waybill.shipper_id) == shipper.organisation_id)
    )
    if issued:
        return 0
    await _register_fleet(session, carrier)
    for shipment in _SHIPMENTS:
        departed_at = at + timedelta(minutes=shipment.script.depart_min)
        request = msgspec.convert(_waybill_request(shipment, carrier, shipper, departed_at), WaybillCreate)
        created, _ = await waybills.create_waybill(session, principal=shipper, data=request)
        departed = {"event_type": "departed", "leg": 1, "event_time": departed_at.isoformat(), "source": "gnss"}
        await events.record_events(
            session,
            principal=carrier,
            number=created.number,
            events=[msgspec.convert(departed, TransportEventCreate)],
        )
    return len(_SHIPMENTS)


# --- movement --------------------------------------------------------------------------------------


class _Motion:
    """A script played second by second from ``-BACKFILL`` to ``_HORIZON_S``: distance and speed."""

    def __init__(self, script: _Script, route: _Route) -> None:
        self.script = script
        self.route = route
        self.first_s = -int(BACKFILL.total_seconds())
        km, self.km, self.speed = 0.0, [0.0], [0.0]
        for second in range(self.first_s + 1, _HORIZON_S + 1):
            speed = self._speed_at(second / 60, km)
            km = min(route.length_km, km + speed / 3600)
            self.km.append(km)
            self.speed.append(speed)

    def _speed_at(self, minute: float, km: float) -> float:
        script = self.script
        stopped = script.stop_at_km is not None and km >= script.stop_at_km
        if minute < script.depart_min or stopped or km >= self.route.length_km:
            return 0.0
        if script.speeding is not None and script.speeding[0] <= minute < script.speeding[1]:
            return script.speeding[2]
        on_expressway = self.route.segment_at(km) in self.route.expressway_segments
        return script.cruise_kmh if on_expressway else min(script.cruise_kmh, 45.0)

    def report(self, second: float, at: datetime) -> PositionReport | None:
        """The vehicle's fix ``second`` seconds after the demo's start, reported at ``at``; ``None`` when silent."""
        silent = self.script.silent_from_min
        if silent is not None and second >= silent * 60:
            return None
        index = max(0, min(len(self.km) - 1, round(second) - self.first_s))
        (lat, lon), heading = self.route.at(self.km[index])
        speed = self.speed[index]
        if speed > 0:
            speed = max(0.0, speed + 1.5 * math.sin(second / 37))  # the speedometer wanders a little
        else:
            jitter = 0.00003 if round(second / 5) % 2 else -0.00003  # GNSS noise of a parked vehicle, ~3 m
            lat, heading = lat + jitter, 0.0
        return PositionReport(
            plate=self.script.plate,
            time=at,
            lat=round(lat, 6),
            lon=round(lon, 6),
            speed=round(speed, 1),
            heading=round(heading, 1) % 360,
        )


class DangerousGoodsTraffic:
    """The demo's tankers: positions backfilled, then posted live with the monitor running, on a thread."""

    def __init__(
        self, settings: Settings, *, start: datetime | None = None, shipper_uscc: str = DG_SHIPPER["uscc"]
    ) -> None:
        self.settings = settings
        self.shipper_uscc = shipper_uscc
        self.start = (start or utcnow()).replace(microsecond=0)
        routes = _routes()
        self._motions = [_Motion(script, routes[script.route]) for script in _SCRIPTS]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def prepare(self) -> MonitorRun:
        """Replace the demo vehicles' recent positions by the backfill and run the monitor once."""
        engine = create_engine(self.settings)
        try:
            async with create_session_factory(engine)() as session:
                # Partitions first: making one waits for every lock on the table, this session's delete included.
                first_day = (self.start - BACKFILL).date()
                await ensure_partitions(session, {first_day, self.start.date()})
                await session.execute(
                    sa.delete(VehiclePosition).where(
                        col(VehiclePosition.plate).in_([script.plate for script in _SCRIPTS]),
                        col(VehiclePosition.recorded_at) >= self.start - BACKFILL - timedelta(hours=4),
                    )
                )
                reports = [
                    report
                    for motion in self._motions
                    for second in range(-int(BACKFILL.total_seconds()), 1, _BACKFILL_STEP_S)
                    if (report := motion.report(second, self.start + timedelta(seconds=second))) is not None
                ]
                await store_positions(session, reports, source=_SOURCE)
                run = await self._monitor(session, self.start)
                await session.commit()
                return run
        finally:
            await engine.dispose()

    async def _monitor(self, session: AsyncSession, now: datetime) -> MonitorRun:
        return await monitor_positions(session, now=now, thresholds=demo_thresholds())

    def start_live(self) -> None:
        """Post positions and run the monitor on a thread until :meth:`close`."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self._live()), name="dg-traffic", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (the current round finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    async def _live(self) -> None:
        engine = create_engine(self.settings)
        factory = create_session_factory(engine)
        loop = asyncio.get_running_loop()
        next_monitor = loop.time() + MONITOR_EVERY_S  # prepare() has just run it
        try:
            while not self._stop.is_set():
                now = utcnow().replace(microsecond=0)
                second = (now - self.start).total_seconds()
                try:
                    async with factory() as session:
                        reports = [r for m in self._motions if (r := m.report(second, now)) is not None]
                        await store_positions(session, reports, source=_SOURCE)
                        if loop.time() >= next_monitor:
                            await self._monitor(session, now)
                            next_monitor = loop.time() + MONITOR_EVERY_S
                        await session.commit()
                except Exception:  # a busy database or a dropped connection: log it, try again next round
                    _log.exception("demo_traffic_round_failed")
                await asyncio.to_thread(self._stop.wait, POST_EVERY_S)
        finally:
            await engine.dispose()


def start_dangerous_goods_traffic(settings: Settings, *, live: bool) -> tuple[DangerousGoodsTraffic, MonitorRun]:
    """Backfill the tankers' tracks and run the monitor once; with ``live``, keep them moving on a thread."""
    traffic = DangerousGoodsTraffic(settings, start=datetime.now(UTC))
    run = asyncio.run(traffic.prepare())
    if live:
        traffic.start_live()
    return traffic, run
