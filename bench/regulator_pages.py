"""How fast the regulator's pages answer with thousands of active dangerous-goods waybills, on PostgreSQL.

Seeds a throw-away database in-process with ``--waybills`` active dangerous-goods waybills issued through
``waybill.service.create_waybill`` (several permitted carriers, each vehicle, driver and escort in the
carrier's registry, a mix of ADR entries of classes 2, 3 and 8 between Pearl River Delta cities), about
an hour of GNSS fixes per vehicle (``tracking.service.store_positions``) and a few hundred open and
acknowledged alerts; then starts ``freight serve``, signs a regulator in through the sign-in form and
times sequential GETs of the pages beside ``GET /health/live`` in the same run, interleaved, so that every
figure also reads as a ratio to the trivial endpoint.

Run from the repository root (PostgreSQL on 127.0.0.1:5432, user ``postgres``, trust auth)::

    uv run python bench/regulator_pages.py --waybills 5000 --requests 30
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import sqlalchemy as sa
from _harness import (
    BenchConfig,
    Database,
    Target,
    benchmark_database,
    create_database,
    create_org,
    machine_info,
    running_server,
    scratch_directory,
    timestamp,
    write_json,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from stdnum.cn import uscc as uscc_code

from accounts import service as accounts
from accounts.models import Organisation
from accounts.schemas import OrganisationCreate, OrganisationRole, Principal
from accounts.users import create_user
from core.db import create_engine, create_session_factory, utcnow
from core.settings import get_settings, load_settings
from dangerous_goods import registry
from dangerous_goods.registry_schemas import DgCarrierPermitWrite, DgPersonCreate, DgVehicleCreate, PersonRole
from monitoring.models import AlertStatus, DgAlert
from monitoring.shipments import ACTIVE_STATUSES
from tracking.models import VehiclePosition
from tracking.schemas import PositionReport
from tracking.service import store_positions
from waybill.models import DangerousShipment, Waybill
from waybill.schemas import WaybillCreate
from waybill.service import create_waybill

AIM_MS = 1000.0
"""The issue's aim: the list page answers in under a second (checked on its p95)."""
PASSWORD = "bench regulator password"
LOCAL = ZoneInfo("Asia/Shanghai")

# --- realistic data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A loading or unloading place of dangerous goods."""

    name: str
    address: str
    division_code: str
    latitude: float
    longitude: float


SITES: tuple[Site, ...] = (
    Site("广州石化油品储运部", "广东省广州市黄埔区石化路 1 号", "440112", 23.1067, 113.4762),
    Site("广州南沙小虎岛化工码头", "广东省广州市南沙区小虎岛化工区", "440115", 22.7381, 113.5920),
    Site("深圳妈湾油库", "广东省深圳市南山区妈湾大道 39 号", "440305", 22.4885, 113.8597),
    Site("深圳宝安福永加油站配送中心", "广东省深圳市宝安区福永街道福海路", "440306", 22.6730, 113.8095),
    Site("佛山南海化工仓储中心", "广东省佛山市南海区狮山镇化工大道 8 号", "440605", 23.1230, 113.0010),
    Site("佛山三水工业园危化品仓库", "广东省佛山市三水区乐平镇范湖工业园", "440607", 23.2340, 112.9100),
    Site("惠州大亚湾石化区油品罐区", "广东省惠州市惠阳区大亚湾石化大道 6 号", "441303", 22.7387, 114.5662),
    Site("惠州仲恺高新区电池工厂", "广东省惠州市惠城区仲恺大道 98 号", "441302", 23.0413, 114.3216),
    Site("东莞立沙岛精细化工园", "广东省东莞市沙田镇立沙岛", "441900", 22.9003, 113.5710),
    Site("东莞麻涌油气储运站", "广东省东莞市麻涌镇新沙港工业区", "441900", 23.0470, 113.5820),
    Site("中山火炬开发区化工仓", "广东省中山市火炬开发区临海工业园", "442000", 22.5520, 113.5120),
    Site("中山小榄加油站配送点", "广东省中山市小榄镇升平中路", "442000", 22.6620, 113.2480),
    Site("江门新会化工仓储基地", "广东省江门市新会区古井镇临港工业园", "440705", 22.3880, 113.0870),
    Site("江门高新区电镀园", "广东省江门市蓬江区高新区连海路", "440703", 22.6190, 113.0890),
)


