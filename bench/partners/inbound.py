"""How fast the partner consumers apply inbound messages, beside raw pika consuming of the same messages.

Usage::

    uv run python -m bench.partners.inbound --messages 10000                  # node acknowledgements
    uv run python -m bench.partners.inbound --messages 10000 --kind codeco    # terminal gate-ins
    uv run python -m bench.partners.inbound --kind positions --threads 2 --batch-size 500

A run pre-publishes ``--messages`` messages to a partner's inbound queue, starts the consumers of
:func:`integrations.runner.start_consumers` (``--threads``, ``--batch-size``) and times, from their
start, until every message is applied (``ConsumerGroup.totals()``, polled). The reference consumes the
same messages from another quorum queue of the same kind with raw pika (``consume`` with the same
prefetch, one multiple-ack per batch, no database work), with as many threads, in the same run.

Kinds (``--kind``):

- ``ack``: the national node's EWAYBILL_ACK envelopes for ``--waybills`` issued waybills; each is a
  ``waybill_change`` row;
- ``positions``: VEHICLE_POSITIONS envelopes of ``--positions`` GNSS fixes each; ``vehicle_position`` rows;
- ``codeco``: a terminal's CODECO gate-in (EDIFACT D95B) of one of the ``--waybills`` issued waybills'
  containers at CNFOS, recorded as a ``gate_in`` journey event; ``transport_event`` rows.

Events/s are the rows the consumers added per second (counted in the database). Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import secrets
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stdnum import iso6346

from accounts import service as accounts
from accounts.schemas import OrganisationCreate, OrganisationRole, Principal
from api.examples import CREATE_WAYBILL_EXAMPLE
from bench.partners._common import (
    DEFAULT_AMQP_URL,
    DEFAULT_POSTGRES_URL,
    Rate,
    RawMessage,
    bench_database,
    configure,
    consume_raw,
    cpu_seconds,
    new_partner,
    new_partner_code,
    new_uscc,
    partner_topology,
    print_rates,
    publish_raw,
)
from core.db import create_engine, create_session_factory
from core.settings import Settings
from integrations.consumer import ConsumerStats
from integrations.partners import PartnerInfo
from integrations.runner import start_consumers
from integrations.schemas import NodeDocument, PartnerKind
from integrations.topology import INBOUND_EXCHANGE, inbound_queue
from tracking.models import VehiclePosition
from waybill.models import TransportEvent, WaybillChange
from waybill.schemas import WaybillCreate
from waybill.service import create_waybill

__all__ = ("main",)

AIM_PER_S = 5_000.0
"""The product's aim: inbound events applied per second."""
TERMINAL_LOCODE = "CNFOS"
"""Beijiao terminal, Foshan: where leg 1 of the example waybill arrives."""
TERMINAL_ZONE = ZoneInfo("Asia/Shanghai")
TABLES: dict[str, Any] = {"ack": WaybillChange, "positions": VehiclePosition, "codeco": TransportEvent}
"""The table each kind adds its rows to."""


# --- waybills ----------------------------------------------------------------------------------------


def new_container_number() -> str:
    """A fresh ISO 6346 container number with a valid check digit."""
    body = "BENU" + "".join(secrets.choice("0123456789") for _ in range(6))
    return body + iso6346.calc_check_digit(body)


async def _new_shipper(factory: async_sessionmaker[AsyncSession]) -> Principal:
    async with factory() as session, session.begin():
        data = OrganisationCreate(name="佛山顺德基准电器有限公司", role=OrganisationRole.SHIPPER, uscc=new_uscc())
        org = await accounts.create_organisation(session, data=data)
    return Principal(organisation_id=org.id, uscc=org.uscc, name=org.name, role=OrganisationRole.SHIPPER)


def _waybill_request(container: str) -> WaybillCreate:
    """The documented example waybill (road to CNFOS, barge to CNSHK) carrying ``container`` on both legs."""
    body = copy.deepcopy(CREATE_WAYBILL_EXAMPLE)
    body["shipper_reference"] = f"PO-{secrets.token_hex(5).upper()}"
    for leg in body["legs"]:
        leg["equipment"]["container_number"] = container
    return msgspec.convert(body, WaybillCreate)


async def issue_waybills(factory: async_sessionmaker[AsyncSession], count: int) -> list[tuple[str, str]]:
    """Issue ``count`` waybills through :func:`waybill.service.create_waybill`, each with its own container.

    Returns:
        (waybill number, container number) of each.
    """
    shipper = await _new_shipper(factory)
    issued: list[tuple[str, str]] = []
    for first in range(0, count, 100):
        async with factory() as session, session.begin():
            for _ in range(min(100, count - first)):
                container = new_container_number()
                created, _new = await create_waybill(session, principal=shipper, data=_waybill_request(container))
                issued.append((created.number, container))
    return issued


# --- messages ------------------------------------------------------------------------------------


def _node_envelope(document: NodeDocument, body: dict[str, Any]) -> tuple[str, bytes]:
    ref = str(uuid.uuid4())
    envelope = {
        "senderCode": "LOGINK",
        "recipientCode": "CN44FREIGHT",
        "documentName": document.value,
        "messageRef": ref,
        "timestamp": datetime.now(UTC).isoformat(),
        "body": body,
    }
    return ref, msgspec.json.encode(envelope)


