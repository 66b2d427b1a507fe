"""Demo data: organisations and a dozen waybills around the Pearl River Delta."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from stdnum import iso6346

from accounts import service as accounts
from accounts.models import Organisation, OrganisationPlace, UserAccount
from accounts.schemas import OrganisationCreate, OrganisationRole, Principal
from accounts.users import create_user
from api.demo_dangerous_goods import seed_dangerous_goods_shipments
from core.db import create_engine, create_session_factory
from core.settings import Settings
from dangerous_goods import registry
from dangerous_goods.registry_schemas import DgCarrierPermitWrite, DgPersonCreate, DgVehicleCreate
from dispatch import service as fleet
from dispatch.demo_day import PLACE_LOCODES, demo_day_start, store_day
from dispatch.models import DispatchPlace
from dispatch.schemas import PlaceCreate, TrailerCreate
from dispatch.solver.generator import generate_day
from integrations.partners import PartnerInfo, list_partners, register_partner
from integrations.schemas import PartnerKind
from waybill import events
from waybill import service as waybills
from waybill.event_schemas import TransportEventCreate
from waybill.models import Waybill
from waybill.schemas import CancellationReason, WaybillCancellation, WaybillCreate

__all__ = (
    "DEMO_NODE_CODE",
    "DEMO_ORGANISATIONS",
    "DEMO_TERMINAL_LOCODES",
    "issue_live_waybill",
    "register_demo_partners",
    "seed_demo",
    "seed_dispatch_day",
)

DEMO_ORGANISATIONS: list[dict[str, Any]] = [
    {"name": "佛山顺德华美电器有限公司", "role": "shipper", "uscc": "91440606MA4W8K2L7M"},
    {"name": "佛山顺通甩挂运输有限公司", "role": "carrier", "uscc": "91440604MA51L2K4U9"},
    {"name": "珠江驳运物流有限公司", "role": "carrier", "uscc": "91440101MA59X8Q2EU"},
    {"name": "深圳蛇口集装箱码头有限公司", "role": "port", "uscc": "91440300708461136T", "places": ["CNSHK"]},
    {"name": "中华人民共和国蛇口海关", "role": "customs", "uscc": "11440000006940059K", "places": ["CNSHK"]},
    {"name": "广东省交通运输厅", "role": "regulator", "uscc": "12440000455858437F"},
    {"name": "平台运营中心", "role": "admin", "uscc": "91440115MA59RD7E34"},
]

_PLACES: dict[str, dict[str, Any]] = {
    "shunde": {
        "name": "顺德北滘家电制造基地",
        "address": "佛山市顺德区北滘镇工业大道 18 号",
        "division_code": "440606",
        "latitude": 22.9265,
        "longitude": 113.2092,
    },
    "beijiao": {
        "name": "佛山北滘港码头",
        "address": "佛山市顺德区北滘镇港前路 1 号",
        "division_code": "440606",
        "latitude": 22.9402,
        "longitude": 113.2381,
        "locode": "CNFOS",
    },
    "shekou": {
        "name": "蛇口集装箱码头",
        "address": "深圳市南山区蛇口港湾大道 1 号",
        "division_code": "440305",
        "latitude": 22.4751,
        "longitude": 113.8965,
        "locode": "CNSHK",
    },
    "nansha": {
        "name": "南沙港三期码头",
        "address": "广州市南沙区龙穴岛港前大道 1 号",
        "division_code": "440115",
        "latitude": 22.6215,
        "longitude": 113.6732,
        "locode": "CNNSA",
    },
    "yantian": {
        "name": "盐田国际集装箱码头",
        "address": "深圳市盐田区盐田港北路 1 号",
        "division_code": "440308",
        "latitude": 22.5768,
        "longitude": 114.2751,
        "locode": "CNYTN",
    },
    "dongguan": {
        "name": "东莞长安电子产业园",
        "address": "东莞市长安镇振安中路 88 号",
        "division_code": "441900",
        "latitude": 22.8167,
        "longitude": 113.8106,
    },
    "zhongshan": {
        "name": "中山小榄五金园区",
        "address": "中山市小榄镇工业大道南 26 号",
        "division_code": "442000",
        "latitude": 22.6702,
        "longitude": 113.2472,
    },
    "jiangmen": {
        "name": "江门新会化工园区",
        "address": "江门市新会区古井镇临港工业园 6 号",
        "division_code": "440705",
        "latitude": 22.3681,
        "longitude": 113.0845,
    },
    "huizhou": {
        "name": "惠州大亚湾石化区",
        "address": "惠州市大亚湾经济技术开发区石化大道中 9 号",
        "division_code": "441303",
        "latitude": 22.7315,
        "longitude": 114.5389,
    },
    "dalang": {
        "name": "广州大朗铁路集装箱中心站",
        "address": "广州市白云区大朗货运站路 2 号",
        "division_code": "440111",
        "latitude": 23.2702,
        "longitude": 113.2618,
        "locode": "CNCAN",
    },
    "guangzhou_dc": {
        "name": "广州黄埔物流配送中心",
        "address": "广州市黄埔区开创大道 2666 号",
        "division_code": "440112",
        "latitude": 23.1722,
        "longitude": 113.4612,
    },
}

_ROAD_CARRIER = {"uscc": "91440604MA51L2K4U9", "name": "佛山顺通甩挂运输有限公司"}
_BARGE_CARRIER = {"uscc": "91440101MA59X8Q2EU", "name": "珠江驳运物流有限公司"}

# The road carrier's dangerous-goods registry: the tractors of the demo's dangerous loads
# (leg 1 of PO-DEMO-1005, 1006 and 1009), a driver and an escort (押运员) qualified for all three.
_DG_CLASSES = ["2", "3", "8"]
_DG_VEHICLES = [
    {"plate": plate, "transport_certificate_number": f"粤交运管佛字4406040{n}号", "permitted_classes": _DG_CLASSES}
    for n, plate in ((12345, "粤E7K724"), (12346, "粤E8K725"), (12349, "粤E5K728"))
]
_DG_DRIVER = {"name": "黄志明", "phone": "+86 138 2299 4410", "certificate_number": "441900198507121234"}
_DG_ESCORT = {"name": "陈丽华", "phone": "+86 139 2266 0183", "certificate_number": "440604199103155528"}


async def _register_dangerous_goods_fleet(session: AsyncSession, carrier: Principal) -> None:
    expires_on = (datetime.now(UTC) + timedelta(days=3 * 365)).date().isoformat()
    permit = {"permit_number": "粤交运管许可佛字440604000123号", "business_scope": "道路危险货物运输 (2类, 3类, 8类)"}
    await registry.put_carrier_permit(
        session,
        carrier_id=carrier.organisation_id,
        data=msgspec.convert(
            {**permit, "permitted_classes": _DG_CLASSES, "expires_on": expires_on}, DgCarrierPermitWrite
        ),
    )
    for vehicle in _DG_VEHICLES:
        permit = msgspec.convert({**vehicle, "permit_expires_on": expires_on}, DgVehicleCreate)
        await registry.create_vehicle(session, carrier_id=carrier.organisation_id, data=permit)
    for role, person, kind in (
        ("driver", _DG_DRIVER, "道路危险货物运输驾驶员"),
        ("escort", _DG_ESCORT, "道路危险货物运输押运人员"),
    ):
        qualification = msgspec.convert(
            {
                **person,
                "role": role,
                "qualification_type": kind,
                "qualified_classes": _DG_CLASSES,
                "expires_on": expires_on,
            },
            DgPersonCreate,
        )
        await registry.create_person(session, carrier_id=carrier.organisation_id, data=qualification)


# (reference, pickup, delivery, goods, kg, container, dangerous goods, what happens to it)
_SHIPMENTS: list[tuple[str, str, str, str, float, str | None, dict[str, Any] | None, str]] = [
    ("PO-DEMO-1001", "shunde", "shekou", "家用冰箱 BCD-520", 8160, "CSQU3054383", None, "barge"),
    ("PO-DEMO-1002", "shunde", "nansha", "分体式空调室外机", 6400, "MSKU9070323", None, "in_transit"),
    ("PO-DEMO-1003", "dongguan", "yantian", "笔记本电脑主板", 2100, "TGHU6149323", None, "issued"),
    ("PO-DEMO-1004", "zhongshan", "nansha", "不锈钢厨具", 11800, "OOLU8853917", None, "delivered"),
    (
        "PO-DEMO-1005",
        "jiangmen",
        "guangzhou_dc",
        "涂料 (易燃液体)",
        9600,
        None,
        {"un_number": "UN1263", "packing_group": "II", "quantity": 9000, "unit": "L"},
        "issued",
    ),
    (
        "PO-DEMO-1006",
        "huizhou",
        "guangzhou_dc",
        "石油气 (液化)",
        14200,
        None,
        {"un_number": "UN1075", "quantity": 14200, "unit": "kg"},
        "in_transit",
    ),
    ("PO-DEMO-1007", "shunde", "dalang", "微波炉 (中欧班列)", 7300, "CSNU6276212", None, "issued"),
    ("PO-DEMO-1008", "dongguan", "shekou", "蓝牙耳机", 1800, "HLXU8451297", None, "cancelled"),
    (
        "PO-DEMO-1009",
        "jiangmen",
        "nansha",
        "硫酸 (腐蚀性)",
        18000,
        None,
        {"un_number": "UN1830", "packing_group": "II", "quantity": 18000, "unit": "kg"},
        "issued",
    ),
    ("PO-DEMO-1010", "zhongshan", "yantian", "LED 灯具", 4200, "TCNU4538710", None, "draft"),
    ("PO-DEMO-1011", "shunde", "shekou", "电饭煲", 5100, "CSQU3054383", None, "barge"),
    ("PO-DEMO-1012", "huizhou", "yantian", "聚乙烯颗粒", 21500, "MSKU9070323", None, "issued"),
]


def _container_or_none(code: str | None) -> dict[str, Any]:
    return {"container_number": code} if code else {}


def _waybill_request(index: int, shipment: tuple[Any, ...], day: datetime) -> dict[str, Any]:
    reference, pickup, delivery, goods, kg, container, dangerous, plan = shipment
    start = day + timedelta(hours=2 * index)
    road_to = "beijiao" if plan == "barge" else delivery
    legs: list[dict[str, Any]] = [
        {
            "sequence": 1,
            "mode": "road",
            "carrier": _ROAD_CARRIER,
            "from_place": _PLACES[pickup],
            "to_place": _PLACES[road_to],
            "planned_departure": (start + timedelta(hours=1)).isoformat(),
            "planned_arrival": (start + timedelta(hours=4)).isoformat(),
            "equipment": {
                "vehicle_plate": f"粤E{3 + index % 6}K7{20 + index}",
                "trailer_plate": f"粤E{2380 + index}挂",
                **_container_or_none(container),
            },
        }
    ]
    if plan == "barge":
        legs.append(
            {
                "sequence": 2,
                "mode": "inland_water",
                "carrier": _BARGE_CARRIER,
                "from_place": _PLACES["beijiao"],
                "to_place": _PLACES[delivery],
                "planned_departure": (start + timedelta(hours=8)).isoformat(),
                "planned_arrival": (start + timedelta(hours=20)).isoformat(),
                "equipment": _container_or_none(container),
            }
        )
    cargo: dict[str, Any] = {
        "description": goods,
        "package_count": 20 + index * 7,
        "package_type": "CT",
        "gross_weight_kg": kg,
    }
    if dangerous:
        cargo["dangerous_goods"] = dangerous
        cargo["package_type"] = "DR" if dangerous["unit"] == "L" else "TK"
        legs[0].update({"driver": _DG_DRIVER, "escort": _DG_ESCORT})
    return {
        "emergency_contact": {"name": "林国强", "phone": "+86 750 6638 1190"} if dangerous else None,
        "shipper_reference": reference,
        "consignor": {"name": "佛山顺德华美电器有限公司", "uscc": "91440606MA4W8K2L7M", "phone": "+86 757 2283 6610"},
        "consignee": {"name": "广州黄埔进出口贸易有限公司", "contact_name": "李明", "phone": "+86 20 8220 1100"},
        "pickup": _PLACES[pickup],
        "delivery": _PLACES[delivery],
        "pickup_window": {"start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat()},
        "delivery_window": {
            "start": (start + timedelta(hours=4)).isoformat(),
            "end": (start + timedelta(hours=30)).isoformat(),
        },
        "cargo": [cargo],
        "references": {"order_number": f"SO-{reference[3:]}"},
        "legs": legs,
        "draft": plan == "draft",
    }


def _principal(org: Organisation) -> Principal:
    return Principal(organisation_id=org.id, uscc=org.uscc, name=org.name, role=OrganisationRole(org.role))


DEMO_PASSWORD = "freight-demo"
"""Password of the demo's page users (one per demo organisation, named after its role)."""
DEMO_USER_NAME = "演示账号"
"""The name the pages show for a demo user."""