@dataclass(frozen=True)
class Goods:
    """A dangerous good as a cargo line declares it."""

    un_number: str
    description: str
    quantity: float
    unit: str
    packing_group: str | None
    package_type: str
    package_count: int
    gross_weight_kg: float


GOODS: tuple[Goods, ...] = (
    Goods("1203", "汽油 (桶装)", 400, "L", "II", "DR", 10, 1200.0),
    Goods("1202", "柴油", 1000, "L", "III", "DR", 5, 1000.0),
    Goods("1830", "硫酸", 800, "kg", "II", "DR", 10, 1200.0),
    Goods("1005", "液氨 (钢瓶)", 200, "kg", None, "CY", 4, 600.0),
    Goods("1075", "液化石油气 (钢瓶)", 300, "kg", None, "CY", 20, 900.0),
    Goods("1170", "乙醇", 600, "L", "II", "DR", 3, 700.0),
    Goods("2794", "湿电池组, 装有酸液", 900, "kg", None, "PX", 12, 950.0),
    Goods("1789", "盐酸", 800, "kg", "II", "DR", 10, 1100.0),
    Goods("1090", "丙酮", 400, "L", "II", "DR", 10, 600.0),
)

SHIPPERS = (
    ("中国石化销售股份有限公司广东石油分公司", "440100"),
    ("中海油惠州石化有限公司", "441300"),
    ("东莞市立沙岛化工贸易有限公司", "441900"),
    ("佛山市南海精细化工有限公司", "440600"),
    ("江门市新会区天禾化学品有限公司", "440700"),
)
CARRIERS = (
    ("佛山顺通危险品运输有限公司", "440600", "E"),
    ("广州穗安危险货物运输有限公司", "440100", "A"),
    ("深圳鹏运化工物流有限公司", "440300", "B"),
    ("惠州大亚湾石化运输有限公司", "441300", "L"),
    ("东莞安达危险品运输有限公司", "441900", "S"),
    ("中山港通化工运输有限公司", "442000", "T"),
    ("江门五邑危货运输有限公司", "440700", "J"),
    ("广东粤运危化物流有限公司", "440100", "A"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁宋郑谢韩唐冯许邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚"
GIVEN = "伟芳娜敏静强磊军洋勇艳杰娟涛明超秀霞平刚桂英华志国建文辉丽红玲海波宁斌峰"
QUALIFICATIONS = (("driver", "道路危险货物运输驾驶员"), ("escort", "道路危险货物运输押运人员"))
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_PLATE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_uscc(region: str) -> str:
    """A fresh, valid unified social credit code of a company registered in ``region``."""
    body = "91" + region + "".join(secrets.choice(_USCC_ALPHABET) for _ in range(9))
    return body + uscc_code.calc_check_digit(body)


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _certificate(region: str, rng: random.Random, serial: int) -> str:
    born = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 30 * 365))
    return f"{region}{born:%Y%m%d}{serial % 1000:03d}{rng.randrange(10)}"


@dataclass(frozen=True)
class Crew:
    """A registered vehicle with its driver and escort."""

    plate: str
    driver: dict[str, str]
    escort: dict[str, str]


@dataclass(frozen=True)
class Carrier:
    """A permitted carrier on the platform and its registered crews."""

    uscc: str
    name: str
    crews: list[Crew]


def _place(site: Site) -> dict[str, Any]:
    return {
        "name": site.name,
        "address": site.address,
        "division_code": site.division_code,
        "latitude": site.latitude,
        "longitude": site.longitude,
    }


def _cargo_line(goods: Goods) -> dict[str, Any]:
    particulars: dict[str, Any] = {"un_number": f"UN{goods.un_number}", "quantity": goods.quantity, "unit": goods.unit}
    if goods.packing_group:
        particulars["packing_group"] = goods.packing_group
    return {
        "description": goods.description,
        "package_count": goods.package_count,
        "package_type": goods.package_type,
        "gross_weight_kg": goods.gross_weight_kg,
        "dangerous_goods": particulars,
    }


