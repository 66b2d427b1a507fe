"""The EDIFACT writers: every written message maps back to exactly the intended event, without warnings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from integrations.edifact import coarri_vessel_report, codeco_gate_report, coparn_preadvice, parse_events
from integrations.edifact.mapping import EdiEvent
from waybill.event_schemas import EventClassifier, EventType

AT = datetime(2026, 11, 20, 1, 35, tzinfo=UTC)  # 09:35 in Foshan
WAYBILL = "EW2611-7K3M9Q2X-T"
ENVELOPE: dict[str, Any] = {
    "sender": "CNFOSTERM",
    "recipient": "CN44FREIGHT",
    "interchange_ref": "I0001",
    "message_ref": "M0001",
}


def only_event(text: str) -> EdiEvent:
    """The single event ``text`` maps to; fails on any warning."""
    result = parse_events(text)
    assert result.warnings == []
    [event] = result.events
    assert event.warnings == ()
    return event


@pytest.mark.parametrize(("gate", "event_type"), [("in", EventType.GATE_IN), ("out", EventType.GATE_OUT)])
def test_a_codeco_gate_report_of_a_container_reads_back_as_its_gate_move(gate: Any, event_type: EventType) -> None:
    text = codeco_gate_report(
        **ENVELOPE,
        terminal_locode="CNFOS",
        gate=gate,
        event_time=AT,
        full=True,
        size_type="45G1",
        truck_plate="粤E3K721",
        container_number="CSQU3054383",
        booking="PO-DEMO-1001",
        waybill=WAYBILL,
    )

    event = only_event(text)
    assert (event.message_type, event.event_type, event.classifier) == ("CODECO", event_type, EventClassifier.ACTUAL)
    assert (event.event_time, event.time_zone, event.locode) == (AT, "Asia/Shanghai", "CNFOS")
    assert (event.container_number, event.equipment_type, event.full) == ("CSQU3054383", "45G1", True)
    assert event.vehicle_plate == "粤E3K721"
    assert event.references == {"booking": "PO-DEMO-1001", "waybill": WAYBILL}
    assert text.startswith("UNB+UNOW:4+")  # a Chinese plate needs UTF-8


def test_a_codeco_of_an_empty_trailer_with_seconds_reads_back_with_its_plate_and_time() -> None:
    at = AT.replace(second=42)
    text = codeco_gate_report(
        **ENVELOPE,
        terminal_locode="CNSHK",
        gate="in",
        event_time=at,
        full=False,
        trailer_plate="YUE-E2386",
        time_format="204",
    )

    event = only_event(text)
    assert (event.event_type, event.event_time, event.locode) == (EventType.GATE_IN, at, "CNSHK")
    assert (event.container_number, event.equipment_ref, event.full) == (None, "YUE-E2386", False)
    assert event.references == {}
    assert "DTM+7:20261120093542:204'" in text
    assert text.startswith("UNB+UNOC:3+")


@pytest.mark.parametrize(
    ("operation", "event_type", "port_segment"),
    [("load", EventType.LOADED, "LOC+9+CNFOS:139:6'"), ("discharge", EventType.DISCHARGED, "LOC+11+CNFOS:139:6'")],
)
def test_a_coarri_vessel_report_reads_back_as_a_load_or_discharge_at_the_port(
    operation: Any, event_type: EventType, port_segment: str
) -> None:
    text = coarri_vessel_report(
        **ENVELOPE,
        port_locode="CNFOS",
        operation=operation,
        event_time=AT,
        vessel_name="珠江驳1038",
        voyage="2611E",
        mode_code="8",
        full=True,
        container_number="CSQU3054383",
        waybill=WAYBILL,
        terminal_locode="CNFOS",
        stowage_position="0120382",
    )

    event = only_event(text)
    assert (event.message_type, event.event_type, event.classifier) == ("COARRI", event_type, EventClassifier.ACTUAL)
    assert (event.event_time, event.locode, event.container_number) == (AT, "CNFOS", "CSQU3054383")
    assert (event.vessel_name, event.voyage) == ("珠江驳1038", "2611E")
    assert event.references == {"waybill": WAYBILL}
    assert port_segment in text
    assert "LOC+147+0120382::5'" in text


def test_the_coparn_pre_advice_still_reads_back_as_a_planned_gate_in() -> None:
    text = coparn_preadvice(
        **ENVELOPE,
        terminal_locode="CNFOS",
        expected_arrival=AT,
        full=True,
        truck_plate="粤E3K721",
        container_number="CSQU3054383",
        waybill=WAYBILL,
    )

    event = only_event(text)
    assert (event.event_type, event.classifier, event.event_time) == (
        EventType.GATE_IN,
        EventClassifier.PLANNED,
        AT,
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"container_number": None}, "either a container number or a trailer plate"),
        ({"trailer_plate": "YUE-E2386"}, "either a container number or a trailer plate"),
        ({"event_time": AT.replace(tzinfo=None)}, "timezone-aware"),
        ({"port_locode": "USXXX"}, "no exact time zone"),
        ({"mode_code": "3"}, "water"),
    ],
)
def test_a_vessel_report_that_could_not_be_read_back_exactly_is_refused(changes: dict[str, Any], reason: str) -> None:
    arguments: dict[str, Any] = {
        **ENVELOPE,
        "port_locode": "CNFOS",
        "operation": "load",
        "event_time": AT,
        "vessel_name": "ZHUJIANG 18",
        "voyage": "2611E",
        "full": True,
        "container_number": "CSQU3054383",
        **changes,
    }
    with pytest.raises(ValueError, match=reason):
        coarri_vessel_report(**arguments)