async def seed_demo_users(session: AsyncSession, orgs: dict[str, Organisation]) -> None:
    """A page user per demo organisation, named after its role (``regulator``, ``carrier``...), if absent."""
    for org in orgs.values():
        taken = await session.scalar(
            sa.select(sa.func.count()).select_from(UserAccount).where(col(UserAccount.username) == org.role)
        )
        if not taken:
            await create_user(
                session, organisation_id=org.id, username=org.role, display_name=DEMO_USER_NAME, password=DEMO_PASSWORD
            )


async def seed_dispatch_day(
    session: AsyncSession, carrier: Principal, *, now: datetime | None = None
) -> dict[str, int] | None:
    """The carrier's drop-and-hook day (40 tractors, 150 moves) if it has no dispatch places yet.

    The day starts as ``demo_day_start`` says for ``now`` (default: the current time). Returns the
    rows made by kind, or ``None`` when the carrier had its fleet already.
    """
    places = await session.scalar(
        sa.select(sa.func.count())
        .select_from(DispatchPlace)
        .where(col(DispatchPlace.carrier_id) == carrier.organisation_id)
    )
    if places:
        return None
    start = demo_day_start(now or datetime.now(UTC))
    day = generate_day(tractors=40, moves=150, trailers_per_tractor=2.5, seed=7, start=start)
    counts = await store_day(session, carrier_id=carrier.organisation_id, problem=day)
    places, trailers = await _waybill_fleet(session, carrier)
    return counts | {"places": counts["places"] + places, "trailers": counts["trailers"] + trailers}