def waybill_request(
    rng: random.Random, *, carrier: Carrier, crew: Crew, shipper_name: str, route: tuple[Site, Site], now: datetime
) -> WaybillCreate:
    """A one-leg road waybill of dangerous goods from ``route[0]`` to ``route[1]`` under way today."""
    goods = rng.choice(GOODS)
    cargo = [_cargo_line(goods)]
    if goods.un_number == "1203" and rng.random() < 0.3:  # a tanker round: petrol and diesel
        cargo.append(_cargo_line(GOODS[1]))
    departure = (now - timedelta(minutes=rng.randrange(30, 240))).astimezone(LOCAL).replace(second=0, microsecond=0)
    arrival = departure + timedelta(hours=rng.choice((2, 3, 4)))
    pickup, delivery = route
    body = {
        "shipper_reference": f"DG-{secrets.token_hex(5).upper()}",
        "consignor": {"name": shipper_name, "contact_name": _person_name(rng), "phone": "+86 20 8211 6600"},
        "consignee": {
            "name": f"{delivery.name}收货部",
            "contact_name": _person_name(rng),
            "phone": "+86 755 2668 1200",
        },
        "pickup": _place(pickup),
        "delivery": _place(delivery),
        "pickup_window": {"start": (departure - timedelta(hours=1)).isoformat(), "end": departure.isoformat()},
        "delivery_window": {"start": arrival.isoformat(), "end": (arrival + timedelta(hours=2)).isoformat()},
        "cargo": cargo,
        "emergency_contact": {"name": _person_name(rng), "phone": "+86 750 6638 1190"},
        "legs": [
            {
                "sequence": 1,
                "mode": "road",
                "carrier": {"uscc": carrier.uscc, "name": carrier.name},
                "from_place": _place(pickup),
                "to_place": _place(delivery),
                "planned_departure": departure.isoformat(),
                "planned_arrival": arrival.isoformat(),
                "equipment": {"vehicle_plate": crew.plate},
                "driver": crew.driver,
                "escort": crew.escort,
            }
        ],
    }
    return msgspec.convert(body, WaybillCreate)


# --- seeding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    """What the seeding made, for the checks and the report."""

    waybills: int
    """Active dangerous-goods waybills."""
    positions: int
    open_alerts: int
    acknowledged_alerts: int
    regulator_username: str
    seconds: dict[str, float]


async def _organisation(session: AsyncSession, name: str, role: OrganisationRole, region: str) -> Principal:
    org = await accounts.create_organisation(
        session, data=OrganisationCreate(name=name, role=role, uscc=new_uscc(region))
    )
    return Principal(organisation_id=org.id, uscc=org.uscc, name=org.name, role=role)


def _plates(rng: random.Random, letter: str, count: int, taken: set[str]) -> list[str]:
    plates: list[str] = []
    while len(plates) < count:
        plate = f"粤{letter}" + "".join(rng.choice(_PLATE_ALPHABET) for _ in range(5))
        if plate not in taken and not plate[2:].isalpha():
            taken.add(plate)
            plates.append(plate)
    return plates


