"""Consuming a terminal's EDIFACT: gate moves become journey events on the right waybill leg, once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from integrations.runner import start_consumers
from integrations.schemas import PartnerKind
from integrations.topology import dead_letter_queue, inbound_queue
from tests.conftest import settings_for
from tests.integrations.conftest import drain, issued_waybill, new_container_number, publish_inbound, wait_for

SHANGHAI = ZoneInfo("Asia/Shanghai")


def codeco(container: str, *, at: datetime, function: str = "34", waybill: str | None = None) -> bytes:
    """A CODECO gate report of the Beijiao terminal (CNFOS) for ``container``, local time."""
    reference = uuid.uuid4().hex[:12].upper()
    rff = f"RFF+AAS:{waybill}'" if waybill else ""
    segments = [
        "UNH+1+CODECO:D:95B:UN:SMDG16",
        f"BGM+{function}+{reference}+9",
        "TDT+1++3",
        "NAD+MS+CNFOSTERM",
        f"EQD+CN+{container}+45G1:102:5++2+5",
        *([rff.rstrip("'")] if rff else []),
        f"DTM+7:{at.astimezone(SHANGHAI):%Y%m%d%H%M}:203",
        "LOC+165+CNFOS:139:6",
        "CNT+16:1",
    ]
    body = "'".join(segments) + f"'UNT+{len(segments) + 1}+1'"
    return f"UNB+UNOC:3+CNFOSTERM+CN44FREIGHT+261120:0930+{reference}'{body}UNZ+1+{reference}'".encode()


async def test_a_gate_in_is_recorded_on_the_leg_arriving_at_the_terminal_once(
    database_url: str, make_partner: Any, amqp_channel: Any, client: Any, shipper: Any
) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS")
    container = new_container_number()
    number = await issued_waybill(client, shipper, container=container)
    gate_time = datetime.now(SHANGHAI).replace(second=0, microsecond=0) - timedelta(minutes=30)
    message = codeco(container, at=gate_time)
    publish_inbound(amqp_channel, terminal.code, message, message_id=None, content_type="application/edifact")
    publish_inbound(amqp_channel, terminal.code, message, message_id=None, content_type="application/edifact")

    group = start_consumers(settings_for(database_url), [terminal], batch_size=1)
    try:
        wait_for(lambda: group.totals().applied + group.totals().duplicates >= 2)
    finally:
        group.close()

    assert (group.totals().applied, group.totals().duplicates) == (1, 1)
    timeline = (await client.get(f"/v1/waybills/{number}/timeline", headers=shipper.headers)).json()
    gate_ins = [e for e in timeline["events"] if e["event_type"] == "gate_in"]
    assert len(gate_ins) == 1
    event = gate_ins[0]
    assert event["leg"] == 1
    assert event["source"] == "edi"
    assert event["place"]["locode"] == "CNFOS"
    assert event["equipment"]["container_number"] == container
    assert datetime.fromisoformat(event["event_time"]) == gate_time
    assert event["reported_by"]["uscc"] == terminal.principal.uscc


async def test_a_gate_out_is_recorded_on_the_leg_leaving_the_terminal_matched_by_waybill_number(
    database_url: str, make_partner: Any, amqp_channel: Any, client: Any, shipper: Any
) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS")
    container = new_container_number()
    number = await issued_waybill(client, shipper, container=container)
    other = new_container_number()  # the terminal reports another box, but names our waybill
    gate_out = datetime.now(SHANGHAI).replace(second=0, microsecond=0) - timedelta(minutes=5)
    publish_inbound(
        amqp_channel,
        terminal.code,
        codeco(other, at=gate_out, function="36", waybill=number),
        message_id="gate-out-1",
        content_type="application/edifact",
    )

    group = start_consumers(settings_for(database_url), [terminal])
    try:
        wait_for(lambda: group.totals().applied >= 1)
    finally:
        group.close()

    timeline = (await client.get(f"/v1/waybills/{number}/timeline", headers=shipper.headers)).json()
    [event] = [e for e in timeline["events"] if e["event_type"] == "gate_out"]
    assert event["leg"] == 2  # gate-out leaves CNFOS: the barge leg starts there


async def test_a_gate_move_of_an_unknown_container_is_parked_then_dead_lettered(
    database_url: str, make_partner: Any, amqp_channel: Any
) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS")
    unknown = new_container_number()
    publish_inbound(
        amqp_channel,
        terminal.code,
        codeco(unknown, at=datetime.now(SHANGHAI) - timedelta(hours=1)),
        message_id="unknown-box",
        content_type="application/edifact",
    )

    group = start_consumers(settings_for(database_url), [terminal], max_parks=1)
    try:
        wait_for(lambda: group.totals().dead_lettered >= 1)
    finally:
        group.close()

    assert group.totals().parked == 1
    [(properties, _)] = drain(amqp_channel, dead_letter_queue(inbound_queue(terminal.code)), expect=1)
    assert properties.headers["x-freight-reason"] == f"not applied after 1 tries: no active waybill matches {unknown}"


async def test_an_unreadable_interchange_is_dead_lettered_and_the_next_one_applied(
    database_url: str, make_partner: Any, amqp_channel: Any, client: Any, shipper: Any
) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS")
    container = new_container_number()
    number = await issued_waybill(client, shipper, container=container)
    publish_inbound(amqp_channel, terminal.code, b"HELLO WORLD", message_id="junk", content_type="application/edifact")
    publish_inbound(
        amqp_channel,
        terminal.code,
        codeco(container, at=datetime.now(SHANGHAI) - timedelta(minutes=10)),
        message_id="good",
        content_type="application/edifact",
    )

    group = start_consumers(settings_for(database_url), [terminal])
    try:
        wait_for(lambda: group.totals().applied >= 1 and group.totals().dead_lettered >= 1)
    finally:
        group.close()

    [(properties, body)] = drain(amqp_channel, dead_letter_queue(inbound_queue(terminal.code)), expect=1)
    assert body == b"HELLO WORLD"
    assert properties.headers["x-freight-reason"].startswith("unreadable: ")
    timeline = (await client.get(f"/v1/waybills/{number}/timeline", headers=shipper.headers)).json()
    assert [e["event_type"] for e in timeline["events"]] == ["gate_in"]


async def test_an_event_the_journey_rules_refuse_is_dead_lettered_with_the_rule(
    database_url: str, make_partner: Any, amqp_channel: Any, client: Any, shipper: Any
) -> None:
    terminal = await make_partner(PartnerKind.TERMINAL, locode="CNFOS")
    container = new_container_number()
    await issued_waybill(client, shipper, container=container)
    future = datetime.now(SHANGHAI) + timedelta(days=2)
    publish_inbound(
        amqp_channel,
        terminal.code,
        codeco(container, at=future),
        message_id="future",
        content_type="application/edifact",
    )

    group = start_consumers(settings_for(database_url), [terminal])
    try:
        wait_for(lambda: group.totals().dead_lettered >= 1)
    finally:
        group.close()

    [(properties, _)] = drain(amqp_channel, dead_letter_queue(inbound_queue(terminal.code)), expect=1)
    assert properties.headers["x-freight-reason"] == "refused: an actual event cannot be in the future"


async def test_a_customs_hold_from_cusres_puts_the_cargo_on_hold(
    database_url: str, make_partner: Any, amqp_channel: Any, client: Any, shipper: Any
) -> None:
    customs = await make_partner(PartnerKind.CUSTOMS, locode="CNFOS")
    container = new_container_number()
    number = await issued_waybill(client, shipper, container=container)
    at = datetime.now(SHANGHAI) - timedelta(minutes=20)
    message = (
        "UNB+UNOC:3+CNCUSTOMS+CN44FREIGHT+261120:0915+C0001'UNH+1+CUSRES:D:96B:UN'BGM++DEC2026000123+9'"
        f"DTM+7:{at:%Y%m%d%H%M}:203'LOC+22+CNFOS:139:6'RFF+AAS:{number}'GIS+HLD'"
        f"EQD+CN+{container}+45G1:102:5+++5'UNT+8+1'UNZ+1+C0001'"
    ).encode()
    publish_inbound(amqp_channel, customs.code, message, message_id="cusres-1", content_type="application/edifact")

    group = start_consumers(settings_for(database_url), [customs])
    try:
        wait_for(lambda: group.totals().applied >= 1)
    finally:
        group.close()

    timeline = (await client.get(f"/v1/waybills/{number}/timeline", headers=shipper.headers)).json()
    assert timeline["customs_hold"] is True
    [event] = timeline["events"]
    assert event["event_type"] == "customs_held"
    assert event["reported_by"]["uscc"] == customs.principal.uscc