async def _waybill_fleet(session: AsyncSession, carrier: Principal) -> tuple[int, int]:
    """The places and trailers of the demo waybills' road legs, so that their legs can become moves.

    Places the generated day has already (by UN/LOCODE) are not added again. Returns how many
    places and trailers were added.
    """
    ends = {pickup for _, pickup, *_ in _SHIPMENTS} | {
        "beijiao" if plan == "barge" else delivery for _, _, delivery, *_, plan in _SHIPMENTS
    }
    place_ids: dict[str, int] = {}
    for key in sorted(ends):
        spec = _PLACES[key]
        if spec.get("locode") in PLACE_LOCODES.values():
            continue
        body = {
            "code": f"wb-{key.replace('_', '-')}",
            "name": spec["name"],
            "kind": "port_terminal" if spec.get("locode") else "shipper",
            "latitude": spec["latitude"],
            "longitude": spec["longitude"],
            "locode": spec.get("locode"),
        }
        place = await fleet.create_place(
            session, carrier_id=carrier.organisation_id, data=msgspec.convert(body, PlaceCreate)
        )
        place_ids[key] = place.id
    trailers = 0
    for index, (_, pickup, _, _, _, container, dangerous, plan) in enumerate(_SHIPMENTS):
        if plan not in {"issued", "in_transit", "barge"}:
            continue
        kind = "container_chassis" if container else "tank" if dangerous and dangerous["unit"] != "L" else "box"
        body = {
            "plate": f"粤E{2380 + index}挂",
            "type": kind,
            "place_id": place_ids[pickup],
            "loaded": True,
            "hazmat_approved": dangerous is not None,
        }
        await fleet.create_trailer(
            session, carrier_id=carrier.organisation_id, data=msgspec.convert(body, TrailerCreate)
        )
        trailers += 1
    return len(place_ids), trailers