async def seed_carriers(
    factory: async_sessionmaker[AsyncSession], rng: random.Random, *, carriers: int, crews: int
) -> list[Carrier]:
    """Carriers with their permits and ``crews`` registered vehicle, driver and escort triples in all."""
    made: list[Carrier] = []
    taken: set[str] = set()
    per_carrier = [crews // carriers + (1 if i < crews % carriers else 0) for i in range(carriers)]
    for index, count in enumerate(per_carrier):
        name, region, letter = CARRIERS[index % len(CARRIERS)]
        if index >= len(CARRIERS):
            name = f"{name}第{index // len(CARRIERS) + 1}分公司"
        async with factory() as session, session.begin():
            org = await _organisation(session, name, OrganisationRole.CARRIER, region)
            await registry.put_carrier_permit(
                session,
                carrier_id=org.organisation_id,
                data=DgCarrierPermitWrite(
                    permit_number=f"粤交运管许可危字{region}{index:06d}号",
                    business_scope="道路危险货物运输 (2类, 3类, 8类)",
                    permitted_classes=["2", "3", "8"],
                    expires_on=date(2030, 12, 31),
                ),
            )
            crew_list: list[Crew] = []
            for serial, plate in enumerate(_plates(rng, letter, count, taken)):
                await registry.create_vehicle(
                    session,
                    carrier_id=org.organisation_id,
                    data=DgVehicleCreate(
                        plate=plate,
                        transport_certificate_number=f"粤交运管{region[2:4]}字{region}{serial:06d}号",
                        permitted_classes=["2", "3", "8"],
                        permit_expires_on=date(2029, 6, 30),
                        tank_allowed=True,
                    ),
                )
                people = {}
                for role, qualification in (
                    ("driver", "道路危险货物运输驾驶员"),
                    ("escort", "道路危险货物运输押运人员"),
                ):
                    person = {
                        "name": _person_name(rng),
                        "certificate_number": _certificate(region, rng, serial * 2 + (role == "escort")),
                    }
                    await registry.create_person(
                        session,
                        carrier_id=org.organisation_id,
                        data=DgPersonCreate(
                            role=PersonRole(role),
                            name=person["name"],
                            certificate_number=person["certificate_number"],
                            qualification_type=qualification,
                            qualified_classes=["2", "3", "8"],
                            expires_on=date(2029, 3, 31),
                        ),
                    )
                    people[role] = person
                crew_list.append(Crew(plate=plate, driver=people["driver"], escort=people["escort"]))
        made.append(Carrier(uscc=org.uscc, name=org.name, crews=crew_list))
    return made


async def seed_waybills(
    factory: async_sessionmaker[AsyncSession], rng: random.Random, carriers: Sequence[Carrier], *, count: int
) -> list[tuple[str, str, Site, Site]]:
    """Issue ``count`` dangerous-goods waybills, one per registered crew, 100 per transaction."""
    async with factory() as session, session.begin():
        shippers = [await _organisation(session, n, OrganisationRole.SHIPPER, r) for n, r in SHIPPERS]
    crews = [(carrier, crew) for carrier in carriers for crew in carrier.crews]
    rng.shuffle(crews)
    issued: list[tuple[str, str, Site, Site]] = []
    now = utcnow()
    for first in range(0, count, 100):
        async with factory() as session, session.begin():
            for carrier, crew in crews[first : first + 100]:
                shipper = rng.choice(shippers)
                pickup, delivery = rng.sample(SITES, 2)
                while pickup.division_code[:4] == delivery.division_code[:4]:
                    pickup, delivery = rng.sample(SITES, 2)
                request = waybill_request(
                    rng, carrier=carrier, crew=crew, shipper_name=shipper.name, route=(pickup, delivery), now=now
                )
                created, _new = await create_waybill(session, principal=shipper, data=request)
                issued.append((created.number, crew.plate, pickup, delivery))
    return issued


def _track(pickup: Site, delivery: Site, *, fixes: int, end: datetime, rng: random.Random) -> list[PositionReport]:
    """``fixes`` one-minute fixes ending at ``end``, somewhere along the straight way from pickup to delivery."""
    start_share = rng.uniform(0.05, 0.6)
    progress_per_fix = rng.uniform(0.002, 0.006)
    heading = (
        math.degrees(math.atan2(delivery.longitude - pickup.longitude, delivery.latitude - pickup.latitude)) % 360.0
    )
    reports = []
    for k in range(fixes):
        share = min(start_share + k * progress_per_fix, 1.0)
        reports.append(
            PositionReport(
                plate="",
                time=end - timedelta(minutes=fixes - 1 - k),
                lat=round(pickup.latitude + share * (delivery.latitude - pickup.latitude) + rng.gauss(0, 0.0004), 6),
                lon=round(pickup.longitude + share * (delivery.longitude - pickup.longitude) + rng.gauss(0, 0.0004), 6),
                speed=round(max(rng.gauss(62, 12), 0.0), 1),
                heading=round(heading, 1),
            )
        )
    return reports


async def seed_positions(
    factory: async_sessionmaker[AsyncSession],
    rng: random.Random,
    waybills: Sequence[tuple[str, str, Site, Site]],
    *,
    fixes: int,
) -> int:
    """``fixes`` one-minute fixes per vehicle up to a minute ago, stored in batches of 5,000."""
    end = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
    batch: list[PositionReport] = []
    stored = 0
    for _number, plate, pickup, delivery in waybills:
        batch.extend(
            msgspec.structs.replace(report, plate=plate)
            for report in _track(pickup, delivery, fixes=fixes, end=end, rng=rng)
        )
        if len(batch) >= 5000:
            async with factory() as session, session.begin():
                stored += await store_positions(session, batch, source="bench:gnss")
            batch = []
    if batch:
        async with factory() as session, session.begin():
            stored += await store_positions(session, batch, source="bench:gnss")
    return stored


_ALERT_KINDS = (
    ("speeding", "warning", "km/h", 97.0, 80.0),
    ("stationary", "warning", "s", 2700.0, 1800.0),
    ("driving_time", "critical", "s", 15300.0, 14400.0),
    ("no_signal", "warning", "s", 1200.0, 900.0),
)


async def seed_alerts(
    factory: async_sessionmaker[AsyncSession],
    rng: random.Random,
    waybills: Sequence[tuple[str, str, Site, Site]],
    carriers: dict[str, uuid.UUID],
    plate_carrier: dict[str, str],
    regulator_id: uuid.UUID,
    *,
    open_count: int,
    acknowledged_count: int,
) -> None:
    """Open and acknowledged alerts on distinct waybills, started within the last hour."""
    now = utcnow()
    chosen = rng.sample(list(waybills), open_count + acknowledged_count)
    async with factory() as session, session.begin():
        for index, (number, plate, pickup, delivery) in enumerate(chosen):
            kind, severity, unit, observed, threshold = rng.choice(_ALERT_KINDS)
            started = now - timedelta(minutes=rng.randrange(3, 60))
            params: dict[str, Any] = {"duration_s": observed if unit == "s" else 180.0}
            if kind == "speeding":
                params |= {"speed_kmh": observed, "limit_kmh": threshold, "road": "expressway"}
            alert = DgAlert(
                dedupe_key=f"{kind}|{plate}|{number}|{started.isoformat()}",
                kind=kind,
                severity=severity,
                plate=plate,
                waybill_number=number,
                carrier_id=carriers[plate_carrier[plate]],
                started_at=started,
                last_seen_at=now,
                observed=observed,
                threshold=threshold,
                unit=unit,
                latitude=(pickup.latitude + delivery.latitude) / 2,
                longitude=(pickup.longitude + delivery.longitude) / 2,
                message=f"{kind}: {observed} {unit} (threshold {threshold} {unit})",
                message_key=f"alert.{kind}",
                message_params=params,
            )
            if index >= open_count:
                alert.status = AlertStatus.ACKNOWLEDGED.value
                alert.acknowledged_by = regulator_id
                alert.acknowledged_at = now - timedelta(minutes=rng.randrange(1, 3))
                alert.acknowledged_note = "已电话联系驾驶员, 核实中"
            session.add(alert)


def _point_settings_at(database: Database) -> None:
    """The process-wide settings (which the services read) on the benchmark database."""
    os.environ["FREIGHT_DATABASE_URL"] = database.url
    os.environ.setdefault("FREIGHT_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()


async def seed(args: argparse.Namespace, database: Database, regulator_uscc: str) -> Seeded:
    """Fill the benchmark database; print how long each part took."""
    _point_settings_at(database)
    engine = create_engine(load_settings())
    factory = create_session_factory(engine)
    rng = random.Random(args.seed)
    seconds: dict[str, float] = {}
    try:
        started = time.perf_counter()
        carriers = await seed_carriers(factory, rng, carriers=args.carriers, crews=args.waybills)
        seconds["carriers_and_registry"] = time.perf_counter() - started
        print(
            f"registered {args.carriers} carriers with {args.waybills} vehicles, drivers and escorts "
            f"in {seconds['carriers_and_registry']:.1f} s",
            flush=True,
        )

        started = time.perf_counter()
        waybills = await seed_waybills(factory, rng, carriers, count=args.waybills)
        seconds["waybills"] = time.perf_counter() - started
        print(
            f"issued {len(waybills)} dangerous-goods waybills through waybill.service.create_waybill "
            f"in {seconds['waybills']:.1f} s ({len(waybills) / seconds['waybills']:.0f}/s)",
            flush=True,
        )

        started = time.perf_counter()
        positions = await seed_positions(factory, rng, waybills, fixes=args.fixes)
        seconds["positions"] = time.perf_counter() - started
        print(
            f"stored {positions} GNSS fixes ({args.fixes} a vehicle, one a minute) through "
            f"tracking.service.store_positions in {seconds['positions']:.1f} s",
            flush=True,
        )

        started = time.perf_counter()
        async with factory() as session, session.begin():
            regulator = await accounts.organisation_by_uscc(session, regulator_uscc, role=OrganisationRole.REGULATOR)
            assert regulator is not None
            carrier_ids = {}
            for carrier in carriers:
                org = await accounts.organisation_by_uscc(session, carrier.uscc, role=OrganisationRole.CARRIER)
                assert org is not None
                carrier_ids[carrier.uscc] = org.id
            username = f"regulator-{secrets.token_hex(3)}"
            await create_user(
                session, organisation_id=regulator.id, username=username, display_name="值班监管员", password=PASSWORD
            )
        plate_carrier = {crew.plate: carrier.uscc for carrier in carriers for crew in carrier.crews}
        acknowledged = args.alerts // 3
        await seed_alerts(
            factory,
            rng,
            waybills,
            carrier_ids,
            plate_carrier,
            regulator.id,
            open_count=args.alerts - acknowledged,
            acknowledged_count=acknowledged,
        )
        seconds["alerts_and_user"] = time.perf_counter() - started
        print(f"raised {args.alerts - acknowledged} open and {acknowledged} acknowledged alerts", flush=True)

        if args.analyze:
            # What autovacuum does soon after a bulk load (the servers we test on may run without it).
            started = time.perf_counter()
            async with engine.connect() as connection:
                await connection.execute(sa.text("ANALYZE"))
                await connection.commit()
            seconds["analyze"] = time.perf_counter() - started
            print(f"ANALYZE took {seconds['analyze']:.1f} s", flush=True)
        else:
            print("no ANALYZE: the planner has no statistics of the new rows (as before autovacuum reaches them)")
    finally:
        await engine.dispose()
    return Seeded(
        waybills=len(waybills),
        positions=positions,
        open_alerts=args.alerts - acknowledged,
        acknowledged_alerts=acknowledged,
        regulator_username=username,
        seconds={k: round(v, 2) for k, v in seconds.items()},
    )


# --- measuring ----------------------------------------------------------------------------------


def sign_in(client: httpx.Client, username: str) -> None:
    """Sign in through the form: the CSRF cookie from ``GET /login``, then ``POST /login`` → 303 and a session."""
    client.get("/login").raise_for_status()
    token = client.cookies["freight_csrf"]
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "next": "", "_csrf_token": token})
    if answer.status_code != 303 or "freight_session" not in client.cookies:
        raise RuntimeError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")