def ack_message(index: int, waybills: Sequence[tuple[str, str]]) -> RawMessage:
    """The node accepting one of the waybills (message *i* about waybill *i* mod their number)."""
    number = waybills[index % len(waybills)][0]
    body = {
        "waybillNumber": number,
        "accepted": True,
        "inReplyTo": str(uuid.uuid4()),
        "nodeReference": f"LOGINK-{index:010d}",
    }
    ref, encoded = _node_envelope(NodeDocument.WAYBILL_ACK, body)
    return RawMessage(ref, NodeDocument.WAYBILL_ACK.value, number, encoded)


def positions_message(index: int, per_message: int, start: datetime) -> RawMessage:
    """GNSS fixes of one of 500 trucks, ``per_message`` seconds apart, each (plate, time) new."""
    plate = f"粤E{index % 500:05d}"
    first = start + timedelta(seconds=(index // 500) * per_message)
    fixes = [
        {
            "plate": plate,
            "time": (first + timedelta(seconds=k)).isoformat(),
            "lat": 22.80 + (index % 97) / 1000,
            "lon": 113.15 + k / 10_000,
            "speed": 54.0,
            "heading": 135.0,
        }
        for k in range(per_message)
    ]
    ref, encoded = _node_envelope(NodeDocument.POSITIONS, {"positions": fixes})
    return RawMessage(ref, NodeDocument.POSITIONS.value, plate, encoded)


def codeco_gate_in(*, container: str, at: datetime, interchange_ref: str, truck_plate: str) -> str:
    """A terminal's CODECO D95B gate-in of one full container at CNFOS (times in the terminal's local time)."""
    message_ref = interchange_ref[-8:]
    local = at.astimezone(TERMINAL_ZONE)
    message = Message(message_ref, ["CODECO", "D", "95B", "UN", "SMDG16"])
    message.add_segments(
        [
            Segment("BGM", "34", message_ref, "9"),
            Segment("NAD", "CF", ["CNFOSTERM", "160", "ZZZ"]),
            Segment("EQD", "CN", container, ["45G1", "102", "5"], "", "2", "5"),
            Segment("DTM", ["7", f"{local:%Y%m%d%H%M}", "203"]),
            Segment("LOC", "165", [TERMINAL_LOCODE, "139", "6"]),
            Segment("TDT", "1", "", "3", "", ["", "172", "ZZZ"], "", "", [truck_plate, "146"]),
            Segment("CNT", ["16", "1"]),
        ]
    )
    interchange = Interchange(
        sender="CNFOSTERM",
        recipient="CN44FREIGHT",
        control_reference=interchange_ref,
        syntax_identifier=("UNOC", 3),
        timestamp=local.replace(tzinfo=None),
    )
    interchange.add_message(message)
    return str(interchange.serialize())


def codeco_message(index: int, waybills: Sequence[tuple[str, str]], start: datetime, run: str) -> RawMessage:
    """Message *i* gates in the container of waybill *i* mod their number, one minute after the previous one."""
    number, container = waybills[index % len(waybills)]
    text = codeco_gate_in(
        container=container,
        at=start + timedelta(minutes=index // len(waybills)),
        interchange_ref=f"{run}{index:08d}",
        truck_plate=f"E{index % 900 + 100}K7",
    )
    return RawMessage(f"codeco-{run}-{index}", "CODECO", number, text.encode(), content_type="application/edifact")


def make_messages(args: argparse.Namespace, waybills: Sequence[tuple[str, str]]) -> list[RawMessage]:
    """``--messages`` messages of ``--kind``."""
    start = (datetime.now(UTC) - timedelta(days=3)).replace(second=0, microsecond=0)
    run = secrets.token_hex(3).upper()
    make: Callable[[int], RawMessage] = {
        "ack": lambda i: ack_message(i, waybills),
        "positions": lambda i: positions_message(i, args.positions, start),
        "codeco": lambda i: codeco_message(i, waybills, start, run),
    }[args.kind]
    return [make(index) for index in range(args.messages)]


# --- measuring -----------------------------------------------------------------------------------


async def count_rows(factory: async_sessionmaker[AsyncSession], table: Any) -> int:
    """Rows in ``table``."""
    async with factory() as session:
        return int(await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def settled(stats: ConsumerStats) -> int:
    """Messages the consumers are done with (parked ones come back later, so they are not)."""
    return stats.applied + stats.duplicates + stats.dead_lettered


def run_consumers(
    settings: Settings, partner: PartnerInfo, *, count: int, threads: int, batch_size: int, timeout_s: float
) -> tuple[float, float, ConsumerStats]:
    """Start the consumers and poll their totals until ``count`` messages are settled (or ``timeout_s``).

    Returns:
        Seconds from the start to the last message settled, this process's CPU seconds meanwhile,
        and the totals.
    """
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    group = start_consumers(settings, [partner], threads_per_queue=threads, batch_size=batch_size)
    try:
        deadline = started + timeout_s
        while settled(group.totals()) < count and time.perf_counter() < deadline:
            time.sleep(0.01)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
        return elapsed, cpu, group.totals()
    finally:
        group.close()


async def prepare(
    args: argparse.Namespace, factory: async_sessionmaker[AsyncSession]
) -> tuple[PartnerInfo, list[RawMessage]]:
    """The partner of ``--kind`` (registered after the waybills, so that they stage no pre-advice) and the messages."""
    waybills: list[tuple[str, str]] = []
    if args.kind in ("ack", "codeco"):
        started = time.perf_counter()
        waybills = await issue_waybills(factory, args.waybills)
        print(f"issued {len(waybills)} waybills in {time.perf_counter() - started:.1f} s", flush=True)
    if args.kind == "codeco":
        partner = await new_partner(factory, PartnerKind.TERMINAL, locode=TERMINAL_LOCODE)
    else:
        partner = await new_partner(factory, PartnerKind.NODE)
    messages = make_messages(args, waybills)
    size = sum(len(m.body) for m in messages) / len(messages)
    print(f"{len(messages)} {args.kind} messages of {size:.0f} bytes on average", flush=True)
    return partner, messages


def run(args: argparse.Namespace, database_url: str) -> int:
    """Set up, run the reference and the consumers, check the counts, print the report."""
    settings = configure(database_url, args.amqp_url)
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    loop = asyncio.new_event_loop()
    try:
        partner, messages = loop.run_until_complete(prepare(args, factory))
        reference_code = new_partner_code()
        with partner_topology(args.amqp_url, [partner.code, reference_code]):
            publish = args.amqp_url, INBOUND_EXCHANGE
            loop.run_until_complete(publish_raw(*publish, reference_code, messages, batch_size=1000))
            cpu_before = cpu_seconds()
            seconds = consume_raw(
                args.amqp_url,
                inbound_queue(reference_code),
                count=len(messages),
                batch_size=args.batch_size,
                threads=args.threads,
            )
            raw = Rate("raw pika consume + multi-ack", len(messages), seconds, cpu_seconds() - cpu_before)
            loop.run_until_complete(publish_raw(*publish, partner.code, messages, batch_size=1000))
            rows_before = loop.run_until_complete(count_rows(factory, TABLES[args.kind]))
            elapsed, cpu, totals = run_consumers(
                settings,
                partner,
                count=len(messages),
                threads=args.threads,
                batch_size=args.batch_size,
                timeout_s=args.timeout,
            )
            rows = loop.run_until_complete(count_rows(factory, TABLES[args.kind])) - rows_before
        return report(args, raw=raw, consumers=(elapsed, cpu, totals), rows=rows)
    finally:
        loop.run_until_complete(engine.dispose())
        loop.close()


def report(args: argparse.Namespace, *, raw: Rate, consumers: tuple[float, float, ConsumerStats], rows: int) -> int:
    """Print the figures and the counts; 0 if every message was applied once and nothing else happened."""
    elapsed, cpu, totals = consumers
    unit = {"ack": "changes", "positions": "fixes", "codeco": "events"}[args.kind]
    events = Rate(f"consumers: {args.kind} {unit} applied", rows, elapsed, cpu, unit=unit)
    messages = Rate("consumers: messages applied", totals.applied, elapsed, cpu)
    print(f"\nbackend {args.database}, {args.threads} consumer thread(s), batch size {args.batch_size}")
    print_rates([raw, messages, events], measured=events, reference=raw, aim_per_s=AIM_PER_S)
    expected_rows = args.messages * (args.positions if args.kind == "positions" else 1)
    ok = (
        totals.applied == args.messages
        and totals.duplicates == 0
        and totals.dead_lettered == 0
        and totals.parked == 0
        and rows == expected_rows
    )
    print(
        f"counts: received {totals.received}, applied {totals.applied} of {args.messages}, duplicates "
        f"{totals.duplicates}, parked {totals.parked}, dead-lettered {totals.dead_lettered}, batches {totals.batches}; "
        f"{TABLES[args.kind].__tablename__} rows added {rows} of {expected_rows}: {'ok' if ok else 'NOT ok'}"
    )
    return 0 if ok else 1


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000, help="messages to apply (default 10000)")
    parser.add_argument("--kind", choices=("ack", "positions", "codeco"), default="ack")
    parser.add_argument("--threads", type=int, default=1, help="consumer threads (and reference threads)")
    parser.add_argument("--batch-size", type=int, default=200, help="messages per transaction; prefetch is twice")
    parser.add_argument("--waybills", type=int, default=500, help="issued waybills (ack, codeco)")
    parser.add_argument("--positions", type=int, default=5, help="GNSS fixes per positions message")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up waiting for the consumers after S")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES_URL, help="PostgreSQL server URL without a database")
    parser.add_argument("--amqp-url", default=DEFAULT_AMQP_URL, help="RabbitMQ URL")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 1 if the counts are not what they should be."""
    args = parse_args(argv)
    with bench_database(args.database, args.postgres) as database_url:
        return run(args, database_url)


if __name__ == "__main__":
    raise SystemExit(main())