async def seed_demo(settings: Settings) -> list[tuple[str, str, str]]:
    """Create the demo organisations and waybills if absent; return (role, name, new API key) for each."""
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            orgs: dict[str, Organisation] = {}
            for spec in DEMO_ORGANISATIONS:
                org = await accounts.organisation_by_uscc(session, spec["uscc"])
                if org is None:
                    await accounts.create_organisation(session, data=msgspec.convert(spec, OrganisationCreate))
                    org = await accounts.organisation_by_uscc(session, spec["uscc"])
                assert org is not None
                orgs[spec["uscc"]] = org
            shipper = _principal(orgs["91440606MA4W8K2L7M"])
            road = _principal(orgs["91440604MA51L2K4U9"])
            barge = _principal(orgs["91440101MA59X8Q2EU"])
            already = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Waybill)
                .where(col(Waybill.shipper_id) == shipper.organisation_id)
            )
            if not already:
                await _register_dangerous_goods_fleet(session, road)
                day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
                for index, shipment in enumerate(_SHIPMENTS):
                    request = msgspec.convert(_waybill_request(index, shipment, day), WaybillCreate)
                    created, _ = await waybills.create_waybill(session, principal=shipper, data=request)
                    await _play(
                        session, shipment[-1], created.number, shipper, road, barge, day + timedelta(hours=index)
                    )
            await seed_dangerous_goods_shipments(session)
            await seed_dispatch_day(session, road)
            await seed_demo_users(session, orgs)
            keys = []
            for spec in DEMO_ORGANISATIONS:
                org = orgs[spec["uscc"]]
                issued = await accounts.issue_api_key(session, organisation_id=org.id, label="demo")
                keys.append((org.role, org.name, issued.key))
            await session.commit()
            return keys
    finally:
        await engine.dispose()