@dataclass(frozen=True)
class Endpoint:
    """A page to time."""

    name: str
    path: str


@dataclass
class Timing:
    """Sequential timings of one endpoint."""

    name: str
    path: str
    samples_ms: list[float]
    bytes: int
    status: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms)


def _get(client: httpx.Client, path: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    answer = client.get(path)
    return (time.perf_counter() - started) * 1000.0, answer


def measure(client: httpx.Client, endpoints: Sequence[Endpoint], *, requests: int, warmup: int) -> list[Timing]:
    """Time ``requests`` GETs of each endpoint, one after another and interleaved, after ``warmup`` rounds."""
    timings = [Timing(e.name, e.path, [], 0, 0) for e in endpoints]
    for round_index in range(warmup + requests):
        for endpoint, timing in zip(endpoints, timings, strict=True):
            elapsed_ms, answer = _get(client, endpoint.path)
            if answer.status_code != 200:
                raise RuntimeError(f"GET {endpoint.path}: {answer.status_code} {answer.text[:500]}")
            if round_index >= warmup:
                timing.samples_ms.append(elapsed_ms)
                timing.bytes, timing.status = len(answer.content), answer.status_code
    return timings


def check_pages(client: httpx.Client, seeded: Seeded) -> dict[str, int]:
    """What the pages show matches the seeded data: every shipment on the map, 50 rows, all in the CSV."""
    answer = client.get("/regulator")
    if answer.status_code != 200 or '<table id="shipments">' not in answer.text:
        raise RuntimeError(f"GET /regulator: {answer.status_code} {answer.text[:500]}")
    overview = answer.text
    table = overview.split('<table id="shipments">', 1)[1].split("</table>", 1)[0]
    svg = overview.split("<svg", 1)[1].split("</svg>", 1)[0]
    found = {
        "map_markers": svg.count('<a href="/regulator/shipments/'),
        "table_rows": table.count("<tr") - 1,
        "csv_rows": client.get("/regulator/shipments.csv").text.count("\n") - 1,
    }
    print(
        f"check: {found['map_markers']} map markers, {found['table_rows']} table rows on page 1, "
        f"{found['csv_rows']} CSV rows (seeded {seeded.waybills} waybills)",
        flush=True,
    )
    return found


def report(timings: Sequence[Timing], *, reference: Timing) -> None:
    """One line per endpoint: median, p95, max, size, and the ratio of the median to the reference's."""
    print()
    print(f"{'endpoint':<34} {'median ms':>10} {'p95 ms':>9} {'max ms':>9} {'bytes':>10} {'× /health/live':>15}")
    for timing in timings:
        ratio = timing.median_ms / reference.median_ms
        print(
            f"{timing.name:<34} {timing.median_ms:>10.1f} {timing.p95_ms:>9.1f} {timing.max_ms:>9.1f} "
            f"{timing.bytes:>10} {ratio:>15.1f}"
        )


def timing_records(timings: Sequence[Timing], *, reference: Timing) -> list[dict[str, Any]]:
    """The timings as JSON records: figures rounded to 0.01 ms, the ratio to the reference, every sample."""
    return [
        {
            **{k: v for k, v in asdict(timing).items() if k != "samples_ms"},
            "median_ms": round(timing.median_ms, 2),
            "p95_ms": round(timing.p95_ms, 2),
            "max_ms": round(timing.max_ms, 2),
            "ratio_to_reference": round(timing.median_ms / reference.median_ms, 2),
            "samples_ms": [round(s, 2) for s in timing.samples_ms],
        }
        for timing in timings
    ]


ENDPOINTS = (
    Endpoint("GET /health/live (reference)", "/health/live"),
    Endpoint("GET /regulator", "/regulator"),
    Endpoint("GET /regulator?class=3", "/regulator?class=3"),
    Endpoint("GET /regulator/alerts", "/regulator/alerts"),
    Endpoint("GET /regulator/shipments.csv", "/regulator/shipments.csv"),
)


def run(args: argparse.Namespace) -> int:
    """Seed, serve, sign in, measure, report; 0 when every request answered 200."""
    config = BenchConfig(
        duration=0,
        connections=1,
        workers=args.workers,
        threads=1,
        warmup=args.warmup,
        rounds=1,
        timeout=60,
        pool_size=args.pool_size,
        postgres_url=args.postgres.rstrip("/"),
    )
    with _database(args, config.postgres_url) as database, scratch_directory() as scratch:
        if args.reuse_database:
            seeded = asyncio.run(describe(database))
            print(f"reusing the seeded database {database.name}", flush=True)
        else:
            regulator_uscc = new_uscc("440000")
            create_org(database.url, name="广东省交通运输厅", role="regulator", uscc=regulator_uscc)
            started = time.perf_counter()
            seeded = asyncio.run(seed(args, database, regulator_uscc))
            print(f"seeding took {time.perf_counter() - started:.1f} s in all", flush=True)
        with (
            running_server(config, database, scratch) as target,
            httpx.Client(base_url=target.base_url, timeout=60.0, follow_redirects=False) as client,
        ):
            sign_in(client, seeded.regulator_username)
            found = check_pages(client, seeded)
            timings = measure(client, ENDPOINTS, requests=args.requests, warmup=args.warmup)
        return finish(args, config, target, seeded, found, timings)


@contextmanager
def _database(args: argparse.Namespace, postgres_url: str) -> Iterator[Database]:
    """The benchmark database: a fresh one dropped afterwards, kept with ``--keep-database``, or the one reused."""
    if args.reuse_database:
        yield Database(name=args.reuse_database, url=f"{postgres_url}/{args.reuse_database}")
    elif args.keep_database:
        name = create_database(postgres_url)
        print(f"database {name} (kept afterwards: drop it with DROP DATABASE)", flush=True)
        yield Database(name=name, url=f"{postgres_url}/{name}")
    else:
        with benchmark_database(postgres_url) as database:
            yield database


async def describe(database: Database) -> Seeded:
    """What a database seeded by an earlier run holds, and a new page user of its regulator."""
    _point_settings_at(database)
    engine = create_engine(load_settings())
    factory = create_session_factory(engine)
    try:
        async with factory() as session, session.begin():
            waybills = await session.scalar(
                sa.select(sa.func.count())
                .select_from(DangerousShipment)
                .join(Waybill, col(Waybill.id) == col(DangerousShipment.waybill_id))
                .where(col(Waybill.status).in_(ACTIVE_STATUSES))
            )
            positions = await session.scalar(sa.select(sa.func.count()).select_from(VehiclePosition))
            alerts = dict(
                (await session.execute(sa.select(col(DgAlert.status), sa.func.count()).group_by(col(DgAlert.status))))
                .tuples()
                .all()
            )
            regulator = await session.scalar(
                sa.select(Organisation).where(col(Organisation.role) == OrganisationRole.REGULATOR.value).limit(1)
            )
            if regulator is None:
                raise RuntimeError(f"{database.name} has no regulator: not a database of this benchmark")
            username = f"regulator-{secrets.token_hex(3)}"
            await create_user(
                session, organisation_id=regulator.id, username=username, display_name="值班监管员", password=PASSWORD
            )
    finally:
        await engine.dispose()
    return Seeded(
        waybills=int(waybills or 0),
        positions=int(positions or 0),
        open_alerts=alerts.get(AlertStatus.OPEN.value, 0),
        acknowledged_alerts=alerts.get(AlertStatus.ACKNOWLEDGED.value, 0),
        regulator_username=username,
        seconds={},
    )


def finish(
    args: argparse.Namespace,
    config: BenchConfig,
    target: Target,
    seeded: Seeded,
    found: dict[str, int],
    timings: Sequence[Timing],
) -> int:
    """Print the table and the verdict, and write the JSON result."""
    reference, overview = timings[0], timings[1]
    print(
        f"\nfreight serve --workers {config.workers}; {args.requests} sequential GETs of each endpoint, interleaved, "
        f"after {args.warmup} warm-up rounds, on {os.cpu_count()} cores"
    )
    report(timings, reference=reference)
    met = overview.p95_ms < AIM_MS
    print(
        f"\nlist page p95 {overview.p95_ms:.0f} ms (aim < {AIM_MS:.0f} ms) with {seeded.waybills} active "
        f"dangerous-goods waybills: {'met' if met else 'NOT met'}"
    )
    document = {
        "benchmark": "regulator_pages",
        "machine": machine_info(),
        "server": {"workers": config.workers, "pool_size": config.pool_size, "base_url": target.base_url},
        "data": {
            "waybills": seeded.waybills,
            "carriers": args.carriers,
            "positions": seeded.positions,
            "fixes_per_vehicle": args.fixes,
            "open_alerts": seeded.open_alerts,
            "acknowledged_alerts": seeded.acknowledged_alerts,
            "seeding_seconds": seeded.seconds,
            "analyzed": args.analyze,
        },
        "check": found,
        "requests_per_endpoint": args.requests,
        "warmup_rounds": args.warmup,
        "endpoints": timing_records(timings, reference=reference),
        "aim": {"list_page_p95_ms_below": AIM_MS, "met": met},
    }
    path = write_json("regulator", timestamp(), document)
    print(f"results written to {path}")
    return 0


def main() -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--waybills", type=int, default=5000, help="active dangerous-goods waybills (default 5000)")
    parser.add_argument("--carriers", type=int, default=8, help="carriers the vehicles belong to (default 8)")
    parser.add_argument("--fixes", type=int, default=60, help="one-minute GNSS fixes per vehicle (default 60)")
    parser.add_argument("--alerts", type=int, default=300, help="alerts, two thirds open (default 300)")
    parser.add_argument("--requests", type=int, default=30, help="timed GETs of each endpoint (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds before measuring (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="freight serve --workers (default 2)")
    parser.add_argument("--pool-size", type=int, default=None, help="FREIGHT_DATABASE_POOL_SIZE for the server")
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="skip ANALYZE after seeding (measure with no planner statistics of the new rows)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the seeded database afterwards (its name is printed)"
    )
    parser.add_argument(
        "--reuse-database", metavar="NAME", help="measure on a database kept by an earlier run instead of seeding"
    )
    parser.add_argument("--seed", type=int, default=20261121, help="seed of the generated data")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("FREIGHT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without database (default: $FREIGHT_BENCH_POSTGRES or postgres@127.0.0.1:5432)",
    )
    args = parser.parse_args()
    if args.waybills < 1 or args.requests < 1 or args.alerts > args.waybills:
        parser.error("--waybills and --requests must be positive, --alerts at most --waybills")
    try:
        return run(args)
    except RuntimeError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