async def _report(session: Any, reporter: Principal, number: str, *raw_events: dict[str, Any]) -> None:
    events_in = [msgspec.convert(raw, TransportEventCreate) for raw in raw_events]
    await events.record_events(session, principal=reporter, number=number, events=events_in)


async def _barge_journey(session: Any, number: str, road: Principal, barge: Principal, at: datetime) -> None:
    """Truck to the river terminal, handover, trailer loaded unaccompanied on the barge, under way."""
    terminal = {"locode": "CNFOS", "name": "佛山北滘港码头"}

    def when(hours: float) -> str:
        return (at + timedelta(hours=hours)).isoformat()

    await _report(
        session,
        road,
        number,
        {"event_type": "departed", "leg": 1, "event_time": when(0), "source": "gnss"},
        {"event_type": "arrived", "leg": 1, "event_time": when(1), "place": terminal},
        {"event_type": "dropped", "leg": 1, "event_time": when(1.2), "place": terminal},
        {
            "event_type": "handover",
            "leg": 1,
            "event_time": when(1.3),
            "place": terminal,
            "handover": {"to_carrier": _BARGE_CARRIER},
        },
    )
    await _report(
        session,
        barge,
        number,
        {"event_type": "loaded", "leg": 2, "event_time": when(2), "place": terminal},
        {"event_type": "departed", "leg": 2, "event_time": when(2.5), "place": terminal},
        {
            "event_type": "delay",
            "leg": 2,
            "event_time": when(3),
            "delay_minutes": 90,
            "remarks": "珠江口大雾, 限速航行",
        },
    )


async def _play(
    session: Any, plan: str, number: str, shipper: Principal, road: Principal, barge: Principal, at: datetime
) -> None:
    """Move a demo waybill along its lifecycle."""
    if plan == "barge":
        await _barge_journey(session, number, road, barge, at)
    if plan in {"in_transit", "delivered"}:
        departed = {"event_type": "departed", "leg": 1, "event_time": at.isoformat(), "source": "gnss"}
        await events.record_events(
            session, principal=road, number=number, events=[msgspec.convert(departed, TransportEventCreate)]
        )
    if plan == "delivered":
        arrival = at + timedelta(hours=3)
        delivered = {
            "event_type": "delivered",
            "leg": 1,
            "event_time": arrival.isoformat(),
            "place": {"locode": "CNNSA", "name": "南沙港三期码头"},
            "proof_of_delivery": {
                "receiver_name": "赵海涛",
                "received_at": arrival.isoformat(),
                "signature_ref": "pod/demo-1004.png",
            },
        }
        await events.record_events(
            session, principal=road, number=number, events=[msgspec.convert(delivered, TransportEventCreate)]
        )
    if plan == "cancelled":
        await waybills.cancel_waybill(
            session,
            principal=shipper,
            number=number,
            cancellation=WaybillCancellation(reason_code=CancellationReason.GOODS_NOT_READY),
        )


# --- the live partner exchange (when RabbitMQ is reachable) ---------------------------------------

DEMO_TERMINAL_LOCODES = ("CNFOS", "CNSHK")
"""Terminals played by simulators in the demo; each partner's code is its LOCODE in lower case."""
DEMO_NODE_CODE = "node"
_REGULATOR_USCC = "12440000455858437F"
_TERMINAL_OPERATORS: dict[str, dict[str, Any]] = {
    "CNFOS": {"name": "佛山北滘港码头有限公司", "role": "port", "uscc": "91440606MA4XBJ0G3C", "places": ["CNFOS"]},
}
"""Port organisations created for simulated terminals whose place no demo port organisation covers."""


async def _port_operator(session: AsyncSession, locode: str) -> Organisation:
    """The port organisation acting at ``locode``, created from ``_TERMINAL_OPERATORS`` if there is none."""
    query = (
        sa.select(Organisation)
        .join(OrganisationPlace, col(OrganisationPlace.organisation_id) == col(Organisation.id))
        .where(col(OrganisationPlace.locode) == locode, col(Organisation.role) == OrganisationRole.PORT.value)
    )
    org = await session.scalar(query)
    if org is None:
        await accounts.create_organisation(
            session, data=msgspec.convert(_TERMINAL_OPERATORS[locode], OrganisationCreate)
        )
        org = await session.scalar(query)
    assert org is not None
    return org


async def register_demo_partners(settings: Settings) -> list[PartnerInfo]:
    """Register the node (as the regulator) and a terminal per ``DEMO_TERMINAL_LOCODES`` (as its port operator)."""
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            for locode in DEMO_TERMINAL_LOCODES:
                operator = await _port_operator(session, locode)
                await register_partner(
                    session,
                    code=locode.lower(),
                    kind=PartnerKind.TERMINAL,
                    name=operator.name,
                    organisation=operator,
                    locode=locode,
                    message_format="edifact",
                )
            regulator = await accounts.organisation_by_uscc(session, _REGULATOR_USCC)
            assert regulator is not None, "seed the demo first"
            await register_partner(
                session, code=DEMO_NODE_CODE, kind=PartnerKind.NODE, name="LOGINK", organisation=regulator
            )
            await session.commit()
            codes = {DEMO_NODE_CODE, *(locode.lower() for locode in DEMO_TERMINAL_LOCODES)}
            return [p for p in await list_partners(session) if p.code in codes]
    finally:
        await engine.dispose()


def _fresh_container_number() -> str:
    body = "CSQU" + "".join(secrets.choice("0123456789") for _ in range(6))
    return body + iso6346.calc_check_digit(body)


async def issue_live_waybill(settings: Settings) -> str:
    """Issue a waybill whose truck is due at the Beijiao terminal (CNFOS) now, its container then going
    on by barge to Shekou; the simulated terminal and node answer it. Returns its number."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    index = len(_SHIPMENTS)
    shipment = (f"PO-LIVE-{now:%m%d%H%M}", "shunde", "shekou", "电饭煲 (实时演示)", 5100, None, None, "barge")
    request = _waybill_request(index, shipment, now - timedelta(hours=2 * index + 1, minutes=30))
    container = _fresh_container_number()
    for leg in request["legs"]:
        leg["equipment"]["container_number"] = container
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            shipper = await accounts.organisation_by_uscc(session, DEMO_ORGANISATIONS[0]["uscc"])
            assert shipper is not None, "seed the demo first"
            created, _ = await waybills.create_waybill(
                session, principal=_principal(shipper), data=msgspec.convert(request, WaybillCreate)
            )
            await session.commit()
            return created.number
    finally:
        await engine.dispose()
